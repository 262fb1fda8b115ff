"""Disparities between groups, defined exactly as fairlearn 0.15 defines them, on arrays.

Rates come shaped ``(..., n_groups)`` and overall rates ``(...)``; every function reduces the last axis, so
the same code serves one stratum, several control strata and a whole stack of bootstrap replicates.

- difference, ``between_groups``: max − min over groups (NaN groups skipped, like pandas)
- difference, ``to_overall``: max |group − overall|
- ratio, ``between_groups``: min / max
- ratio, ``to_overall``: min over groups of group/overall folded below 1 (x > 1 → 1/x)
- equalized odds: TPR and FPR disparities combined by ``worst_case`` (max for a difference, min for a
  ratio) or ``mean``. With ``compat`` the combination is fairlearn's literally: Python's ``max``/``min`` of
  ``[tpr, fpr]`` (a NaN TPR term wins, a NaN FPR term is ignored) and a NaN-skipping mean; without it an
  undefined term makes the combination undefined (NaN), the one other place where NaN is not skipped.

Bootstrap intervals resample *counts*, never rows: each group's four confusion cells are redrawn from a
multinomial with the group's own size and observed proportions (a stratified bootstrap, seeded), the
disparities are recomputed from the redrawn counts for all replicates at once, and the interval is the
basic (pivotal) one, ``[2θ − q97.5, 2θ − q2.5]`` clipped to [0, 1] (see ``basic_interval``).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mlops_actions.fairness.rates import rate_table

Rates = dict[str, np.ndarray]
METHODS = ("between_groups", "to_overall")


def _quiet(func: Callable[..., np.ndarray], *args: object, **kwargs: object) -> np.ndarray:
    """Run a NaN-aware reduction without the all-NaN RuntimeWarning (the NaN result is the answer)."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def nanmax(values: np.ndarray) -> np.ndarray:
    """``np.nanmax`` over the last axis without its all-NaN warning: numpy computes it as this very
    ``fmax`` reduction and then warns; the warning filters cost more than the reduction on small arrays."""
    return np.fmax.reduce(values, axis=-1)


def nanmin(values: np.ndarray) -> np.ndarray:
    """``np.nanmin`` over the last axis, without its all-NaN warning (see ``nanmax``)."""
    return np.fmin.reduce(values, axis=-1)


def compared(groups: np.ndarray, value: np.ndarray) -> np.ndarray:
    """``value`` where at least two groups have a rate to compare, else NaN: with one group measured (the
    others empty or left out as too small), a gap between groups is undefined, not 0 -- a gate must not
    pass on it. fairlearn answers 0 there; ``compat`` keeps that."""
    return np.where(np.count_nonzero(~np.isnan(groups), axis=-1) >= 2, value, np.nan)


def difference(groups: np.ndarray, overall: np.ndarray, method: str, compat: bool = False) -> np.ndarray:
    if method == "between_groups":
        gap = nanmax(groups) - nanmin(groups)
        return gap if compat else compared(groups, gap)
    return nanmax(np.abs(groups - overall[..., None]))


def ratio(groups: np.ndarray, overall: np.ndarray, method: str, compat: bool = False) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if method == "between_groups":
            quotient = np.divide(nanmin(groups), nanmax(groups))
            return quotient if compat else compared(groups, quotient)
        folded = np.divide(groups, overall[..., None])
        folded = np.where(folded > 1, np.divide(1.0, folded), folded)
    return nanmin(folded)


def combine(tpr: np.ndarray, fpr: np.ndarray, *, kind: str, agg: str, compat: bool) -> np.ndarray:
    """Equalized-odds aggregation of the TPR and FPR disparities."""
    if agg == "mean":
        return _quiet(np.nanmean, np.stack([tpr, fpr]), axis=0) if compat else (tpr + fpr) / 2
    if compat:  # Python's max([tpr, fpr]) / min([tpr, fpr]), as fairlearn calls them
        return np.where(fpr > tpr, fpr, tpr) if kind == "difference" else np.where(fpr < tpr, fpr, tpr)
    return np.maximum(tpr, fpr) if kind == "difference" else np.minimum(tpr, fpr)


def _suffix(method: str, agg: str = "worst_case") -> str:
    return ("" if method == "between_groups" else "@to_overall") + ("" if agg == "worst_case" else "@mean")


def summary_arrays(groups: Rates, overall: Rates, *, compat: bool) -> dict[str, np.ndarray]:
    """Every summary disparity, keyed as documented in ``mlops_actions.fairness``."""
    out: dict[str, np.ndarray] = {}
    for kind, func in (("difference", difference), ("ratio", ratio)):
        for method in METHODS:
            per_rate = {r: func(groups[r], overall[r], method, compat) for r in ("selection_rate", "tpr", "fpr")}
            out[f"demographic_parity_{kind}{_suffix(method)}"] = per_rate["selection_rate"]
            out[f"equal_opportunity_{kind}{_suffix(method)}"] = per_rate["tpr"]
            for agg in ("worst_case", "mean"):
                out[f"equalized_odds_{kind}{_suffix(method, agg)}"] = combine(
                    per_rate["tpr"], per_rate["fpr"], kind=kind, agg=agg, compat=compat)
    return dict(sorted(out.items()))


def worst_over_strata(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Reduce the stratum axis (the last one): the largest difference, the smallest ratio."""
    return {k: nanmin(v) if "_ratio" in k else nanmax(v) for k, v in values.items()}


DENOMINATOR = {"selection_rate": "n", "accuracy": "n", "tpr": "positives", "fnr": "positives",
               "fpr": "negatives", "tnr": "negatives", "precision": "n"}


def small_rates(table: Rates, min_group_size: int) -> Rates:
    """Per rate, the groups too small to measure it: n or the rate's own denominator below the minimum."""
    small_group = table["n"] < min_group_size
    return {rate: small_group | (table[count] < min_group_size) for rate, count in DENOMINATOR.items()}


def without(rates: Rates, excluded: Rates | None) -> Rates:
    """``rates`` with the excluded groups' values set to NaN (left out of every min/max)."""
    if not excluded:
        return rates
    return {k: np.where(excluded[k], np.nan, v) if k in excluded else v for k, v in rates.items()}


def bootstrap_counts(counts: np.ndarray, replicates: int, seed: int) -> np.ndarray:
    """``replicates`` redraws of ``counts`` (shape ``(..., 4)``): one multinomial per group, sizes kept."""
    n = counts.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        pvals = np.where(n[..., None] > 0, counts / n[..., None], np.eye(4)[0])
    rng = np.random.default_rng(seed)
    return rng.multinomial(n, pvals, size=(replicates, *n.shape))


@dataclass(frozen=True)
class Bootstrap:
    """How the intervals are drawn: ``replicates`` redraws (0: no intervals), seeded with ``seed``, each
    interval covering ``level``."""

    replicates: int
    seed: int
    level: float = 0.95


def bootstrap_intervals(counts: np.ndarray, estimates: dict[str, float], bootstrap: Bootstrap, *, compat: bool,
                        excluded: Rates | None = None) -> dict[str, tuple[float, float]]:
    """Basic bootstrap intervals of every summary disparity (worst over strata), from resampled counts;
    groups ``excluded`` from the estimate (too small) are excluded from every replicate too."""
    replicates, level = bootstrap.replicates, bootstrap.level
    if replicates <= 0:
        return {}
    draws = bootstrap_counts(counts, replicates, bootstrap.seed)  # (B, strata, groups, 4)
    groups = without(rate_table(draws, compat=compat, intervals=False), excluded)
    overall = rate_table(draws.sum(axis=-2), compat=compat, intervals=False)
    per_stratum = worst_over_strata(summary_arrays(groups, overall, compat=compat))  # each (B,)
    keys = list(per_stratum)
    quantiles = tail_quantiles(np.stack([per_stratum[k] for k in keys]), level)
    return {key: basic_interval(estimates[key], replicates=None, level=level, quantiles=q)
            for key, q in zip(keys, quantiles, strict=True)}


def tail_quantiles(rows: np.ndarray, level: float) -> np.ndarray:
    """The two tail quantiles of each row of ``rows`` (K, B), NaNs skipped: ``(K, 2)``. Rows without NaN go
    through one vectorised ``np.quantile`` (the very computation ``np.nanquantile`` does row by row once
    it has dropped the NaNs); rows with NaN through ``np.nanquantile``."""
    tail = (1 - level) / 2
    out = np.empty((rows.shape[0], 2))
    clean = ~np.isnan(rows).any(axis=1)
    if clean.any():
        out[clean] = np.quantile(rows[clean], [tail, 1 - tail], axis=1).T
    for i in np.flatnonzero(~clean):
        out[i] = _quiet(np.nanquantile, rows[i], [tail, 1 - tail])
    return out


def basic_interval(estimate: float, replicates: np.ndarray | None, level: float,
                   quantiles: np.ndarray | None = None) -> tuple[float, float]:
    """Basic (pivotal) bootstrap interval ``[2θ − q_hi, 2θ − q_lo]``, clipped to [0, 1] (``quantiles``:
    the two tail quantiles of the replicates, when the caller computed them already).

    A max − min over groups is biased upward under resampling (and a min/max ratio downward); the basic
    interval corrects that bias where the plain percentile interval would inherit it, so that identical
    groups get an interval reaching 0 (or 1 for a ratio). NaN when the estimate or every replicate is NaN.
    """
    if quantiles is None:
        quantiles = tail_quantiles(np.asarray(replicates, dtype=float)[None, :], level)[0]
    q_lo, q_hi = quantiles
    lower, upper = np.clip([2 * estimate - q_hi, 2 * estimate - q_lo], 0.0, 1.0)
    return float(lower), float(upper)
