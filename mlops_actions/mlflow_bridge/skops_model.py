"""An MLflow models-from-code pyfunc that loads ``model.skops`` with mlops-actions' trusted-types rule.

Used by ``export`` when the installed MLflow's sklearn flavor cannot store skops, when asked to
(``--flavor pyfunc``), and for a pipeline factory's model holding the repository's own types. MLflow copies
this file into the model directory and runs it when the model is loaded, after putting the model's ``code/``
folder (the repository modules a factory imported, when there are any) first on ``sys.path``; it imports only
MLflow and skops, so the serving environment does not need mlops-actions. A binary classifier trained with a
``threshold`` predicts the positive class when its probability reaches it (``threshold`` and ``positive_label``
in the model's config), as its held-out predictions were made. An estimator that learned integer codes for the
labels (XGBoost's classifiers: train encodes the classes in sorted order) answers with the labels the codes stand
for (``label_codes`` in the config, the record's), as predictions.parquet holds them. Nothing is unpickled:
skops refuses every type that is neither trusted by skops itself nor in ``trusted_types``, the list export
checked against the same rule as train and register (allowed prefixes, known-safe types, the repository's modules).
"""

from __future__ import annotations

from typing import Any

import mlflow
import pandas as pd
from mlflow.pyfunc import PythonModel


class SkopsModel(PythonModel):
    def load_context(self, context: Any) -> None:
        import skops.io as sio

        path = context.artifacts["model"]
        config = context.model_config or {}
        self.threshold = config.get("threshold")
        self.positive = config.get("positive_label")
        self.codes = config.get("label_codes")  # the class of each integer code, when the estimator learned codes
        trusted = set(config.get("trusted_types") or ())
        untrusted = sio.get_untrusted_types(file=path)
        refused = sorted(set(untrusted) - trusted)
        if refused:
            raise ValueError(f"{path} holds types that were not trusted at export: {', '.join(refused)}")
        self.model = sio.load(path, trusted=untrusted)

    # A DataFrame hint is one MLflow infers no schema from and validates nothing against (as without a hint),
    # and it keeps MLflow from warning, on every load, that the hints are missing
    def predict(self, context, model_input: pd.DataFrame, params=None):
        import numpy as np

        if self.threshold is None:
            predicted = self.model.predict(model_input)
            if not self.codes:
                return predicted
            return np.asarray(self.codes, dtype=object)[np.asarray(predicted).astype(int)]
        # the spec's threshold on the positive class's probability, as training applied it
        classes = list(self.codes) if self.codes else [str(c) for c in self.model.classes_]
        score = self.model.predict_proba(model_input)[:, classes.index(self.positive)]
        positive: Any = self.positive  # a label of any type (mypy reads numpy's overloads too narrowly)
        negative = next(c for c in classes if c != positive)
        return np.where(score >= self.threshold, positive, negative)


mlflow.models.set_model(SkopsModel())
