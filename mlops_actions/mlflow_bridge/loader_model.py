"""An MLflow models-from-code pyfunc for a command-trained model: the spec's ``train.loader`` serves it.

``export`` copies this file into the model directory, the loader's repository files under
``artifacts/code/`` (at their repository paths) and the command's artifact folder under ``artifacts/model/``.
When MLflow loads the model, ``load_context`` puts ``artifacts/code`` and the loader's folder on ``sys.path``,
runs the loader file and calls its function with the artifact folder's path; ``predict`` is that object's.
A binary classifier trained with a ``threshold`` (``threshold``, ``positive_label`` and ``classes`` in the
config) predicts the positive class when its probability reaches the threshold, as train applied it to the
command's probabilities: the object must have ``predict_proba``, whose columns are its ``classes_`` when it has
them, else the data's classes in sorted order (``MLOPS_CLASSES``). It imports only MLflow and the team's code,
so the serving environment does not need mlops-actions. Nothing is unpickled.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class LoadedModel(PythonModel):
    def load_context(self, context: Any) -> None:
        path, _, function = str(context.model_config["loader"]).rpartition(":")
        code = Path(context.artifacts["code"])
        file = code / path
        for folder in (str(file.parent), str(code)):
            if folder not in sys.path:
                sys.path.insert(0, folder)
        spec = importlib.util.spec_from_file_location(f"mlops_loader_{file.stem}", file)
        if spec is None or spec.loader is None:
            raise ValueError(f"cannot load the loader file {path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        self.model = getattr(module, function)(context.artifacts["model"])
        config = context.model_config
        self.threshold, self.positive = config.get("threshold"), config.get("positive_label")
        if self.threshold is None:
            return
        if not callable(getattr(self.model, "predict_proba", None)):
            raise ValueError(f"the model decides at threshold {self.threshold}, but what the loader {path}:"
                             f"{function} returns has no predict_proba: return an object with predict_proba"
                             " (the positive class's probability) so that the threshold can be applied")
        own = getattr(self.model, "classes_", None)
        self.classes = [str(c) for c in (own if own is not None else config.get("classes") or ())]
        if self.positive not in self.classes or len(self.classes) != 2:
            raise ValueError(f"the model decides at threshold {self.threshold} on the probability of "
                             f"{self.positive!r}, but its classes are {self.classes}")

    # A DataFrame hint is one MLflow infers no schema from and validates nothing against (as without a hint),
    # and it keeps MLflow from warning, on every load, that the hints are missing
    def predict(self, context, model_input: pd.DataFrame, params=None):
        if self.threshold is None:
            return self.model.predict(model_input)
        import numpy as np  # the spec's threshold on the positive class's probability, as training applied it

        score = np.asarray(self.model.predict_proba(model_input))[:, self.classes.index(self.positive)]
        negative = next(c for c in self.classes if c != self.positive)
        return np.where(score >= self.threshold, self.positive, negative)


mlflow.models.set_model(LoadedModel())
