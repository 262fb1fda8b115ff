"""Drift statistics of one column: PSI, two-sample Kolmogorov–Smirnov, chi-square, missing-rate change.

Pure and vectorised: each function takes arrays (or a pandas Series for level counts) and returns numbers.

Numeric columns
    Reference and current values are merged into one sorted array of order-preserving integer keys (one
    SIMD sort), each key carrying its origin in the lowest bit. From the running counts of that array we
    read the reference's quantiles (``inverted_cdf``: every edge is a reference value), the bin counts of
    both samples and the exact KS statistic at every distinct value. Values that differ only in their last
    bit (one unit in the last place) count as ties; ``-0.0`` and ``0.0`` are one value.
    Bins are ``(-inf, e1], (e1, e2], ..., (ek, +inf)`` over the reference's deciles (``bins`` quantiles);
    duplicate edges (ties) are merged. Current values outside the reference's range land in the open outer
    bins; when the reference piles up at its maximum (a constant, a flag), the top edge is that maximum, so
    values above it get a bin of their own (empty in the reference).
Categorical columns
    Level counts (levels compared as text), PSI over the union of levels, new and vanished levels named,
    and Pearson's chi-square on the 2 × k table of counts (``scipy.stats.chi2_contingency``).
Empty bins and levels
    Proportions are floored at ``EPSILON`` (1e-4, i.e. 0.01 %) before PSI's logarithm, so a bin or level
    that is empty on one side adds a large but finite term ((q - p) · ln(q / p) with the empty side at 1e-4).
Missing values
    NaN / None are left out of PSI and the tests; their share is reported as the missing rate.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.stats import chi2_contingency, kstwo, kstwobign

EPSILON = 1e-4
DEFAULT_BINS = 10
_EXACT_KS_LIMIT = 10_000  # above this effective size the KS p-value uses the limiting distribution
_SIGN = np.uint64(1 << 63)
_BLOCK = 1 << 15  # values per block of a pass: its temporaries stay in the CPU cache
_CLEAR = ~np.uint64(1)


@dataclass(frozen=True)
class ColumnDrift:
    """The statistics of one column. ``psi``/``statistic``/``p_value`` are None when a side has no values."""

    kind: str  # "numeric" or "categorical"
    test: str  # "ks" or "chi2"
    psi: float | None
    statistic: float | None
    p_value: float | None
    missing_reference: float
    missing_current: float
    new_levels: tuple[str, ...] = ()
    vanished_levels: tuple[str, ...] = ()

    @property
    def missing_change(self) -> float:
        return abs(self.missing_current - self.missing_reference)


def psi(reference_counts: np.ndarray, current_counts: np.ndarray) -> float:
    """Population stability index of two count vectors over the same bins (proportions floored at EPSILON)."""
    p = np.maximum(reference_counts / max(reference_counts.sum(), 1), EPSILON)
    q = np.maximum(current_counts / max(current_counts.sum(), 1), EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def ks_p_value(statistic: float, n: int, m: int) -> float:
    """Two-sided asymptotic KS p-value, as ``scipy.stats.ks_2samp(method="asymp")`` computes it.

    Above an effective size ``n·m/(n+m)`` of 10 000 the limiting Kolmogorov distribution is used instead of
    scipy's finite-n ``kstwo`` (which takes up to a second per call there); near the usual thresholds
    (p around 0.01) the two differ by under 1 % of the p-value at that size, less above it.
    """
    en = n * m / (n + m)
    if en <= _EXACT_KS_LIMIT:
        return float(np.clip(kstwo.sf(statistic, round(en)), 0.0, 1.0))
    return float(np.clip(kstwobign.sf(statistic * np.sqrt(en)), 0.0, 1.0))


def _keys_into(values: np.ndarray, out: np.ndarray, origin: int) -> None:
    """Order-preserving uint64 keys of floats (no NaN) written to ``out``; the lowest bit holds ``origin``.

    Done block by block so the temporaries stay in the CPU cache.
    """
    for start in range(0, values.size, _BLOCK):
        part = out[start:start + _BLOCK]
        bits = (values[start:start + _BLOCK] + 0.0).view(np.uint64)  # + 0.0 turns -0.0 into 0.0
        np.right_shift(bits.view(np.int64), 63, out=part.view(np.int64))  # -1 for negatives, 0 otherwise
        np.bitwise_or(part, _SIGN, out=part)  # flip every bit of negatives, only the sign of the others
        np.bitwise_xor(bits, part, out=part)
        np.bitwise_or(part, np.uint64(1), out=part) if origin else np.bitwise_and(part, _CLEAR, out=part)


_local = threading.local()


def _scratch(size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-thread key and count buffers, reused across columns (fresh pages cost more than the work)."""
    keys, counts = getattr(_local, "buffers", (np.empty(0, np.uint64), np.empty(0, np.int64)))
    if keys.size < size:
        keys, counts = np.empty(size, np.uint64), np.empty(size, np.int64)
        _local.buffers = (keys, counts)
    return keys[:size], counts[:size]


@dataclass(frozen=True)
class _Merged:
    keys: np.ndarray  # sorted keys of both samples; key >> 1 identifies the value, key & 1 its origin
    cum_cur: np.ndarray  # current values at or before each position (reference = position + 1 - it)
    statistic: float  # the KS statistic, found in the same pass
    n: int
    m: int

    def counts_at_or_below(self, value_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        last = np.searchsorted(self.keys, (value_ids << np.uint64(1)) | np.uint64(1), side="right") - 1
        cur = self.cum_cur[last]
        return last + 1 - cur, cur

    def positions_of_reference_ranks(self, ranks: np.ndarray) -> np.ndarray:
        """First position at which ``rank`` reference values have been seen (vectorised bisection)."""
        lo, hi = np.zeros(ranks.size, dtype=np.int64), np.full(ranks.size, self.keys.size - 1, dtype=np.int64)
        while np.any(lo < hi):
            mid = (lo + hi) // 2
            reached = mid + 1 - self.cum_cur[mid] >= ranks
            hi, lo = np.where(reached, mid, hi), np.where(reached, lo, mid + 1)
        return lo


def _merge(reference: np.ndarray, current: np.ndarray) -> _Merged:
    n, m = reference.size, current.size
    keys, cum_cur = _scratch(n + m)
    _keys_into(reference.astype(np.float64, copy=False), keys[:n], 0)
    _keys_into(current.astype(np.float64, copy=False), keys[n:], 1)
    keys.sort()
    best = max(_scan_block(keys, cum_cur, start, n, m) for start in range(0, keys.size, _BLOCK))
    return _Merged(keys, cum_cur, best / (n * m), n, m)


def _scan_block(keys: np.ndarray, cum_cur: np.ndarray, start: int, n: int, m: int) -> int:
    """Fill ``cum_cur`` for one cache-sized block and return its largest ``|F_ref - F_cur| * n * m``.

    The gap is read only at the last position of each distinct value (ties end together), in integers.
    """
    stop = min(start + _BLOCK, keys.size)
    block = keys[start:stop]
    cur = np.cumsum(block & np.uint64(1), dtype=np.int64)
    cur += cum_cur[start - 1] if start else 0
    cum_cur[start:stop] = cur
    gap = np.arange(start + 1, stop + 1, dtype=np.int64) * m - cur * (n + m)  # F_ref·nm − F_cur·nm
    np.abs(gap, out=gap)
    is_end = np.empty(block.size, dtype=bool)
    np.greater(block[1:] ^ block[:-1], np.uint64(1), out=is_end[:-1])
    is_end[-1] = stop == keys.size or (keys[stop] ^ block[-1]) > 1
    return int(np.max(gap, where=is_end, initial=0))


def _edges(merged: _Merged, bins: int) -> np.ndarray:
    """Value ids of the reference's quantile edges (``inverted_cdf``), without duplicates."""
    ranks = np.ceil(np.arange(1, bins) / bins * merged.n).astype(np.int64)
    positions = merged.positions_of_reference_ranks(ranks)
    return np.unique(merged.keys[positions] >> np.uint64(1))


def _bin_counts(merged: _Merged, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ref_le, cur_le = merged.counts_at_or_below(edges)
    ref = np.diff(np.concatenate([[0], ref_le, [merged.n]]))
    cur = np.diff(np.concatenate([[0], cur_le, [merged.m]]))
    return ref, cur


def numeric_drift(reference: np.ndarray, current: np.ndarray, bins: int = DEFAULT_BINS) -> ColumnDrift:
    """PSI on the reference's quantile bins, KS statistic and p-value, missing rates (NaN = missing)."""
    ref_ok, cur_ok = _present(reference), _present(current)
    missing = (_rate(reference.size - ref_ok.size, reference.size), _rate(current.size - cur_ok.size, current.size))
    if ref_ok.size == 0 or cur_ok.size == 0:
        return ColumnDrift("numeric", "ks", None, None, None, *missing)
    merged = _merge(ref_ok, cur_ok)
    ref_counts, cur_counts = _bin_counts(merged, _edges(merged, bins))
    statistic = merged.statistic
    return ColumnDrift("numeric", "ks", psi(ref_counts, cur_counts), statistic,
                       ks_p_value(statistic, ref_ok.size, cur_ok.size), *missing)


def _present(values: np.ndarray) -> np.ndarray:
    missing = np.isnan(values)
    return values[~missing] if missing.any() else values


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


@dataclass(frozen=True)
class LevelCounts:
    """Counts of each level (as text) of a categorical column, and of its missing values."""

    counts: Mapping[str, int]
    missing: int

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.missing


def level_counts(series: pd.Series) -> LevelCounts:
    """Level counts of a Series; levels are compared as text (``1`` and ``"1"`` are one level)."""
    counted = series.value_counts(dropna=True, sort=False)
    counts: dict[str, int] = {}
    for level, count in zip(counted.index, counted.to_numpy(), strict=True):
        if count:
            key = str(level)
            counts[key] = counts.get(key, 0) + int(count)
    return LevelCounts(counts, int(series.size - counted.sum()))


def categorical_drift(reference: LevelCounts, current: LevelCounts) -> ColumnDrift:
    """PSI over the union of levels, chi-square on the counts, new and vanished levels (sorted)."""
    missing = (_rate(reference.missing, reference.total), _rate(current.missing, current.total))
    levels = sorted(set(reference.counts) | set(current.counts))
    ref = np.array([reference.counts.get(level, 0) for level in levels], dtype=np.int64)
    cur = np.array([current.counts.get(level, 0) for level in levels], dtype=np.int64)
    if ref.sum() == 0 or cur.sum() == 0:
        return ColumnDrift("categorical", "chi2", None, None, None, *missing)
    statistic, p_value = _chi_square(ref, cur)
    return ColumnDrift("categorical", "chi2", psi(ref, cur), statistic, p_value, *missing,
                       new_levels=tuple(lv for lv in levels if lv not in reference.counts),
                       vanished_levels=tuple(lv for lv in levels if lv not in current.counts))


def _chi_square(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    if reference.size < 2:
        return 0.0, 1.0
    result = chi2_contingency(np.vstack([reference, current]))
    return float(result.statistic), float(result.pvalue)
