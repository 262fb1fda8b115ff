"""The monitor's pure core: reference and current tables in, a ``MonitorResult`` out.

Columns are compared in a small thread pool (numpy's sorts and ufuncs release the GIL); results keep the
order of the columns given, so the output is deterministic whatever the scheduling.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_actions.monitoring.data import NUMERIC
from mlops_actions.monitoring.drift import ColumnDrift, categorical_drift, level_counts, numeric_drift
from mlops_actions.monitoring.fairness_check import FairnessChange
from mlops_actions.monitoring.performance import MetricChange
from mlops_actions.monitoring.thresholds import FAIL, Thresholds, judge, worst

FEATURE, PREDICTION, TARGET = "feature", "prediction", "target"
PREDICTION_COLUMN = "prediction"


@dataclass(frozen=True)
class Column:
    """A column to compare: its name in each table, its kind (numeric/categorical) and its role."""

    name: str
    kind: str
    role: str = FEATURE
    reference_name: str | None = None  # when the reference holds it under another name

    @property
    def source(self) -> str:
        return self.reference_name or self.name


@dataclass(frozen=True)
class ColumnResult:
    name: str
    role: str
    drift: ColumnDrift
    verdict: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class MonitorResult:
    """Everything a report needs. ``verdict`` is the worst of every column's and metric's verdict."""

    model: str
    version: str | None
    environment: str | None
    reference: str
    current: str
    reference_rows: int
    current_rows: int
    thresholds: Thresholds
    columns: tuple[ColumnResult, ...]
    metrics: tuple[MetricChange, ...] = ()
    fairness: tuple[FairnessChange, ...] = ()
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return worst([*(c.verdict for c in self.columns), *(m.verdict for m in self.metrics),
                      *(f.verdict for f in self.fairness)])

    @property
    def drift(self) -> bool:
        """True when a column's drift failed: the exit code is 1 and the ``drift`` output ``true``."""
        return any(c.verdict == FAIL for c in self.columns)

    @property
    def retrain(self) -> bool:
        """True when drift failed, or on current data a metric regressed or a fairness gate failed."""
        return self.verdict == FAIL


def compare(reference: pd.DataFrame, current: pd.DataFrame, columns: tuple[Column, ...],
            thresholds: Thresholds, workers: int | None = None) -> tuple[ColumnResult, ...]:
    """Drift statistics and verdict of each column (numeric columns must already be float64)."""
    def one(column: Column) -> ColumnResult:
        stats = column_drift(reference[column.source], current[column.name], column.kind, thresholds.bins)
        verdict, reasons = judge(stats, thresholds)
        return ColumnResult(column.name, column.role, stats, verdict, reasons)

    pool_size = workers or min(len(columns), os.cpu_count() or 1) or 1
    with ThreadPoolExecutor(max_workers=pool_size) as pool:  # even for one: its scratch buffers end with it
        return tuple(pool.map(one, columns))


def column_drift(reference: pd.Series, current: pd.Series, kind: str, bins: int) -> ColumnDrift:
    if kind == NUMERIC:
        return numeric_drift(_floats(reference), _floats(current), bins)
    return categorical_drift(level_counts(reference), level_counts(current))


def _floats(series: pd.Series) -> np.ndarray:
    return series.to_numpy(dtype=np.float64, na_value=np.nan)


def monitored_columns(features: Mapping[str, str], kinds: Mapping[str, str]) -> tuple[Column, ...]:
    """The feature columns to compare (text features are left out), in spec order."""
    return tuple(Column(name, kinds[ftype]) for name, ftype in features.items() if kinds[ftype] != "text")
