"""The drift statistics against straightforward reference implementations (scipy, numpy quantiles)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import chi2_contingency, ks_2samp

from mlops_actions.errors import InputError
from mlops_actions.monitoring.drift import (
    EPSILON,
    LevelCounts,
    categorical_drift,
    ks_p_value,
    level_counts,
    numeric_drift,
    psi,
)
from mlops_actions.monitoring.thresholds import FAIL, PASS, WARN, Thresholds, judge


def naive_psi(reference: np.ndarray, current: np.ndarray, bins: int = 10) -> float:
    """PSI as documented: inverted-CDF quantile edges of the reference, deduplicated, open outer bins."""
    ref, cur = reference[~np.isnan(reference)], current[~np.isnan(current)]
    edges = np.unique(np.quantile(ref, np.arange(1, bins) / bins, method="inverted_cdf"))
    ref_counts = np.bincount(np.searchsorted(edges, ref, side="left"), minlength=edges.size + 1)
    cur_counts = np.bincount(np.searchsorted(edges, cur, side="left"), minlength=edges.size + 1)
    p = np.maximum(ref_counts / ref.size, EPSILON)
    q = np.maximum(cur_counts / cur.size, EPSILON)
    return float(np.sum((q - p) * np.log(q / p)))


def _cases() -> list[tuple[str, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(7)
    with_nan = rng.normal(size=400)
    with_nan[::9] = np.nan
    return [
        ("continuous shift", rng.normal(size=600), rng.normal(0.4, 1.0, 350)),
        ("integers with ties", rng.integers(0, 5, 500).astype(float), rng.integers(0, 7, 300).astype(float)),
        ("mostly one value", np.r_[np.zeros(90), np.arange(10.0)], np.r_[np.zeros(20), np.arange(30.0)]),
        ("outside the range", rng.uniform(0, 1, 300), rng.uniform(-2, 3, 300)),
        ("signed zeros and infinities", np.r_[-0.0, 0.0, 1, 2, -np.inf, 3] * 1.0, np.r_[0.0, 0.0, -0.0, np.inf, 5]),
        ("missing values", with_nan, rng.normal(0.2, 1.0, 250)),
        ("large values", rng.normal(1e12, 1e9, 300), rng.normal(1e12, 2e9, 300)),
    ]


@pytest.mark.parametrize(("label", "reference", "current"), _cases(), ids=[c[0] for c in _cases()])
def test_numeric_drift_matches_scipy_and_naive_psi(label: str, reference: np.ndarray, current: np.ndarray) -> None:
    result = numeric_drift(reference, current)
    expected = ks_2samp(reference[~np.isnan(reference)], current[~np.isnan(current)], method="asymp")
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-300)
    assert result.psi == pytest.approx(naive_psi(reference, current), rel=1e-12)


def test_identical_samples_do_not_drift() -> None:
    values = np.random.default_rng(1).normal(size=1000)
    result = numeric_drift(values, values.copy())
    assert (result.psi, result.statistic, result.p_value) == (0.0, 0.0, 1.0)


def test_constant_reference_gives_values_above_it_a_bin() -> None:
    result = numeric_drift(np.full(100, 5.0), np.r_[np.full(50, 5.0), np.full(50, 6.0)])
    assert result.statistic == pytest.approx(0.5)
    assert result.psi == pytest.approx(naive_psi(np.full(100, 5.0), np.r_[np.full(50, 5.0), np.full(50, 6.0)]))
    assert result.psi > 1  # an empty reference bin is floored at EPSILON, so the term is large but finite
    assert np.isfinite(result.psi)


def test_missing_rates_and_an_all_missing_side() -> None:
    reference = np.r_[np.arange(8.0), np.nan, np.nan]
    result = numeric_drift(reference, np.full(4, np.nan))
    assert (result.missing_reference, result.missing_current) == (0.2, 1.0)
    assert result.psi is None and result.p_value is None


def test_large_sample_p_value_uses_the_limiting_distribution() -> None:
    rng = np.random.default_rng(3)
    a, b = rng.normal(size=30_000), rng.normal(0.01, 1.0, 30_000)
    result = numeric_drift(a, b)
    expected = ks_2samp(a, b, method="asymp")
    assert result.statistic == pytest.approx(expected.statistic, abs=1e-12)
    assert result.p_value == pytest.approx(expected.pvalue, rel=1e-2)
    assert ks_p_value(0.0, 10, 10) == 1.0


def test_psi_floors_empty_bins() -> None:
    value = psi(np.array([50, 50, 0]), np.array([40, 40, 20]))
    p, q = np.array([0.5, 0.5, EPSILON]), np.array([0.4, 0.4, 0.2])
    assert value == pytest.approx(float(np.sum((q - p) * np.log(q / p))))


def test_categorical_names_new_and_vanished_levels_and_matches_chi2() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 30 + ["gone"] * 20 + [None] * 10)
    current = pd.Series(["a"] * 20 + ["b"] * 30 + ["fresh"] * 50)
    result = categorical_drift(level_counts(reference), level_counts(current))
    assert result.new_levels == ("fresh",)
    assert result.vanished_levels == ("gone",)
    assert result.missing_reference == pytest.approx(10 / 110)
    table = np.array([[50, 30, 0, 20], [20, 30, 50, 0]])  # levels sorted: a, b, fresh, gone
    expected = chi2_contingency(table)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.psi == pytest.approx(psi(table[0], table[1]))


def test_levels_compare_as_text_and_category_dtype_works() -> None:
    counted = level_counts(pd.Series([1, 1, 2], dtype="int64"))
    assert counted == LevelCounts({"1": 2, "2": 1}, 0)
    as_text = level_counts(pd.Series(["1", "2", "2"]).astype("category"))
    result = categorical_drift(counted, as_text)
    assert result.new_levels == () and result.vanished_levels == ()


def test_single_level_has_no_test() -> None:
    result = categorical_drift(LevelCounts({"x": 5}, 0), LevelCounts({"x": 9}, 1))
    assert (result.statistic, result.p_value, result.psi) == (0.0, 1.0, 0.0)


@pytest.mark.parametrize(("psi_value", "p_value", "missing", "new", "verdict"), [
    (0.01, 0.5, 0.0, (), PASS),
    (0.12, 0.5, 0.0, (), WARN),
    (0.01, 0.001, 0.0, (), WARN),
    (0.40, 0.001, 0.0, (), FAIL),
    (0.40, 0.5, 0.0, (), WARN),  # large but not significant (small sample): warn, not fail
    (0.01, 0.5, 0.07, (), WARN),
    (0.01, 0.5, 0.30, (), FAIL),
    (0.01, 0.5, 0.0, ("z",), WARN),
])
def test_verdicts(psi_value: float, p_value: float, missing: float, new: tuple[str, ...], verdict: str) -> None:
    stats = categorical_drift(LevelCounts({"a": 1}, 0), LevelCounts({"a": 1}, 0))
    stats = type(stats)("categorical", "chi2", psi_value, 1.0, p_value, 0.0, missing, new)
    assert judge(stats, Thresholds())[0] == verdict


def test_thresholds_from_mapping() -> None:
    assert Thresholds.from_mapping({"psi_fail": 0.3, "bins": 20}) == Thresholds(psi_fail=0.3, bins=20)
    with pytest.raises(InputError, match="unknown threshold 'psi'"):
        Thresholds.from_mapping({"psi": 0.3})
    with pytest.raises(InputError, match="'p_value' must be a number"):
        Thresholds.from_mapping({"p_value": "small"})
    with pytest.raises(InputError, match="must not exceed psi_fail"):
        Thresholds.from_mapping({"psi_warn": 0.5})
    with pytest.raises(InputError, match="'bins' must be an integer"):
        Thresholds.from_mapping({"bins": 1})
