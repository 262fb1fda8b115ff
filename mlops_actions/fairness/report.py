"""The value object ``evaluate`` returns, and its deterministic JSON-ready form."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd


@dataclass(frozen=True, eq=False)
class FairnessReport:
    """Per-group metrics, overall metrics, summary disparities (with bootstrap intervals) and warnings.

    ``summary`` holds plain floats (NaN when undefined). With control features each value is the worst over
    the strata (largest difference, smallest ratio) and ``summary_by_stratum`` holds each stratum's values,
    keyed by the stratum label (``"age=young"``, ``"age=old, region=north"``).
    """

    task: str
    by_group: pd.DataFrame
    overall: pd.Series | pd.DataFrame
    summary: dict[str, float]
    summary_ci: dict[str, tuple[float, float]]
    warnings: list[str]
    sensitive_features: tuple[str, ...]
    control_features: tuple[str, ...] = ()
    summary_by_stratum: dict[str, dict[str, float]] = field(default_factory=dict)
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready and deterministic: NaN → None, numpy scalars → Python, keys sorted at every level."""
        data = {
            "task": self.task,
            "settings": self.settings,
            "sensitive_features": list(self.sensitive_features),
            "control_features": list(self.control_features),
            "groups": _rows(self.by_group, self.sensitive_features, self.control_features),
            "overall": _overall(self.overall, self.control_features),
            "summary": self.summary,
            "summary_ci": {k: {"lower": lo, "upper": hi} for k, (lo, hi) in self.summary_ci.items()},
            "summary_by_stratum": self.summary_by_stratum,
            "warnings": list(self.warnings),
        }
        return _plain(data)


def _rows(frame: pd.DataFrame, sensitive: tuple[str, ...], control: tuple[str, ...]) -> list[dict[str, Any]]:
    keys = frame.index.to_frame(index=False).to_dict(orient="records")
    rows = []
    for key, metrics in zip(keys, frame.to_dict(orient="records"), strict=True):  # one entry per group
        row = {"group": {name: key[name] for name in sensitive}, **metrics} if sensitive else dict(metrics)
        if control:
            row["control"] = {name: key[name] for name in control}
        rows.append(row)
    return rows


def _overall(overall: pd.Series | pd.DataFrame, control: tuple[str, ...]) -> Any:
    if isinstance(overall, pd.Series):
        return overall.to_dict()
    return _rows(overall, (), control)


def _plain(value: Any) -> Any:
    """Recursively: dict keys sorted (as str), numpy scalars → Python, NaN/inf → None, tuples → lists."""
    if isinstance(value, dict):
        return {str(k): _plain(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)
