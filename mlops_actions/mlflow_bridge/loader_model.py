"""An MLflow models-from-code pyfunc for a command-trained model: the spec's ``train.loader`` serves it.

``export`` copies this file into the model directory, the loader's repository files under
``artifacts/code/`` (at their repository paths) and the command's artifact folder under ``artifacts/model/``.
When MLflow loads the model, ``load_context`` puts ``artifacts/code`` and the loader's folder on ``sys.path``,
runs the loader file and calls its function with the artifact folder's path; ``predict`` is that object's.
It imports only MLflow and the team's code, so the serving environment does not need mlops-actions. Nothing is
unpickled.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import mlflow
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

    def predict(self, context, model_input, params=None):  # no type hints: MLflow reads them as a schema
        return self.model.predict(model_input)


mlflow.models.set_model(LoadedModel())
