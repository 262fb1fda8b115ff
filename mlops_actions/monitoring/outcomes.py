"""Model metrics and fairness on current data larger than memory: one streamed pass over the label,
prediction and group columns, additive state only.

Classification metrics come from the counts of each (label, prediction) pair, handed to scikit-learn as
sample weights, so they equal the in-memory ``performance.evaluate`` exactly. Regression metrics come from
sums (n, Σ|e|, Σe², Σy, Σy², Σ|e|/max(|y|, ε)); R² uses the running mean's sums of squares. Fairness comes
from ``monitoring.fairness_check.FairnessCells`` (rows per distinct group, label and prediction),
measured as in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from mlops_actions.convention.model import ModelSpec
from mlops_actions.monitoring.engine import PREDICTION_COLUMN
from mlops_actions.monitoring.fairness_check import FairnessCells
from mlops_actions.monitoring.performance import FROM_LABELS, FROM_VALUES, Expected, Performance, _change
from mlops_actions.monitoring.stream import TableSource, batches

_EPS = np.finfo(np.float64).eps


@dataclass
class LabelPairs:
    """Counts of each (label, prediction) pair of a classifier, labels as text."""

    counts: dict[tuple[str, str], int] = field(default_factory=dict)

    def add(self, labels: pd.Series, predictions: pd.Series) -> None:
        pairs = pd.DataFrame({"t": labels.astype(str), "p": predictions.astype(str)}).groupby(["t", "p"]).size()
        for (t, p), n in pairs.items():
            self.counts[(t, p)] = self.counts.get((t, p), 0) + int(n)

    def metric(self, name: str, positive_label: object) -> float:
        keys = sorted(self.counts)
        weights = np.array([self.counts[k] for k in keys], dtype=np.float64)
        y_true = np.array([k[0] for k in keys], dtype=object)
        y_pred = np.array([k[1] for k in keys], dtype=object)
        return _weighted(name, y_true, y_pred, weights, positive_label)

    @property
    def rows(self) -> int:
        return sum(self.counts.values())


def _weighted(name: str, y_true: np.ndarray, y_pred: np.ndarray, weights: np.ndarray,
              positive_label: object) -> float:
    from sklearn import metrics as m

    if name == "accuracy":
        return float(m.accuracy_score(y_true, y_pred, sample_weight=weights))
    if name == "balanced_accuracy":
        return float(m.balanced_accuracy_score(y_true, y_pred, sample_weight=weights))
    scorer = {"precision": m.precision_score, "recall": m.recall_score, "f1": m.f1_score}[name]
    classes = set(y_true) | set(y_pred)
    binary = len(classes) <= 2 and positive_label is not None and str(positive_label) in classes
    averaging: dict[str, Any] = {"average": "binary", "pos_label": str(positive_label)} if binary else {
        "average": "macro"}
    return float(scorer(y_true, y_pred, zero_division=0, sample_weight=weights, **averaging))


@dataclass
class ValueSums:
    """Sums of a regressor's errors and labels."""

    n: int = 0
    abs_error: float = 0.0
    sq_error: float = 0.0
    y: float = 0.0
    y_sq: float = 0.0
    pct: float = 0.0

    def add(self, labels: pd.Series, predictions: pd.Series) -> None:
        y, p = labels.to_numpy(dtype=np.float64), predictions.to_numpy(dtype=np.float64)
        error = p - y
        self.n += y.size
        self.abs_error += float(np.abs(error).sum())
        self.sq_error += float(np.square(error).sum())
        self.y += float(y.sum())
        self.y_sq += float(np.square(y).sum())
        self.pct += float((np.abs(error) / np.maximum(np.abs(y), _EPS)).sum())

    def metric(self, name: str) -> float:
        total = self.y_sq - self.y * self.y / self.n
        values = {"mae": self.abs_error / self.n, "rmse": float(np.sqrt(self.sq_error / self.n)),
                  "mape": self.pct / self.n, "r2": 1.0 - self.sq_error / total if total > 0 else 0.0}
        return float(values[name])


def streamed_outcomes(source: TableSource, spec: ModelSpec, expected: Expected, *, fairness: bool,
                      prediction: str = PREDICTION_COLUMN) -> tuple[Performance, FairnessCells | None]:
    """Metrics of the current data judged against ``expected`` (as ``performance.evaluate`` judges a table in
    memory), and per-group cells when ``fairness``, in one pass of batches over the target, ``prediction``
    and group columns of ``spec``."""
    target = spec.data.target
    groups = [*spec.data.sensitive, *spec.data.control] if fairness else []
    names = list(dict.fromkeys([target, prediction, *groups]))
    numeric = [target, prediction] if expected.task == "regression" else []
    state: LabelPairs | ValueSums = LabelPairs() if expected.task == "classification" else ValueSums()
    stream = FairnessCells(spec, source.display) if fairness else None
    for batch in batches(source, names, numeric):
        frame = batch.to_pandas()
        frame = frame[frame[target].notna() & frame[prediction].notna()]
        state.add(frame[target], frame[prediction])
        if stream is not None:
            stream.add(frame[target], frame[prediction], frame[groups])
    return _performance(state, expected), stream


def _performance(state: LabelPairs | ValueSums, expected: Expected) -> Performance:
    computable = FROM_LABELS if expected.task == "classification" else FROM_VALUES
    rows = state.rows if isinstance(state, LabelPairs) else state.n
    changes = []
    for name, direction in expected.metrics.items():
        if name in computable and rows:
            value = (state.metric(name, expected.positive_label) if isinstance(state, LabelPairs)
                     else state.metric(name))
            changes.append(_change(name, direction, value, expected.recorded.get(name), expected.max_regression))
    return Performance(tuple(changes), tuple(n for n in expected.metrics if n not in computable), rows)

