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

import numpy as np

from mlops_actions.fairness.rates import rate_table

Rates = dict[str, np.ndarray]
METHODS = ("between_groups", "to_overall")


def _quiet(func: Callable[..., np.ndarray], *args: object, **kwargs: object) -> np.ndarray:
    """Run a NaN-aware reduction without the all-NaN RuntimeWarning (the NaN result is the answer)."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def difference(groups: np.ndarray, overall: np.ndarray, method: str) -> np.ndarray:
    if method == "between_groups":
        return _quiet(np.nanmax, groups, axis=-1) - _quiet(np.nanmin, groups, axis=-1)
    return _quiet(np.nanmax, np.abs(groups - overall[..., None]), axis=-1)


def ratio(groups: np.ndarray, overall: np.ndarray, method: str) -> np.ndarray:
    if method == "between_groups":
        return _quiet(np.divide, _quiet(np.nanmin, groups, axis=-1), _quiet(np.nanmax, groups, axis=-1))
    folded = _quiet(np.divide, groups, overall[..., None])
    folded = np.where(folded > 1, _quiet(np.divide, 1.0, folded), folded)
    return _quiet(np.nanmin, folded, axis=-1)


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
            per_rate = {r: func(groups[r], overall[r], method) for r in ("selection_rate", "tpr", "fpr")}
            out[f"demographic_parity_{kind}{_suffix(method)}"] = per_rate["selection_rate"]
            out[f"equal_opportunity_{kind}{_suffix(method)}"] = per_rate["tpr"]
            for agg in ("worst_case", "mean"):
                out[f"equalized_odds_{kind}{_suffix(method, agg)}"] = combine(
                    per_rate["tpr"], per_rate["fpr"], kind=kind, agg=agg, compat=compat)
    return dict(sorted(out.items()))


def worst_over_strata(values: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Reduce the stratum axis (the last one): the largest difference, the smallest ratio."""
    return {k: _quiet(np.nanmin if "_ratio" in k else np.nanmax, v, axis=-1) for k, v in values.items()}


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


def bootstrap_intervals(counts: np.ndarray, estimates: dict[str, float], *, replicates: int, seed: int,
                        compat: bool, level: float = 0.95,
                        excluded: Rates | None = None) -> dict[str, tuple[float, float]]:
    """Basic bootstrap intervals of every summary disparity (worst over strata), from resampled counts;
    groups ``excluded`` from the estimate (too small) are excluded from every replicate too."""
    if replicates <= 0:
        return {}
    draws = bootstrap_counts(counts, replicates, seed)  # (B, strata, groups, 4)
    groups = without(rate_table(draws, compat=compat, intervals=False), excluded)
    overall = rate_table(draws.sum(axis=-2), compat=compat, intervals=False)
    per_stratum = summary_arrays(groups, overall, compat=compat)  # each (B, strata)
    return {key: basic_interval(estimates[key], values, level)
            for key, values in worst_over_strata(per_stratum).items()}


def basic_interval(estimate: float, replicates: np.ndarray, level: float) -> tuple[float, float]:
    """Basic (pivotal) bootstrap interval ``[2θ − q_hi, 2θ − q_lo]``, clipped to [0, 1].

    A max − min over groups is biased upward under resampling (and a min/max ratio downward); the basic
    interval corrects that bias where the plain percentile interval would inherit it, so that identical
    groups get an interval reaching 0 (or 1 for a ratio). NaN when the estimate or every replicate is NaN.
    """
    tail = (1 - level) / 2
    q_lo, q_hi = _quiet(np.nanquantile, replicates, [tail, 1 - tail])
    lower, upper = np.clip([2 * estimate - q_hi, 2 * estimate - q_lo], 0.0, 1.0)
    return float(lower), float(upper)
