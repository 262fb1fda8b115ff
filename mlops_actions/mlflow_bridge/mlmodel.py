"""The files of an MLflow model directory besides the model itself, written without importing MLflow.

``import mlflow`` takes seconds (it imports its tracking client, GenAI helpers, pandas and more); ``export``
only needs to write a few small text files in MLflow's layout: ``MLmodel`` (YAML), ``conda.yaml``,
``python_env.yaml``, ``requirements.txt`` and the input example. They are written here exactly as MLflow's
own writer lays them out (tests load the result with ``mlflow.pyfunc.load_model`` and serve it with
``mlflow models serve``), with fixed values where MLflow would use the clock or a random id.
"""

from __future__ import annotations

import json
import math
import platform
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import yaml

from mlops_actions.mlflow_bridge.signature import Columns

MLMODEL = "MLmodel"
CONDA, VIRTUALENV, REQUIREMENTS = "conda.yaml", "python_env.yaml", "requirements.txt"
EXAMPLE, SERVING_EXAMPLE = "input_example.json", "serving_input_example.json"
ENV = {"conda": CONDA, "virtualenv": VIRTUALENV}


def installed(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


def python_version() -> str:
    return platform.python_version()


def write_environment(build: Path, requirements: Sequence[str]) -> None:
    """``requirements.txt`` (MLflow first, as MLflow writes it), and the conda and virtualenv files naming it."""
    pins = [f"mlflow=={installed('mlflow')}", *requirements]
    (build / REQUIREMENTS).write_text("\n".join(pins), encoding="utf-8")
    pip = installed("pip")
    conda = {"channels": ["conda-forge"], "name": "mlflow-env",
             "dependencies": [f"python={python_version()}", *([f"pip<={pip}"] if pip else ["pip"]), {"pip": pins}]}
    (build / CONDA).write_text(yaml.safe_dump(conda, default_flow_style=False), encoding="utf-8")
    tools = [f"{name}=={found}" if (found := installed(name)) else name for name in ("pip", "setuptools", "wheel")]
    lines = [f"python: {python_version()}", "build_dependencies:", *(f"- {t}" for t in tools),
             "dependencies:", f"- -r {REQUIREMENTS}"]
    (build / VIRTUALENV).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_example(build: Path, frame: Any) -> dict[str, str]:
    """The input example (pandas ``split`` orient, as MLflow saves a DataFrame) and its serving request."""
    columns = [str(c) for c in frame.columns]
    data = [[_plain(value) for value in row] for row in frame.itertuples(index=False, name=None)]
    (build / EXAMPLE).write_text(json.dumps({"columns": columns, "data": data}), encoding="utf-8")
    request = {"dataframe_split": {"columns": columns, "data": data}}
    (build / SERVING_EXAMPLE).write_text(json.dumps(request, indent=2), encoding="utf-8")
    return {"artifact_path": EXAMPLE, "pandas_orient": "split", "serving_input_path": SERVING_EXAMPLE,
            "type": "dataframe"}


def _plain(value: Any) -> Any:
    """A JSON value: numpy scalars as Python values, NaN as null (what pandas' JSON writer does)."""
    item = value.item() if hasattr(value, "item") else value
    if isinstance(item, float) and math.isnan(item):
        return None
    return item if isinstance(item, str | int | float | bool) or item is None else str(item)


def signature(columns: Columns) -> dict[str, Any]:
    inputs = [{"type": kind, "name": name, "required": True} for name, kind in columns.inputs]
    return {"inputs": json.dumps(inputs), "outputs": json.dumps([{"type": columns.output, "required": True}]),
            "params": None}


@dataclass(frozen=True)
class ModelIdentity:
    """Which model version an ``MLmodel`` describes: its ``model_uuid``, its ``utc_time_created`` and its
    ``metadata`` (all derived from the version record, so an export is reproducible)."""

    uuid: str
    created: str
    metadata: Mapping[str, Any]


def write_mlmodel(build: Path, flavors: Mapping[str, Any], identity: ModelIdentity, *,
                  columns: Columns | None = None, example: Mapping[str, str] | None = None) -> None:
    """``MLmodel``: the header MLflow 3 writes, its size being that of the files written so far."""
    info: dict[str, Any] = {
        "flavors": dict(flavors), "is_signature_from_type_hint": False, "metadata": dict(identity.metadata),
        "mlflow_version": installed("mlflow"), "model_id": None,
        "model_size_bytes": sum(p.stat().st_size for p in build.rglob("*") if p.is_file()),
        "model_uuid": identity.uuid, "prompts": None, "type_hint_from_example": False,
        "utc_time_created": identity.created}
    if columns is not None:
        info["signature"] = signature(columns)
    if example is not None:
        info["saved_input_example_info"] = dict(example)
    (build / MLMODEL).write_text(yaml.safe_dump(info, default_flow_style=False), encoding="utf-8")


def pyfunc_flavor(**conf: Any) -> dict[str, Any]:
    """The ``python_function`` flavor block with the environment files and this interpreter's version."""
    return {"env": dict(ENV), "python_version": python_version(), **conf}
