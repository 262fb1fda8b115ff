"""The fairness engine's own behaviour: report shape, warnings, bad input, bootstrap, JSON form."""

from __future__ import annotations

import json
import math
import re

import numpy as np
import pandas as pd
import pytest

from mlops_actions.errors import InputError
from mlops_actions.fairness import FairnessOptions, FairnessReport, evaluate

SUMMARY_KEYS = {
    f"{name}_{kind}{sfx}"
    for name in ("demographic_parity", "equal_opportunity") for kind in ("difference", "ratio")
    for sfx in ("", "@to_overall")
} | {
    f"equalized_odds_{kind}{method}{agg}"
    for kind in ("difference", "ratio") for method in ("", "@to_overall") for agg in ("", "@mean")
}


def _data(n: int = 400, seed: int = 0):
    rng = np.random.default_rng(seed)
    sf = pd.DataFrame({"colour": rng.choice(["Black", "White"], n), "sex": rng.choice(["F", "M"], n)})
    y_true = rng.integers(0, 2, n)
    return y_true, np.where(rng.random(n) < 0.8, y_true, 1 - y_true), sf


def test_report_shape_and_documented_summary_keys() -> None:
    y_true, y_pred, sf = _data()
    report = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=100))
    assert isinstance(report, FairnessReport)
    assert set(report.summary) == SUMMARY_KEYS
    assert set(report.summary_ci) == SUMMARY_KEYS
    assert report.by_group.index.names == ["colour", "sex"]
    for rate in ("selection_rate", "tpr", "fpr", "tnr", "fnr", "accuracy", "precision"):
        lower, value, upper = (report.by_group[c] for c in (f"{rate}_lower", rate, f"{rate}_upper"))
        assert ((lower <= value) & (value <= upper)).all(), rate
    assert report.overall["n"] == 400 == report.by_group["n"].sum()
    assert (report.by_group["tp"] + report.by_group["fn"] == report.by_group["positives"]).all()


def test_wilson_interval_known_value() -> None:
    # 8 positives predicted out of 10 in one group: Wilson 95% = [0.4902, 0.9433] (textbook value)
    report = evaluate(np.ones(10, int), np.array([1] * 8 + [0] * 2), pd.Series(["g"] * 10, name="s"),
                      FairnessOptions(bootstrap=0))
    row = report.by_group.loc["g"]
    assert row["selection_rate"] == 0.8
    assert round(row["selection_rate_lower"], 4) == 0.4902 and round(row["selection_rate_upper"], 4) == 0.9433


def test_bootstrap_is_seeded_and_skippable() -> None:
    y_true, y_pred, sf = _data()
    a = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=200, seed=1))
    b = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=200, seed=1))
    c = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=200, seed=2))
    assert a.summary_ci == b.summary_ci != c.summary_ci
    for lower, upper in a.summary_ci.values():
        assert 0.0 <= lower <= upper <= 1.0
    assert evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0)).summary_ci == {}


def test_identical_groups_get_an_interval_reaching_zero() -> None:
    """Same counts in every group: the difference is 0 and its interval must include 0."""
    y_true = np.tile([1, 1, 0, 0, 1, 0, 1, 0], 50)
    y_pred = np.tile([1, 0, 0, 1, 1, 0, 0, 0], 50)
    sf = pd.Series(np.repeat(["a", "b"], 200), name="g")
    report = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=500))
    assert report.summary["demographic_parity_difference"] == 0.0
    assert report.summary_ci["demographic_parity_difference"][0] == 0.0
    assert report.summary_ci["demographic_parity_ratio"][1] == 1.0


def test_to_dict_is_json_ready_sorted_and_deterministic() -> None:
    y_true, y_pred, sf = _data()
    sf.loc[(sf["colour"] == "Black") & (sf["sex"] == "F"), "sex"] = "M"  # an empty intersection
    first = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=50)).to_dict()
    text = json.dumps(first, allow_nan=False)
    assert text == json.dumps(evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=50)).to_dict(), allow_nan=False)
    assert list(first) == sorted(first)
    empty = next(g for g in first["groups"] if g["group"] == {"colour": "Black", "sex": "F"})
    assert empty["n"] == 0 and empty["tpr"] is None
    assert list(empty) == sorted(empty)
    assert isinstance(first["overall"]["n"], int)


def test_control_features_in_dict_and_overall_by_stratum() -> None:
    y_true, y_pred, sf = _data()
    control = pd.Series(np.where(np.arange(400) % 3 == 0, "old", "young"), name="age")
    report = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=20), control_features=control)
    assert report.by_group.index.names == ["age", "colour", "sex"]
    assert list(report.overall.index) == ["old", "young"]
    assert set(report.summary_by_stratum) == {"age=old", "age=young"}
    data = report.to_dict()
    assert data["control_features"] == ["age"]
    assert {tuple(row["control"].values()) for row in data["overall"]} == {("old",), ("young",)}


def test_categorical_and_dict_features_group_like_strings() -> None:
    y_true, y_pred, sf = _data()
    as_str = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0))
    cats = sf.astype({"colour": pd.CategoricalDtype(["White", "Black", "Purple"])})  # unused, unsorted
    as_cat = evaluate(y_true, y_pred, cats, FairnessOptions(bootstrap=0))
    as_dict = evaluate(y_true, y_pred, {"colour": sf["colour"].to_numpy(), "sex": sf["sex"].tolist()},
                       FairnessOptions(bootstrap=0))
    for other in (as_cat, as_dict):
        assert list(other.by_group.index) == list(as_str.by_group.index)
        assert other.summary == as_str.summary


def test_unnamed_array_feature_gets_fairlearn_name() -> None:
    y_true, y_pred, sf = _data()
    report = evaluate(y_true, y_pred, sf["sex"].to_numpy(), FairnessOptions(bootstrap=0))
    assert report.by_group.index.name == "sensitive_feature_0"


def test_small_group_warning_names_the_denominator_that_matters() -> None:
    y_true = np.array([1] * 40 + [0] * 5 + [1] * 20 + [0] * 20)
    y_pred = y_true.copy()
    sf = pd.Series(["a"] * 45 + ["b"] * 40, name="g")
    report = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0, min_group_size=30))
    a = [w for w in report.warnings if "g=a" in w]
    b = [w for w in report.warnings if "g=b" in w]
    assert len(a) == 1 and "negatives=5 for FPR" in a[0] and "TPR" not in a[0] and "selection" not in a[0]
    assert len(b) == 1 and "positives=20 for TPR" in b[0] and "negatives=20 for FPR" in b[0]
    assert "selection rate" not in b[0]


@pytest.mark.parametrize(("y_true", "pos_label", "expected"), [
    (np.array([0, 1, 2, 1]), 1, "3 distinct labels"),
    (np.array(["No", "Yes", "Yes", "No"]), 1, "labels outside {0, 1}"),
    (np.array(["No", "Yes", "Yes", "No"]), "yes", "occurs in neither"),
])
def test_label_warnings(y_true: np.ndarray, pos_label: object, expected: str) -> None:
    sf = pd.Series(["a", "a", "b", "b"], name="g")
    report = evaluate(y_true, y_true, sf, FairnessOptions(pos_label=pos_label, bootstrap=0, min_group_size=0))
    assert any(expected in w for w in report.warnings), report.warnings


def test_minus_one_one_labels_need_no_pos_label() -> None:
    y = np.array([-1, 1, 1, -1])
    report = evaluate(y, y, pd.Series(["a", "a", "b", "b"], name="g"), FairnessOptions(bootstrap=0, min_group_size=0))
    assert report.warnings == []
    assert report.by_group["tpr"].tolist() == [1.0, 1.0]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sensitive_features": pd.Series(["a", None, "b", "b"], name="g")}, "feature 'g' has 1 missing values"),
    ({"y_true": np.array([1.0, np.nan, 0.0, 1.0])}, "y_true has 1 missing values"),
    ({"y_pred": np.array([1, 0, 1])}, "y_true has 4 values but y_pred has 3"),
    ({"sensitive_features": pd.Series(["a", "b"], name="g")}, "feature 'g' has 2 values"),
    ({"sensitive_features": pd.DataFrame({0: ["a", "a", "b", "b"]})}, "feature names must be strings"),
    ({"sensitive_features": pd.DataFrame({"g": list("aabb")}), "control_features": pd.Series(list("xyxy"),
                                                                                            name="g")},
     "feature name used twice: g"),
    ({"task": "ranking"}, "unknown task 'ranking'"),
    ({"y_true": np.zeros(1001, int), "y_pred": np.zeros(1001, int),
      "sensitive_features": {"a": np.arange(1001), "b": np.arange(1001)}}, "too many groups: 1001 (a) × 1001 (b)"),
    ({"y_true": np.array([]), "y_pred": np.array([]), "sensitive_features": pd.Series([], name="g")}, "0 rows"),
])
def test_bad_input_is_an_input_error(kwargs: dict, message: str) -> None:
    args = {"y_true": np.array([1, 0, 1, 0]), "y_pred": np.array([1, 1, 0, 0]),
            "sensitive_features": pd.Series(["a", "a", "b", "b"], name="g")} | kwargs
    with pytest.raises(InputError, match=re.escape(message)):
        options = FairnessOptions(task=args.pop("task", "classification"))
        evaluate(args.pop("y_true"), args.pop("y_pred"), args.pop("sensitive_features"), options, **args)


def test_regression_gaps_and_small_groups() -> None:
    sf = pd.Series(["a"] * 5 + ["b"] * 5, name="g")
    y_true = np.arange(10, dtype=float)
    y_pred = y_true + np.array([1.0] * 5 + [3.0] * 5)
    report = evaluate(y_true, y_pred, sf, FairnessOptions(task="regression", min_group_size=30))
    assert report.by_group["mae"].tolist() == [1.0, 3.0]
    assert report.summary == {"mae_difference": 2.0, "rmse_difference": 2.0, "mean_prediction_difference": 7.0}
    assert len(report.warnings) == 2 and report.summary_ci == {}
    assert math.isclose(report.overall["rmse"], math.sqrt(5.0))


def test_a_gap_between_groups_with_one_group_left_to_compare_is_undefined_not_zero() -> None:
    """Two groups, one too small to count: a between-groups disparity compares nothing, so it is NaN (a gate
    cannot pass on it), not fairlearn's 0; the comparison with the overall rate stays defined."""
    rng = np.random.default_rng(3)
    n = 400
    sf = pd.DataFrame({"group": np.where(np.arange(n) < 10, "rare", "common")})
    y_true = rng.integers(0, 2, n)
    y_pred = np.where(rng.random(n) < 0.7, y_true, 1 - y_true)
    ours = evaluate(y_true, y_pred, sf, FairnessOptions(min_group_size=30, exclude_small=True)).summary
    assert math.isnan(ours["demographic_parity_difference"]) and math.isnan(ours["demographic_parity_ratio"])
    assert math.isnan(ours["equalized_odds_difference"])
    assert not math.isnan(ours["demographic_parity_difference@to_overall"])
    both = evaluate(y_true, y_pred, sf, FairnessOptions(min_group_size=5, exclude_small=True)).summary
    assert not math.isnan(both["demographic_parity_difference"])
    alone = pd.DataFrame({"group": ["common"] * n})
    assert math.isnan(evaluate(y_true, y_pred, alone, FairnessOptions()).summary["demographic_parity_difference"])
    compat = evaluate(y_true, y_pred, alone, FairnessOptions(fairlearn_compat=True)).summary
    assert compat["demographic_parity_difference"] == 0.0  # fairlearn's answer, kept under compat
