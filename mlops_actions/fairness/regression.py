"""Regression models: per-group MAE, RMSE and mean prediction from per-group sums, and their gaps.

Each group's MAE carries a 95% normal (CLT) interval, ``mae ± 1.96·sd(|error|)/√n`` with
``sd(|error|)² = mse − mae²``: both moments come from the sums already taken, so it costs nothing.

Sums come from ``np.bincount`` with weights (one pass per statistic). They match scikit-learn's
``mean_absolute_error`` / ``root_mean_squared_error`` and fairlearn's ``mean_prediction`` to rounding
(sequential versus pairwise summation: about 1e-16 relative per row).
"""

from __future__ import annotations

import numpy as np

from mlops_actions.fairness.counts import group_sums
from mlops_actions.fairness.disparities import compared, nanmax, nanmin
from mlops_actions.fairness.rates import Z95

REGRESSION_METRICS = ("mae", "rmse", "mean_prediction")


def regression_sums(codes: np.ndarray, y_true: np.ndarray, y_pred: np.ndarray,
                    n_strata: int, n_groups: int) -> np.ndarray:
    """Shape ``(n_strata, n_groups, 4)``: n, sum |error|, sum error², sum prediction."""
    cells = n_strata * n_groups
    error = y_pred - y_true
    columns = [group_sums(codes, None, cells).astype(np.float64),
               group_sums(codes, np.abs(error), cells),
               group_sums(codes, np.square(error), cells),
               group_sums(codes, y_pred, cells)]
    return np.stack(columns, axis=-1).reshape(n_strata, n_groups, 4)


def summed_cells(codes: np.ndarray, cells: np.ndarray, n_strata: int, n_groups: int) -> np.ndarray:
    """``regression_sums`` of rows that each stand for many: ``cells`` holds their (n, Σ|error|, Σerror²,
    Σprediction), shape ``(rows, 4)``."""
    total = n_strata * n_groups
    columns = [group_sums(codes, cells[:, i], total) for i in range(4)]
    return np.stack(columns, axis=-1).reshape(n_strata, n_groups, 4)


def regression_table(sums: np.ndarray) -> dict[str, np.ndarray]:
    """n and the three metrics over the leading axes of ``sums`` (NaN for an empty group)."""
    n = sums[..., 0]
    with np.errstate(divide="ignore", invalid="ignore"):
        mae, mse, mean_pred = (np.where(n > 0, sums[..., i] / n, np.nan) for i in (1, 2, 3))
        half = Z95 * np.sqrt(np.maximum(mse - mae * mae, 0.0) / n)  # sd of |error| is sqrt(mse - mae²)
    lower = np.where(n > 1, np.maximum(mae - half, 0.0), np.nan)
    upper = np.where(n > 1, mae + half, np.nan)
    return {"n": n.astype(np.int64), "mae": mae, "mae_lower": lower, "mae_upper": upper, "rmse": np.sqrt(mse),
            "mean_prediction": mean_pred}


def gaps(groups: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """max − min over groups of each metric (empty groups skipped; undefined with fewer than two groups to
    compare), keyed ``<metric>_difference``."""
    return {f"{m}_difference": compared(groups[m], nanmax(groups[m]) - nanmin(groups[m]))
            for m in REGRESSION_METRICS}
