"""Warnings about groups: too small on the denominator a rate depends on, or empty intersections."""

from __future__ import annotations

import numpy as np

from mlops_actions.fairness.groups import Grouping

MAX_LISTED = 20

# rate → the count it is divided by (the denominator that makes it unreliable when small)
CLASSIFICATION_DENOMINATORS = {"selection rate": "n", "TPR": "positives", "FPR": "negatives"}
REGRESSION_DENOMINATORS = {"MAE/RMSE/mean prediction": "n"}


def group_label(grouping: Grouping, flat: int) -> str:
    """``"colour=White, sex=Male"`` (control values first) for the group at flat position ``flat``."""
    index = grouping.group_index()
    names = grouping.control_names + grouping.sensitive_names
    key = index[flat] if len(names) > 1 else (index[flat],)
    return ", ".join(f"{name}={value}" for name, value in zip(names, key, strict=True))


def stratum_label(grouping: Grouping, stratum: int) -> str:
    index = grouping.strata_index()
    assert index is not None
    key = index[stratum] if len(grouping.control_names) > 1 else (index[stratum],)
    return ", ".join(f"{name}={value}" for name, value in zip(grouping.control_names, key, strict=True))


def group_warnings(grouping: Grouping, table: dict[str, np.ndarray], min_group_size: int,
                   denominators: dict[str, str]) -> list[str]:
    """One warning per empty intersection and per group small on some denominator (listing capped)."""
    n = table["n"].reshape(-1)
    empty = np.flatnonzero(n == 0)
    small = {rate: table[count].reshape(-1) < min_group_size for rate, count in denominators.items()}
    flagged = np.flatnonzero((n > 0) & np.logical_or.reduce(list(small.values())))
    out = [f"empty intersection {group_label(grouping, int(i))}: no rows, every rate undefined"
           for i in empty[:MAX_LISTED]]
    out += _more(len(empty), "empty intersections")
    for i in flagged[:MAX_LISTED]:  # only flagged groups, at most MAX_LISTED of them
        parts = [f"{count}={int(table[count].reshape(-1)[i])} for {rate}"
                 for rate, count in denominators.items() if small[rate][i]]
        out.append(f"small group {group_label(grouping, int(i))}: {', '.join(parts)} "
                   f"(below min_group_size={min_group_size}); those rates are unreliable")
    return out + _more(len(flagged), "small groups")


def _more(total: int, what: str) -> list[str]:
    return [f"... and {total - MAX_LISTED} more {what}"] if total > MAX_LISTED else []
