"""Derived inputs of the declarative path: a ``datetime`` feature becomes its year, month and day of week.

The expansion happens before the scikit-learn pipeline (which then treats the three as numeric), so the saved
model holds scikit-learn types only; ``model_frame`` is applied the same way wherever the model predicts.
Factories and commands get the datetime column itself.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

DATETIME_PARTS = ("year", "month", "day_of_week")


def expanded_names(name: str) -> list[str]:
    return [f"{name}__{part}" for part in DATETIME_PARTS]


def numeric_inputs(features: Mapping[str, str]) -> list[str]:
    """Columns the numeric preprocessing gets: numeric features and the parts of datetime features."""
    names: list[str] = []
    for name, kind in features.items():
        if kind == "numeric":
            names.append(name)
        elif kind == "datetime":
            names += expanded_names(name)
    return names


def model_frame(X: pd.DataFrame, features: Mapping[str, str]) -> pd.DataFrame:
    """``X`` with each datetime feature replaced by its parts (float, NaN where the date is missing)."""
    dated = [name for name, kind in features.items() if kind == "datetime"]
    if not dated:
        return X
    columns = {}
    for name in X.columns:
        if name not in dated:
            columns[name] = X[name]
            continue
        values = pd.to_datetime(X[name])
        for part, column in zip(DATETIME_PARTS, expanded_names(name), strict=True):
            columns[column] = getattr(values.dt, part).astype("float64")
    return pd.DataFrame(columns, index=X.index)
