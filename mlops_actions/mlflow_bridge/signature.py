"""The model's input and output columns, from its version record (pure; no MLflow import here).

A record lists the training data's columns with their pandas dtypes after our checks (features and the
target; sensitive columns only when they are features). The model's own ``feature_names_in_`` says which
of them it reads and in which order; the one column left over is the target.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_actions.errors import InputError

# pandas dtype -> MLflow column type
MLFLOW_TYPES = {"float64": "double", "float32": "float", "int64": "long", "int32": "integer", "int16": "integer",
                "int8": "integer", "uint8": "integer", "bool": "boolean", "boolean": "boolean", "object": "string",
                "string": "string", "str": "string", "category": "string"}


@dataclass(frozen=True)
class Columns:
    """Input columns (name, MLflow type) in the model's order, and the type of what it predicts."""

    inputs: tuple[tuple[str, str], ...]
    output: str

    @property
    def names(self) -> list[str]:
        return [name for name, _ in self.inputs]


def mlflow_type(dtype: str) -> str:
    if dtype.startswith("datetime64"):
        return "datetime"
    return MLFLOW_TYPES.get(dtype, "string")


def record_dtypes(record: Mapping[str, Any]) -> dict[str, str]:
    """Column -> dtype of the record's data file (the entry that lists columns)."""
    for entry in record.get("data") or ():
        if isinstance(entry.get("columns"), Mapping) and entry["columns"]:
            return {str(k): str(v) for k, v in entry["columns"].items()}
    return {}


def columns_of(record: Mapping[str, Any], features: Sequence[str], label: str) -> Columns:
    """The signature's columns: ``features`` typed by the record; the output typed like the target."""
    dtypes = record_dtypes(record)
    missing = [name for name in features if name not in dtypes]
    if missing:
        raise InputError(f"{label}: the model reads column(s) {', '.join(missing)} that its record does not list",
                         hint="the record and the artifact do not belong together; train the model again")
    rest = [name for name in dtypes if name not in features]
    output = "double" if record.get("task") == "regression" else \
        mlflow_type(dtypes[rest[0]]) if len(rest) == 1 else "string"
    return Columns(tuple((name, mlflow_type(dtypes[name])) for name in features), output)
