"""Labels → boolean "is positive" masks, plus the warnings about labels that are not plainly binary."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from mlops_actions.errors import InputError

Labels = Any  # a pandas Series or anything numpy.asarray accepts


def as_column(values: Labels, name: str) -> Labels:
    """A Series stays a Series (fast string comparisons); anything else becomes a 1-D array."""
    if isinstance(values, pd.DataFrame):
        if values.shape[1] != 1:
            raise InputError(f"{name} must be one column, got {values.shape[1]}")
        values = values.iloc[:, 0]
    if isinstance(values, pd.Series):
        return values
    arr = np.asarray(values)
    arr = arr.reshape(-1) if arr.ndim == 2 and 1 in arr.shape else arr
    if arr.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {arr.shape}")
    return arr


def missing_count(values: Labels) -> int:
    if isinstance(values, pd.Series):
        return int(values.isna().sum())
    if values.dtype.kind in "biu":
        return 0
    if values.dtype.kind in "fc":
        return int(np.count_nonzero(np.isnan(values)))
    return int(np.count_nonzero(pd.isna(values)))


def is_positive(values: Labels, pos_label: object) -> np.ndarray:
    """Boolean mask ``values == pos_label`` (vectorised; pandas for Series, numpy otherwise)."""
    if isinstance(values, pd.Series):
        return (values == pos_label).to_numpy(dtype=bool, na_value=False)
    mask = np.asarray(values == pos_label, dtype=bool)
    return mask if mask.ndim == 1 else np.full(len(values), bool(mask))


def distinct(values: Labels) -> list[object]:
    """The distinct label values; integer labels within 0..1 take a min/max fast path (no hashing)."""
    arr = values.to_numpy() if isinstance(values, pd.Series) and values.dtype.kind in "biu" else values
    if isinstance(arr, np.ndarray) and arr.dtype.kind in "biu" and len(arr):
        lo, hi = arr.min(), arr.max()
        if lo >= 0 and hi <= 1:
            return sorted({lo.item(), hi.item()})
    return list(pd.unique(arr))


def label_warnings(y_true: Labels, y_pred: Labels, pos_label: object) -> list[str]:
    """Warnings for labels that are not plainly binary with ``pos_label`` among them."""
    labels = list(dict.fromkeys(distinct(y_true) + distinct(y_pred)))
    shown = ", ".join(repr(v) for v in sorted(labels, key=str)[:6]) + (", ..." if len(labels) > 6 else "")
    out = []
    if len(labels) > 2:
        out.append(f"y_true and y_pred hold {len(labels)} distinct labels ({shown}): the metrics assume binary "
                   f"labels; everything other than pos_label={pos_label!r} counts as negative")
    if _is_default_one(pos_label) and not (_within(labels, {0, 1}) or _within(labels, {-1, 1})):
        out.append(f"labels outside {{0, 1}} ({shown}) and no pos_label: only 1 counts as positive; "
                   "pass pos_label to say which label is the positive outcome")
    if not any(_equal(v, pos_label) for v in labels):
        out.append(f"pos_label={pos_label!r} occurs in neither y_true nor y_pred ({shown}): "
                   "every sample counts as negative")
    return out


def _is_default_one(pos_label: object) -> bool:
    return not isinstance(pos_label, str) and _equal(pos_label, 1)


def _equal(a: object, b: object) -> bool:
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _within(labels: list[object], allowed: set[int]) -> bool:
    return all(not isinstance(v, str) and any(_equal(v, a) for a in allowed) for v in labels)
