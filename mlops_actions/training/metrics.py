"""Held-out metrics: only those the spec asks for, each a float or None (undefined), with notes on why.

A name is a built-in metric (below), any scikit-learn scorer name (``average_precision``, ``f1_macro``,
``neg_log_loss``: computed from the predictions with the scorer's own function, sign and arguments, so it works
for commands too), or a repository metric: a function ``f(y_true, y_pred, y_score)`` resolved by the caller.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Predictions:
    """What the metrics need: true and predicted labels, class probabilities when the model has them."""

    y_true: np.ndarray
    y_pred: np.ndarray
    proba: np.ndarray | None = None
    classes: tuple[Any, ...] = ()
    pos_label: Any = None

    @property
    def binary(self) -> bool:
        return len(self.classes) == 2

    @property
    def y_score(self) -> np.ndarray | None:
        """Probability of the positive class (binary classifiers with ``predict_proba``)."""
        if self.proba is None or not self.binary or self.pos_label not in self.classes:
            return None
        column: np.ndarray = self.proba[:, self.classes.index(self.pos_label)]
        return column


def with_threshold(preds: Predictions, threshold: float | None) -> Predictions:
    """Binary predictions at ``threshold`` on the positive class's probability (unchanged without one)."""
    score = preds.y_score
    if threshold is None or score is None:
        return preds
    negative = next(c for c in preds.classes if c != preds.pos_label)
    y_pred = np.where(score >= threshold, preds.pos_label, negative).astype(preds.y_true.dtype, copy=False)
    return Predictions(preds.y_true, y_pred, preds.proba, preds.classes, preds.pos_label)


RepoMetric = Callable[..., Any]


class MetricFailed(Exception):
    """A repository metric raised, or returned what is not a number (``returned``: its short repr): the caller
    turns it into an error at the metric's key in the spec."""

    def __init__(self, name: str, cause: BaseException, returned: str | None = None) -> None:
        super().__init__(f"{type(cause).__name__}: {cause}")
        self.name = name
        self.cause = cause
        self.returned = returned


@dataclass(frozen=True)
class MetricResult:
    values: Mapping[str, float | None]
    notes: tuple[str, ...] = ()


def compute(task: str, names: Sequence[str], preds: Predictions,
            repo: Mapping[str, RepoMetric] | None = None) -> MetricResult:
    """Each metric in ``names`` (sorted) on the held-out predictions; ``repo`` holds the repository metrics.
    A repository metric that raises is ``MetricFailed``; a built-in or scorer that is undefined is None."""
    table = _CLASSIFICATION if task == "classification" else _REGRESSION
    values: dict[str, float | None] = {}
    notes: list[str] = []
    for name in sorted(names):
        if repo is not None and name in repo:
            value, note = _repo_metric(name, repo[name], preds)
        else:
            value, note = _one(table.get(name) or scorer_metric(name), preds)
        values[name] = value
        if note:
            notes.append(f"{name}: {note}")
    return MetricResult(values, tuple(notes))


def _one(func: Callable[[Predictions], float | None], preds: Predictions) -> tuple[float | None, str | None]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            value = func(preds)
    except _Undefined as exc:
        return None, str(exc)
    except ValueError as exc:
        return None, f"undefined on this held-out split ({exc})"
    if value is None or not math.isfinite(value):
        return None, "undefined on this held-out split (not a finite number)"
    return float(value), None


def _repo_metric(name: str, func: RepoMetric, preds: Predictions) -> tuple[float | None, str | None]:
    score = preds.y_score if preds.binary else preds.proba
    try:
        value = func(preds.y_true, preds.y_pred, score)
    except Exception as exc:  # the repository's own code: any failure is the team's to fix
        raise MetricFailed(name, exc) from exc
    try:
        number = None if value is None else float(value)
    except (TypeError, ValueError) as exc:  # a string, a list, an array of many values
        shown = " ".join(repr(value).split())
        raise MetricFailed(name, exc, shown if len(shown) <= 80 else shown[:77] + "...") from exc
    if number is None or not math.isfinite(number):
        return None, "undefined on this held-out split (the function returned no finite number)"
    return number, None


def scorer_metric(name: str) -> Callable[[Predictions], float | None]:
    """A scikit-learn named scorer computed from predictions: its function, sign and keyword arguments."""
    from sklearn.metrics import get_scorer

    try:
        scorer = get_scorer(name)
    except ValueError:
        return _unknown(name)
    func, sign = scorer._score_func, scorer._sign
    kwargs, response = dict(scorer._kwargs), scorer._response_method

    def compute_it(p: Predictions) -> float:
        if response == "predict":
            args = dict(kwargs)
            if p.binary and "pos_label" not in args and _accepts(func, "pos_label"):
                args["pos_label"] = p.pos_label
            return sign * float(func(p.y_true, p.y_pred, **args))
        proba = _needs_proba(p)
        if p.binary and p.y_score is not None:
            return sign * float(func(p.y_true == p.pos_label, p.y_score, **kwargs))
        args = {**kwargs, **({"labels": list(p.classes)} if _accepts(func, "labels") else {})}
        return sign * float(func(p.y_true, proba, **args))
    return compute_it


def _accepts(func: Callable[..., Any], name: str) -> bool:
    import inspect

    try:
        return name in inspect.signature(func).parameters
    except (TypeError, ValueError):
        return False


def _unknown(name: str) -> Callable[[Predictions], float | None]:
    def fail(p: Predictions) -> float | None:
        raise _Undefined(f"'{name}' is not a metric this scikit-learn knows; reported as null")
    return fail


class _Undefined(Exception):
    """A metric that does not apply to this model (e.g. ROC AUC without ``predict_proba``)."""


def _averaged(metric: Callable[..., float]) -> Callable[[Predictions], float]:
    def compute_it(p: Predictions) -> float:
        if p.binary:
            return float(metric(p.y_true, p.y_pred, pos_label=p.pos_label, average="binary", zero_division=0))
        return float(metric(p.y_true, p.y_pred, labels=list(p.classes), average="macro", zero_division=0))
    return compute_it


def _needs_proba(p: Predictions) -> np.ndarray:
    if p.proba is None:
        raise _Undefined("the estimator has no predict_proba; reported as null")
    return p.proba


def _roc_auc(p: Predictions) -> float:
    from sklearn.metrics import roc_auc_score

    proba = _needs_proba(p)
    if p.binary:
        return float(roc_auc_score(p.y_true == p.pos_label, p.y_score if p.y_score is not None else proba[:, 1]))
    return float(roc_auc_score(p.y_true, proba, multi_class="ovr", labels=list(p.classes)))


def _log_loss(p: Predictions) -> float:
    from sklearn.metrics import log_loss

    return float(log_loss(p.y_true, _needs_proba(p), labels=list(p.classes)))


def _sk(name: str) -> Callable[..., float]:
    import sklearn.metrics

    func: Callable[..., float] = getattr(sklearn.metrics, name)
    return func


def _plain(name: str) -> Callable[[Predictions], float]:
    return lambda p: float(_sk(name)(p.y_true, p.y_pred))


def _precision(p: Predictions) -> float:
    return _averaged(_sk("precision_score"))(p)


def _recall(p: Predictions) -> float:
    return _averaged(_sk("recall_score"))(p)


def _f1(p: Predictions) -> float:
    return _averaged(_sk("f1_score"))(p)


def _r2(p: Predictions) -> float:
    if len(p.y_true) < 2:
        raise _Undefined("R² needs at least 2 held-out rows; reported as null")
    return float(_sk("r2_score")(p.y_true, p.y_pred))


_CLASSIFICATION: dict[str, Callable[[Predictions], float | None]] = {
    "accuracy": _plain("accuracy_score"),
    "balanced_accuracy": _plain("balanced_accuracy_score"),
    "precision": _precision,
    "recall": _recall,
    "f1": _f1,
    "roc_auc": _roc_auc,
    "log_loss": _log_loss,
}
_REGRESSION: dict[str, Callable[[Predictions], float | None]] = {
    "mae": _plain("mean_absolute_error"),
    "rmse": _plain("root_mean_squared_error"),
    "r2": _r2,
    "mape": _plain("mean_absolute_percentage_error"),
}
