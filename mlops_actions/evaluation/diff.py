"""What changed between the baseline and the candidate: metrics, params, data, fairness. Pure functions.

A metric change is judged by the metric's direction (``higher`` or ``lower`` is better). Undefined values
(None, NaN) are never compared: the change is ``undefined`` and the report says so.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeGuard

BETTER, WORSE, SAME, NEW, REMOVED, UNDEFINED = "better", "worse", "same", "new", "removed", "undefined"
_MISSING = object()


def defined(value: object) -> TypeGuard[int | float]:
    """True for a real, finite-or-infinite number (not None, not NaN, not bool)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return not math.isnan(value)


def as_number(value: object) -> float | None:
    """``value`` as a float, or None when it is undefined."""
    return float(value) if defined(value) else None


def fairness_direction(name: str) -> str:
    """Which way is better for a disparity: ratios (1 = parity) higher, differences (0 = parity) lower."""
    return "higher" if "ratio" in name else "lower"


@dataclass(frozen=True)
class MetricDiff:
    """One metric then and now. ``delta`` = new - old; ``relative`` = delta / |old| (None when old is 0)."""

    name: str
    direction: str
    old: float | None
    new: float | None
    change: str
    interval: Any = None  # uncertainty.Change: the 95% interval of the delta, when known

    @property
    def delta(self) -> float | None:
        if self.old is None or self.new is None:
            return None
        return self.new - self.old

    @property
    def within_noise(self) -> bool:
        return self.interval is not None and self.interval.within_noise

    @property
    def relative(self) -> float | None:
        delta = self.delta
        if delta is None or self.old is None or self.old == 0:
            return None
        return delta / abs(self.old)


def judge(old: float | None, new: float | None, direction: str, *, had_old: bool = True) -> str:
    """``better``/``worse``/``same`` by direction; ``new`` without a baseline; ``undefined`` for NaN/None."""
    if not had_old:
        return NEW
    if old is None or new is None:
        return UNDEFINED
    if new == old:
        return SAME
    improved = new > old if direction == "higher" else new < old
    return BETTER if improved else WORSE


def metric_diff(new: Mapping[str, Any], old: Mapping[str, Any] | None,
                directions: Mapping[str, str]) -> tuple[MetricDiff, ...]:
    """Each metric of the candidate against the baseline (``old`` None: no baseline, every metric is new).

    Metrics only the baseline has are listed as ``removed``. Order: the candidate's, then removed ones sorted.
    """
    rows = [_one_metric(name, new[name], old, directions.get(name, "higher")) for name in new]
    if old is not None:
        rows.extend(MetricDiff(name, directions.get(name, "higher"), as_number(old[name]), None, REMOVED)
                    for name in sorted(set(old) - set(new)))
    return tuple(rows)


def _one_metric(name: str, value: Any, old: Mapping[str, Any] | None, direction: str) -> MetricDiff:
    had_old = old is not None and name in old
    before = as_number(old[name]) if had_old and old is not None else None
    now = as_number(value)
    return MetricDiff(name, direction, before, now, judge(before, now, direction, had_old=had_old))


@dataclass(frozen=True)
class ParamChange:
    """One estimator parameter: ``changed`` (old -> new), ``added`` or ``removed``."""

    name: str
    kind: str
    old: Any = None
    new: Any = None


def flatten_params(params: Mapping[str, Any] | None) -> dict[str, Any]:
    """``{"class": path, "params": {...}}`` (the record's form) or a plain mapping, as one flat mapping."""
    if not params:
        return {}
    if "params" in params and isinstance(params["params"], Mapping):
        flat = {"class": params.get("class")} if "class" in params else {}
        flat.update(params["params"])
        return flat
    return dict(params)


def params_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[ParamChange, ...]:
    """Changed, added and removed parameters, sorted by name. Equal values are left out."""
    before, after = flatten_params(old), flatten_params(new)
    changes = []
    for name in sorted(set(before) | set(after)):
        was, now = before.get(name, _MISSING), after.get(name, _MISSING)
        if was is _MISSING:
            changes.append(ParamChange(name, "added", None, now))
        elif now is _MISSING:
            changes.append(ParamChange(name, "removed", was, None))
        elif not _same_value(was, now):
            changes.append(ParamChange(name, "changed", was, now))
    return tuple(changes)


def _same_value(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    return bool(a == b)


@dataclass(frozen=True)
class DataFile:
    """One data file as a version record describes it."""

    path: str
    hash: str
    rows: int | None = None
    columns: Mapping[str, str] | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataFile:
        return cls(path=str(d.get("path", "")), hash=str(d.get("hash", "")), rows=d.get("rows"),
                   columns=d.get("columns"))


@dataclass(frozen=True)
class DataDiff:
    """Data then and now: rows, content hash, columns added / removed / retyped, class balance."""

    old_rows: int | None
    new_rows: int | None
    old_hashes: tuple[str, ...]
    new_hashes: tuple[str, ...]
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    retyped: tuple[tuple[str, str, str], ...] = ()
    old_balance: Mapping[str, float] | None = None
    new_balance: Mapping[str, float] | None = None

    @property
    def hash_changed(self) -> bool:
        return self.old_hashes != self.new_hashes

    @property
    def changed(self) -> bool:
        columns = bool(self.added or self.removed or self.retyped)
        return (self.hash_changed or self.old_rows != self.new_rows or columns
                or self.old_balance != self.new_balance)


def data_diff(old: Sequence[Mapping[str, Any]] | None, new: Sequence[Mapping[str, Any]],
              old_balance: Mapping[str, float] | None = None,
              new_balance: Mapping[str, float] | None = None) -> DataDiff:
    """Compare the ``data`` lists of two records (``old`` None: no baseline)."""
    after = [DataFile.from_dict(d) for d in new]
    before = [DataFile.from_dict(d) for d in old or ()]
    cols_old, cols_new = _columns(before), _columns(after)
    retyped = tuple((c, cols_old[c], cols_new[c]) for c in sorted(set(cols_old) & set(cols_new))
                    if cols_old[c] != cols_new[c])
    return DataDiff(
        old_rows=_rows(before) if old is not None else None, new_rows=_rows(after),
        old_hashes=tuple(f.hash for f in before), new_hashes=tuple(f.hash for f in after),
        added=tuple(sorted(set(cols_new) - set(cols_old))) if old is not None else (),
        removed=tuple(sorted(set(cols_old) - set(cols_new))), retyped=retyped,
        old_balance=old_balance, new_balance=new_balance)


def _rows(files: Sequence[DataFile]) -> int | None:
    counts = [f.rows for f in files]
    return None if not counts or any(c is None for c in counts) else sum(c for c in counts if c is not None)


def _columns(files: Sequence[DataFile]) -> dict[str, str]:
    merged: dict[str, str] = {}
    for f in files:
        merged.update(f.columns or {})
    return merged


def class_balance(labels: Sequence[Any]) -> dict[str, float]:
    """Share of each label, keys as strings, sorted by label text."""
    total = len(labels)
    if not total:
        return {}
    counts: dict[str, int] = {}
    for label in labels:
        key = str(label)
        counts[key] = counts.get(key, 0) + 1
    return {k: counts[k] / total for k in sorted(counts)}


@dataclass(frozen=True)
class FairnessDiff:
    """One disparity then and now, judged by its direction (differences lower, ratios higher is better)."""

    name: str
    old: float | None
    new: float | None
    change: str

    @property
    def delta(self) -> float | None:
        return None if self.old is None or self.new is None else self.new - self.old


def fairness_diff(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> tuple[FairnessDiff, ...]:
    """Each disparity of the candidate's fairness summary against the baseline's, sorted by name."""
    rows = []
    for name in sorted(set(new) | set(old or {})):
        had_old = old is not None and name in old
        before = as_number(old.get(name)) if old is not None else None
        now = as_number(new.get(name))
        change = REMOVED if name not in new else judge(before, now, fairness_direction(name), had_old=had_old)
        rows.append(FairnessDiff(name, before, now, change))
    return tuple(rows)
