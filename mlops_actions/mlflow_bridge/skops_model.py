"""An MLflow models-from-code pyfunc that loads ``model.skops`` with mlops-actions' trusted-types rule.

Used by ``export`` when the installed MLflow's sklearn flavor cannot store skops. MLflow copies this file
into the model directory and runs it when the model is loaded; it imports only MLflow and skops, so the
serving environment does not need mlops-actions. Nothing is unpickled: skops refuses every type that is
neither trusted by skops itself nor in ``trusted_types``, the list mlops-actions checked at export.
"""

from __future__ import annotations

from typing import Any

import mlflow
from mlflow.pyfunc import PythonModel


class SkopsModel(PythonModel):
    def load_context(self, context: Any) -> None:
        import skops.io as sio

        path = context.artifacts["model"]
        trusted = set((context.model_config or {}).get("trusted_types") or ())
        untrusted = sio.get_untrusted_types(file=path)
        refused = sorted(set(untrusted) - trusted)
        if refused:
            raise ValueError(f"{path} holds types that were not trusted at export: {', '.join(refused)}")
        self.model = sio.load(path, trusted=untrusted)

    def predict(self, context, model_input, params=None):  # no type hints: MLflow reads them as a schema
        return self.model.predict(model_input)


mlflow.models.set_model(SkopsModel())
