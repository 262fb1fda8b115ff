"""Bootstrap replicates of a model's held-out metrics, for the interval of each change against the baseline.

Every metric is written as a smooth function of a few *sums of per-row statistics* (accuracy: correct
rows / rows; F1: 2·TP / (2·TP + FP + FN); RMSE: √(Σe² / n); R²: 1 − Σe² / (Σy² − (Σy)²/n); ROC AUC:
through its DeLong placement values, AUC* ≈ mean*(V10) + mean*(V01) − AUC). A replicate reweights the rows
and recomputes the function from the reweighted sums.

The rows are dealt into ``BLOCKS`` blocks by a seeded permutation and whole blocks are resampled (a
multinomial redraw of the block counts, ``REPLICATES`` times, seeded): for independent rows this has the
row bootstrap's mean and variance, and costs a (replicates × blocks) matrix product instead of a pass over
the rows per replicate. With fewer rows than blocks every row is its own block: the plain row bootstrap.

Two models evaluated on **the same held-out rows** (same data, same split) get the same blocks and the same
weights, so the differences of their replicates are a *paired* bootstrap of the change. Otherwise the
baseline's replicates are shuffled first (independent, *unpaired*), and when the baseline has none its
spread is taken to be the candidate's, scaled by the rows (``√(n_candidate / n_baseline)``).
"""

from __future__ import annotations

import functools
import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

REPLICATES, BLOCKS, SEED = 1000, 1000, 0
Z95 = 1.959963984540054
PAIRED, UNPAIRED, ASSUMED = "paired", "unpaired", "assumed"
Stats = list[np.ndarray]
Formula = Callable[[np.ndarray], np.ndarray]  # (B, s) replicate sums → (B,) metric values


@dataclass(frozen=True)
class Change:
    """The interval of a metric's change (candidate − baseline) and how it was obtained."""

    low: float
    high: float
    method: str  # paired, unpaired, assumed

    @property
    def within_noise(self) -> bool:
        return self.low <= 0 <= self.high


@dataclass(frozen=True, eq=False)
class Evaluated:
    """One model's held-out rows as the formulas read them: true labels, predictions and, for a classifier,
    its ``classes``, the ``positive`` one (None: multi-class), the positive class's ``score`` and ``order``
    (the rows by ascending score, when the caller sorted them already). Labels may be class values or int
    codes (``classes`` and ``positive`` then codes too: faster comparisons)."""

    y_true: np.ndarray
    y_pred: np.ndarray
    classes: Sequence[Any] = ()
    positive: Any = None
    score: np.ndarray | None = None
    order: np.ndarray | None = None


@functools.lru_cache(maxsize=8)
def block_weights(blocks: int, replicates: int = REPLICATES, seed: int = SEED) -> np.ndarray:
    """How often each block is drawn in each replicate: ``(replicates, blocks)``, each row summing to blocks."""
    rng = np.random.default_rng(seed)
    weights = rng.multinomial(blocks, np.full(blocks, 1.0 / blocks), size=replicates).astype(np.float64)
    weights.flags.writeable = False
    return weights


@functools.lru_cache(maxsize=4)
def block_of_rows(n: int, seed: int = SEED) -> tuple[np.ndarray, int]:
    """Each row's block (a seeded deal of the rows into ``min(n, BLOCKS)`` blocks) and the block count."""
    blocks = min(n, BLOCKS)
    order = np.random.default_rng(seed + 1).permutation(n)
    assignment = np.empty(n, dtype=np.intp)
    assignment[order] = np.arange(n) % blocks
    assignment.flags.writeable = False
    return assignment, blocks


def change_interval(delta: float, candidate: np.ndarray, baseline: np.ndarray | None, *, paired: bool,
                    n_candidate: int, n_baseline: int | None) -> Change | None:
    """95% interval of ``delta`` (basic bootstrap on replicate differences, or the normal one assumed)."""
    if not math.isfinite(delta) or np.count_nonzero(np.isfinite(candidate)) < 10:
        return None
    if baseline is not None and baseline.shape != candidate.shape:
        baseline = None  # replicates of another count cannot be compared: the baseline's spread is assumed
    if baseline is not None:
        other = baseline if paired else np.random.default_rng(SEED + 2).permutation(baseline)
        diffs = candidate - other
        if np.count_nonzero(np.isfinite(diffs)) < 10:
            return None
        q_lo, q_hi = np.nanquantile(diffs, [0.025, 0.975])
        return Change(float(2 * delta - q_hi), float(2 * delta - q_lo), PAIRED if paired else UNPAIRED)
    if not n_baseline:
        return None
    spread = float(np.nanstd(candidate))
    half = Z95 * spread * math.sqrt(1 + n_candidate / n_baseline)
    return Change(delta - half, delta + half, ASSUMED)


# --- per-metric statistics and formulas --------------------------------------------------------------------

def classification_stats(name: str, rows: Evaluated) -> tuple[Stats, Formula] | None:
    """The statistics and formula of a classification metric; None when it has no interval here."""
    y_true, y_pred, classes, positive, score = rows.y_true, rows.y_pred, rows.classes, rows.positive, rows.score
    one = np.ones(len(y_true))
    if name == "accuracy":
        return [one, (y_true == y_pred).astype(float)], lambda s: s[:, 1] / s[:, 0]
    if name == "balanced_accuracy":
        stats = [a for c in classes for a in ((y_true == c).astype(float), ((y_true == c) & (y_pred == c)) * 1.0)]
        return stats, lambda s: np.nanmean(s[:, 1::2] / s[:, 0::2], axis=1)
    if name in ("precision", "recall", "f1"):
        return _prf(name, y_true, y_pred, classes, positive)
    if name == "roc_auc" and positive is not None and score is not None:
        return _auc(y_true == positive, score, rows.order)
    if name == "log_loss" and positive is not None and score is not None:
        p = np.clip(np.where(y_true == positive, score, 1 - score), np.finfo(float).eps, 1.0)
        return [one, -np.log(p)], lambda s: s[:, 1] / s[:, 0]
    return None


def _prf(name: str, y_true: np.ndarray, y_pred: np.ndarray, classes: Sequence[Any],
         positive: Any) -> tuple[Stats, Formula]:
    targets = [positive] if positive is not None else list(classes)
    stats = [a for c in targets for a in (((y_true == c) & (y_pred == c)) * 1.0, ((y_true != c) & (y_pred == c)) * 1.0,
                                          ((y_true == c) & (y_pred != c)) * 1.0)]

    def formula(s: np.ndarray) -> np.ndarray:
        tp, fp, fn = s[:, 0::3], s[:, 1::3], s[:, 2::3]
        value = {"precision": tp / (tp + fp), "recall": tp / (tp + fn), "f1": 2 * tp / (2 * tp + fp + fn)}[name]
        return np.nanmean(np.nan_to_num(value, nan=0.0), axis=1)  # zero_division=0, as the metrics use
    return stats, formula


def _auc(positive: np.ndarray, score: np.ndarray, order: np.ndarray | None = None) -> tuple[Stats, Formula] | None:
    """DeLong placement values: V10 of a positive = share of negatives scored below it (ties half)."""
    m, k = int(positive.sum()), int((~positive).sum())
    if m == 0 or k == 0:
        return None
    below_neg, below_pos = placements(positive, score, order)
    below_neg, above_pos = below_neg / k, 1 - below_pos / m
    auc = float(below_neg[positive].mean())
    p, q = positive * 1.0, (~positive) * 1.0
    stats = [p, p * below_neg, q, q * above_pos]
    return stats, lambda s: s[:, 1] / s[:, 0] + s[:, 3] / s[:, 2] - auc


def placements(positive: np.ndarray, score: np.ndarray,
               order: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each row, the negatives and the positives scored below it, ties counted half (one sort, or
    ``order``: the rows by ascending score, when the caller sorted them already)."""
    order = np.argsort(score, kind="stable") if order is None else order
    s, p = score[order], positive[order].astype(np.int64)
    start = np.r_[True, s[1:] != s[:-1]]
    group = np.cumsum(start) - 1
    pos_in = np.bincount(group, weights=p).astype(np.int64)
    neg_in = np.bincount(group, minlength=len(pos_in)) - pos_in
    pos_before = np.r_[0, np.cumsum(pos_in)[:-1]]
    neg_before = np.r_[0, np.cumsum(neg_in)[:-1]]
    below_neg, below_pos = np.empty(len(score)), np.empty(len(score))
    below_neg[order] = neg_before[group] + neg_in[group] / 2
    below_pos[order] = pos_before[group] + pos_in[group] / 2
    return below_neg, below_pos


def regression_stats(name: str, y_true: np.ndarray, y_pred: np.ndarray) -> tuple[Stats, Formula] | None:
    error = y_pred - y_true
    one = np.ones(len(y_true))
    if name == "mae":
        return [one, np.abs(error)], lambda s: s[:, 1] / s[:, 0]
    if name == "rmse":
        return [one, error * error], lambda s: np.sqrt(s[:, 1] / s[:, 0])
    if name == "mape":
        scale = np.maximum(np.abs(y_true), np.finfo(float).eps)
        return [one, np.abs(error) / scale], lambda s: s[:, 1] / s[:, 0]
    if name == "r2":
        return [one, error * error, y_true, y_true * y_true], \
            lambda s: 1 - s[:, 1] / (s[:, 3] - s[:, 2] ** 2 / s[:, 0])
    return None


def metric_replicates(task: str, names: Sequence[str], rows: Evaluated) -> dict[str, np.ndarray]:
    """Bootstrap replicates of each metric in ``names`` that has a formula here (one pass over the rows per
    statistic and one matrix product for all of them)."""
    assignment, blocks = block_of_rows(len(rows.y_true))
    each = {name: (regression_stats(name, rows.y_true, rows.y_pred) if task == "regression"
                   else classification_stats(name, rows))
            for name in names}
    found = {k: v for k, v in each.items() if v is not None}
    stats = [s for stats_, _ in found.values() for s in stats_]
    if not stats:
        return {}
    sums = block_weights(blocks) @ np.stack([np.bincount(assignment, weights=s, minlength=blocks) for s in stats],
                                            axis=1)
    out, at = {}, 0
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        for name, (stats_, formula) in found.items():
            out[name] = formula(sums[:, at:at + len(stats_)])
            at += len(stats_)
    return out


def rounded(values: Mapping[str, np.ndarray]) -> dict[str, list[float | None]]:
    """Replicates as JSON-ready lists, 7 significant digits (NaN → None)."""
    return {k: [float(f"{x:.7g}") if math.isfinite(x) else None for x in v.tolist()] for k, v in values.items()}
