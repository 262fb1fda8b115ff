"""The arrests-np model for serving: ``train.loader`` in model.yaml names ``load``.

``mlops-actions export`` wraps it as an MLflow models-from-code pyfunc: MLflow calls ``load`` with the path
of the artifact folder train.py wrote (weights.json), and the server answers with ``predict``. Reading JSON
runs no code, so nothing here unpickles anything. The arithmetic is train.py's, so the server's answers are
the predictions the command made for the held-out rows.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd


class Model:
    def __init__(self, saved: dict) -> None:
        self.features = list(saved["features"])
        self.mean, self.scale = np.asarray(saved["mean"]), np.asarray(saved["scale"])
        self.weights = np.asarray(saved["weights"])
        self.negative, self.positive = saved["classes"]

    def predict_proba(self, frame: pd.DataFrame) -> np.ndarray:
        values = frame[self.features].astype(float).fillna(0.0).to_numpy()
        score = 1.0 / (1.0 + np.exp(-np.column_stack([np.ones(len(values)), (values - self.mean) / self.scale])
                                    @ self.weights))
        return np.column_stack([1.0 - score, score])

    def predict(self, frame: pd.DataFrame) -> np.ndarray:
        return np.where(self.predict_proba(frame)[:, 1] >= 0.5, self.positive, self.negative)


def load(path: str) -> Model:
    return Model(json.loads((Path(path) / "weights.json").read_text(encoding="utf-8")))
