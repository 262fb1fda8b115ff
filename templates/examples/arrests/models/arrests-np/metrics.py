"""A repository metric of arrests-np: called as ``f(y_true, y_pred, y_score)`` on the held-out rows."""

from __future__ import annotations

import numpy as np


def release_rate_gap(y_true: np.ndarray, y_pred: np.ndarray, y_score: np.ndarray | None) -> float:
    """How far the predicted release rate is from the actual one (0 is perfectly calibrated in the aggregate)."""
    return float(abs(np.mean(y_pred == "Yes") - np.mean(y_true == "Yes")))
