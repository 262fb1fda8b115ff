"""Per-group confusion counts in one vectorised pass over the rows.

Each row falls in cell ``code * 4 + 2 * y_true_positive + y_pred_positive``; one ``np.bincount`` gives the
counts of every group at once. The last axis of the result is ``(tn, fp, fn, tp)``.
"""

from __future__ import annotations

import numpy as np

TN, FP, FN, TP = 0, 1, 2, 3


def confusion_counts(codes: np.ndarray, true_pos: np.ndarray, pred_pos: np.ndarray,
                     n_strata: int, n_groups: int, weights: np.ndarray | None = None) -> np.ndarray:
    """Counts shaped ``(n_strata, n_groups, 4)``; ``codes`` are combined stratum/group codes; ``weights``:
    how many identical rows each row stands for (whole numbers; summed exactly below 2**53)."""
    labels = true_pos.view(np.uint8) << 1  # 2 * y_true_positive + y_pred_positive, one byte per row
    labels |= pred_pos.view(np.uint8)
    cells = np.multiply(codes, 4, dtype=np.intp)  # widen once, to the index type bincount wants
    cells += labels
    flat = np.bincount(cells, weights=weights, minlength=n_strata * n_groups * 4)
    return (flat if weights is None else np.rint(flat).astype(np.int64)).reshape(n_strata, n_groups, 4)


def group_sums(codes: np.ndarray, weights: np.ndarray | None, n_cells: int) -> np.ndarray:
    """Per-group sums of ``weights`` (or counts when None), one ``np.bincount``."""
    return np.bincount(codes, weights=weights, minlength=n_cells).astype(np.float64 if weights is not None
                                                                          else np.int64)
