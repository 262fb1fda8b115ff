"""Rates from confusion counts, with Wilson 95% score intervals.

A rate with a zero denominator is NaN ("n/a"); with ``compat=True`` it is 0 like scikit-learn's
``zero_division`` result that fairlearn returns. An empty group (n = 0) has NaN rates either way, as in
fairlearn, where an empty intersection is a NaN row.
"""

from __future__ import annotations

import numpy as np

from mlops_actions.fairness.counts import FN, FP, TN, TP

Z95 = 1.959963984540054  # standard normal quantile at 0.975

RATE_NAMES = ("selection_rate", "tpr", "fpr", "tnr", "fnr", "accuracy", "precision")
COUNT_NAMES = ("n", "positives", "negatives", "tp", "fp", "tn", "fn")


def count_table(counts: np.ndarray) -> dict[str, np.ndarray]:
    """n, positives, negatives and the four cells, each over the leading axes of ``counts``."""
    tn, fp, fn, tp = (counts[..., i] for i in (TN, FP, FN, TP))
    return {"n": tn + fp + fn + tp, "positives": fn + tp, "negatives": tn + fp,
            "tp": tp, "fp": fp, "tn": tn, "fn": fn}


def fractions(counts: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Numerator and denominator of each rate."""
    c = count_table(counts)
    return {
        "selection_rate": (c["tp"] + c["fp"], c["n"]),
        "tpr": (c["tp"], c["positives"]),
        "fpr": (c["fp"], c["negatives"]),
        "tnr": (c["tn"], c["negatives"]),
        "fnr": (c["fn"], c["positives"]),
        "accuracy": (c["tp"] + c["tn"], c["n"]),
        "precision": (c["tp"], c["tp"] + c["fp"]),
    }


def rate(num: np.ndarray, den: np.ndarray, nonempty: np.ndarray, *, compat: bool) -> np.ndarray:
    """``num / den``; NaN where ``den == 0`` (0 with ``compat`` unless the group is empty)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        value = np.true_divide(num, den)
    fill = np.where(nonempty, 0.0, np.nan) if compat else np.nan
    return np.where(den == 0, fill, value)


def wilson(num: np.ndarray, den: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``num / den``; NaN where ``den == 0``."""
    k = np.asarray(num, dtype=np.float64)
    m = np.asarray(den, dtype=np.float64)
    z2 = z * z
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = (k + z2 / 2) / (m + z2)
        half = z / (m + z2) * np.sqrt(np.maximum(k * (m - k) / m, 0.0) + z2 / 4)
        lower = np.where(m > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        upper = np.where(m > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return lower, upper


def rate_table(counts: np.ndarray, *, compat: bool, intervals: bool = True) -> dict[str, np.ndarray]:
    """Every rate (and its ``_lower``/``_upper`` Wilson bounds) over the leading axes of ``counts``."""
    nonempty = counts.sum(axis=-1) > 0
    table: dict[str, np.ndarray] = {}
    for name, (num, den) in fractions(counts).items():  # seven rates, each vectorised over all groups
        table[name] = rate(num, den, nonempty, compat=compat)
        if intervals:
            table[f"{name}_lower"], table[f"{name}_upper"] = wilson(num, den)
    return table
