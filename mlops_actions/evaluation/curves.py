"""The pictures' numbers, from held-out predictions: aggregates only (curves, counts, deciles), never rows.

- binary: the confusion matrix at the threshold, the ROC curve (TPR at ``POINTS`` evenly spaced FPR values),
  the precision-recall curve (interpolated precision, the best precision at recall ≥ r, at ``POINTS``
  evenly spaced recall values) and the calibration curve (observed positive rate in ``BINS`` equal-width bins
  of the predicted probability; an empty bin is None);
- multi-class: the confusion matrix and per-class precision, recall, F1 and support;
- regression: the mean residual (truth − prediction) in each decile of the prediction.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

POINTS, BINS, DECILES = 50, 10, 10


def grid() -> np.ndarray:
    return np.linspace(0.0, 1.0, POINTS)


def binary_curves(positive: np.ndarray, score: np.ndarray, threshold: float,
                  order: np.ndarray | None = None) -> dict[str, Any]:
    """Confusion at ``threshold``, ROC, PR and calibration of one binary classifier (``order``: the rows by
    ascending score, when the caller sorted them already)."""
    predicted = score >= threshold
    tp = int(np.count_nonzero(positive & predicted))
    fp = int(np.count_nonzero(~positive & predicted))
    fn = int(np.count_nonzero(positive & ~predicted))
    tn = int(np.count_nonzero(~positive & ~predicted))
    return {"threshold": threshold, "confusion": {"tp": tp, "fp": fp, "fn": fn, "tn": tn},
            **_roc_pr(positive, score, order), "calibration": calibration(positive, score)}


def _roc_pr(positive: np.ndarray, score: np.ndarray,
            ascending: np.ndarray | None) -> dict[str, list[float | None] | None]:
    order = np.argsort(-score, kind="stable") if ascending is None else ascending[::-1]
    s, p = score[order], positive[order]
    distinct = np.flatnonzero(np.diff(s)) if len(s) > 1 else np.zeros(0, dtype=np.intp)
    cut = np.r_[distinct, len(s) - 1]  # last index of each run of tied scores
    tps = np.cumsum(p)[cut].astype(float)
    fps = (cut + 1 - tps).astype(float)
    total_p, total_n = tps[-1] if len(tps) else 0.0, fps[-1] if len(fps) else 0.0
    if total_p == 0 or total_n == 0:
        return {"roc": None, "pr": None}
    tpr, fpr = np.r_[0.0, tps / total_p], np.r_[0.0, fps / total_n]
    precision = tps / (tps + fps)
    recall = tps / total_p
    return {"roc": _round(np.interp(grid(), fpr, tpr)), "pr": _round(_interpolated_precision(recall, precision))}


def _interpolated_precision(recall: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """The best precision at a recall of at least r, for each r of the grid."""
    best = np.maximum.accumulate(precision[::-1])[::-1]  # best precision from each point on
    index = np.searchsorted(recall, grid(), side="left")
    return np.where(index < len(best), best[np.minimum(index, len(best) - 1)], 0.0)


def calibration(positive: np.ndarray, score: np.ndarray) -> dict[str, list[Any]]:
    bins = np.clip((score * BINS).astype(np.intp), 0, BINS - 1)
    count = np.bincount(bins, minlength=BINS)
    hits = np.bincount(bins, weights=positive.astype(float), minlength=BINS)
    mean_score = np.bincount(bins, weights=score, minlength=BINS)
    with np.errstate(divide="ignore", invalid="ignore"):
        observed, predicted = hits / count, mean_score / count
    return {"count": count.tolist(), "observed": _round(observed), "predicted": _round(predicted)}


def multiclass_tables(y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[str]) -> dict[str, Any]:
    """Confusion matrix (rows: true class, columns: predicted) and per-class precision, recall, F1; the
    labels are codes into ``classes`` (ints) or the class values themselves."""
    k = len(classes)
    if y_true.dtype.kind not in "iu":
        index = {c: i for i, c in enumerate(classes)}
        y_true = np.array([index.get(v, -1) for v in y_true])
        y_pred = np.array([index.get(v, -1) for v in y_pred])
    ok = (y_true >= 0) & (y_pred >= 0)
    matrix = np.bincount(y_true[ok] * k + y_pred[ok], minlength=k * k).reshape(k, k)
    tp = np.diag(matrix).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.nan_to_num(tp / matrix.sum(axis=0))
        recall = np.nan_to_num(tp / matrix.sum(axis=1))
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    return {"classes": list(classes), "confusion": matrix.tolist(), "precision": _round(precision),
            "recall": _round(recall), "f1": _round(f1), "support": matrix.sum(axis=1).tolist()}


def residual_deciles(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, Any]:
    """Mean residual (truth − prediction) and rows in each decile of the prediction."""
    edges = np.quantile(y_pred, np.linspace(0, 1, DECILES + 1))
    bins = np.clip(np.searchsorted(edges, y_pred, side="right") - 1, 0, DECILES - 1)
    count = np.bincount(bins, minlength=DECILES)
    total = np.bincount(bins, weights=y_true - y_pred, minlength=DECILES)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = total / count
    return {"edges": _round(edges), "count": count.tolist(), "mean_residual": _round(mean)}


def _round(values: np.ndarray) -> list[float | None]:
    return [float(f"{v:.4g}") if np.isfinite(v) else None for v in np.asarray(values, dtype=float).tolist()]
