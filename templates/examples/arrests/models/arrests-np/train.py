"""The arrests-np trainer: logistic regression by gradient descent in plain numpy, under the command contract.

mlops-actions runs ``python models/arrests-np/train.py`` with MLOPS_TRAIN / MLOPS_TEST (parquet; the held-out
rows have no target), MLOPS_PARAMS (JSON), MLOPS_SEED and MLOPS_OUT in the environment. It writes its model to
$MLOPS_OUT/model/ and its held-out predictions to $MLOPS_OUT/predictions.parquet (row_id, prediction, score).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd

FEATURES = ["year", "age", "checks", "employed", "citizen"]


def matrix(frame: pd.DataFrame, mean: np.ndarray, scale: np.ndarray) -> np.ndarray:
    values = frame[FEATURES].astype(float).fillna(0.0).to_numpy()
    return np.column_stack([np.ones(len(values)), (values - mean) / scale])


def fit(X: np.ndarray, y: np.ndarray, steps: int, rate: float, l2: float) -> np.ndarray:
    weights = np.zeros(X.shape[1])
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-X @ weights))
        weights -= rate * (X.T @ (p - y) / len(y) + l2 * np.r_[0.0, weights[1:]])
    return weights


def main() -> None:
    params = json.loads(os.environ["MLOPS_PARAMS"])
    target, positive = os.environ["MLOPS_TARGET"], os.environ["MLOPS_POSITIVE_LABEL"]
    train, test = pd.read_parquet(os.environ["MLOPS_TRAIN"]), pd.read_parquet(os.environ["MLOPS_TEST"])
    raw = train[FEATURES].astype(float).fillna(0.0).to_numpy()
    mean, scale = raw.mean(axis=0), raw.std(axis=0) + 1e-12
    y = (train[target] == positive).to_numpy(dtype=float)
    weights = fit(matrix(train, mean, scale), y, params.get("steps", 500), params.get("rate", 0.5),
                  params.get("l2", 0.0))
    negative = next(c for c in json.loads(os.environ["MLOPS_CLASSES"]) if c != positive)
    out = Path(os.environ["MLOPS_OUT"])
    (out / "model").mkdir(parents=True, exist_ok=True)
    model = {"features": FEATURES, "mean": mean.tolist(), "scale": scale.tolist(), "weights": weights.tolist(),
             "classes": [negative, positive]}  # load.py (train.loader) serves it from this file
    (out / "model" / "weights.json").write_text(json.dumps(model, indent=2) + "\n", encoding="utf-8")
    score = 1.0 / (1.0 + np.exp(-matrix(test, mean, scale) @ weights))
    predictions = pd.DataFrame({"row_id": test["row_id"], "prediction": np.where(score >= 0.5, positive, negative),
                                "score": score})
    predictions.to_parquet(out / "predictions.parquet", index=False)
    print(f"trained on {len(train)} rows; weights {np.round(weights, 3).tolist()}")


if __name__ == "__main__":
    main()
