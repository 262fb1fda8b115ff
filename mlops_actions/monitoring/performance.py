"""The model's metrics on current data (labels + predictions) versus the metrics in its version record.

Metrics from labels and predicted values always; ``roc_auc`` and ``log_loss`` when current data carries
probabilities: a ``probability`` column (a binary model's positive class) or one ``probability_<class>``
column per class; else they are listed as skipped. Binary classification uses the spec's
``positive_label`` (else the last class in sorted order, as train does) for precision, recall, F1 and the
probability column; multi-class uses their macro average. Labels and predictions are compared as
text for classification (``1`` and ``"1"`` are one class) and as numbers for regression.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from mlops_actions.errors import InputError

FROM_LABELS = {"accuracy", "balanced_accuracy", "precision", "recall", "f1"}
FROM_VALUES = {"mae", "rmse", "r2", "mape"}
FROM_SCORES = {"roc_auc", "log_loss"}


@dataclass(frozen=True)
class MetricChange:
    name: str
    direction: str  # "higher" or "lower" is better
    recorded: float | None
    current: float
    verdict: str  # "pass" or "fail" (worse than recorded by more than the threshold)

    @property
    def delta(self) -> float | None:
        return None if self.recorded is None else self.current - self.recorded


@dataclass(frozen=True)
class Performance:
    changes: tuple[MetricChange, ...]
    skipped: tuple[str, ...]
    rows: int


@dataclass(frozen=True)
class Expected:
    """What metrics on current data are judged against: the model's task, its metrics (name → the better
    direction) and positive label, the values its version recorded, and the largest regression allowed."""

    task: str
    metrics: Mapping[str, str]
    recorded: Mapping[str, object]
    max_regression: float
    positive_label: object = None


def evaluate(labels: pd.Series, predictions: pd.Series, expected: Expected, *, display: str,
             scores: pd.DataFrame | None = None) -> Performance:
    """Each computable metric of ``expected.metrics`` on the rows with both a label and a prediction."""
    task, positive_label = expected.task, expected.positive_label
    keep = labels.notna().to_numpy() & predictions.notna().to_numpy()
    if scores is not None:
        keep &= scores.notna().all(axis=1).to_numpy()
    y_true, y_pred = _values(labels[keep], predictions[keep], task, display)
    computable = FROM_LABELS if task == "classification" else FROM_VALUES
    if scores is not None and task == "classification":
        computable = computable | FROM_SCORES
    changes = []
    for name, direction in expected.metrics.items():
        if name in computable and y_true.size:
            value = (_score_metric(name, y_true, scores[keep], positive_label, display)
                     if name in FROM_SCORES and scores is not None
                     else _metric(name, y_true, y_pred, positive_label))
            if value is not None:
                changes.append(_change(name, direction, value, expected.recorded.get(name), expected.max_regression))
    skipped = tuple(name for name in expected.metrics if name not in computable)
    return Performance(tuple(changes), skipped, int(y_true.size))


def _values(labels: pd.Series, predictions: pd.Series, task: str, display: str) -> tuple[np.ndarray, np.ndarray]:
    if task == "classification":
        return labels.astype(str).to_numpy(), predictions.astype(str).to_numpy()
    try:
        return labels.astype("float64").to_numpy(), predictions.astype("float64").to_numpy()
    except (TypeError, ValueError):
        raise InputError(f"{display}: the target and prediction columns must be numbers for a regression "
                         "model") from None


def _change(name: str, direction: str, value: float, recorded: object, max_regression: float) -> MetricChange:
    base = float(recorded) if isinstance(recorded, int | float) and not isinstance(recorded, bool) else None
    worse_by = 0.0 if base is None else (base - value if direction == "higher" else value - base)
    return MetricChange(name, direction, base, value, "fail" if worse_by > max_regression else "pass")


def _metric(name: str, y_true: np.ndarray, y_pred: np.ndarray, positive_label: object) -> float:
    from sklearn import metrics as m

    simple: dict[str, Callable[..., float]] = {
        "accuracy": m.accuracy_score, "balanced_accuracy": m.balanced_accuracy_score,
        "mae": m.mean_absolute_error, "r2": m.r2_score, "mape": m.mean_absolute_percentage_error,
    }
    if name in simple:
        return float(simple[name](y_true, y_pred))
    if name == "rmse":
        return float(np.sqrt(m.mean_squared_error(y_true, y_pred)))
    scorer = {"precision": m.precision_score, "recall": m.recall_score, "f1": m.f1_score}[name]
    return float(scorer(y_true, y_pred, zero_division=0, **_averaging(y_true, y_pred, positive_label)))


def _averaging(y_true: np.ndarray, y_pred: np.ndarray, positive_label: object) -> dict[str, object]:
    classes = set(y_true) | set(y_pred)
    if len(classes) <= 2 and positive_label is not None and str(positive_label) in classes:
        return {"average": "binary", "pos_label": str(positive_label)}
    return {"average": "macro"}


def _score_metric(name: str, y_true: np.ndarray, scores: pd.DataFrame, positive_label: object,
                  display: str) -> float | None:
    """ROC AUC or log loss from probability columns; None when the labels hold one class only."""
    from sklearn import metrics as m

    try:
        probs = scores.to_numpy(dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{display}: the probability column(s) must hold numbers") from None
    if ((probs < 0) | (probs > 1)).any():
        raise InputError(f"{display}: probabilities must lie between 0 and 1",
                         hint="write the model's predict_proba output, not a score or a logit")
    classes = sorted(set(y_true))
    if len(classes) < 2:
        return None
    if list(scores.columns) == ["probability"]:
        positive = str(positive_label) if positive_label is not None and str(positive_label) in classes \
            else classes[-1]
        truth, p = y_true == positive, probs[:, 0]
        return float(m.roc_auc_score(truth, p) if name == "roc_auc" else m.log_loss(truth, p, labels=[False, True]))
    order = [str(c).removeprefix("probability_") for c in scores.columns]
    missing = [c for c in classes if c not in order]
    if missing:
        raise InputError(f"{display}: no probability column for class(es) {', '.join(map(repr, missing))}",
                         hint="give one 'probability_<class>' column per class")
    if name == "roc_auc":
        return float(m.roc_auc_score(y_true, probs, multi_class="ovr", labels=order))
    return float(m.log_loss(y_true, probs, labels=order))
