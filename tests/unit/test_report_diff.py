"""Diffs between the baseline and the candidate: metrics (direction-aware), params, data, fairness."""

from __future__ import annotations

import math

import pytest

from mlops_actions.evaluation.diff import (
    BETTER,
    NEW,
    REMOVED,
    SAME,
    UNDEFINED,
    WORSE,
    class_balance,
    data_diff,
    fairness_diff,
    metric_diff,
    params_diff,
)


@pytest.mark.parametrize(("old", "new", "direction", "change"), [
    (0.80, 0.85, "higher", BETTER), (0.80, 0.75, "higher", WORSE), (0.80, 0.80, "higher", SAME),
    (0.40, 0.30, "lower", BETTER), (0.40, 0.50, "lower", WORSE), (math.nan, 0.5, "higher", UNDEFINED),
    (0.5, math.nan, "lower", UNDEFINED), (None, 0.5, "higher", UNDEFINED)])
def test_metric_change_follows_the_direction(old: float | None, new: float, direction: str, change: str) -> None:
    [d] = metric_diff({"m": new}, {"m": old}, {"m": direction})
    assert d.change == change
    if change in (BETTER, WORSE, SAME):
        assert d.delta == pytest.approx(new - old)
        assert d.relative == pytest.approx((new - old) / abs(old))
    else:
        assert d.delta is None and d.relative is None


def test_metric_diff_without_baseline_marks_all_new() -> None:
    diffs = metric_diff({"accuracy": 0.8, "log_loss": 0.3}, None, {"log_loss": "lower"})
    assert [(d.name, d.change, d.direction) for d in diffs] == [("accuracy", NEW, "higher"), ("log_loss", NEW, "lower")]


def test_metric_diff_lists_added_and_removed_metrics() -> None:
    diffs = metric_diff({"accuracy": 0.8, "f1": 0.5}, {"accuracy": 0.7, "roc_auc": 0.9}, {})
    assert [(d.name, d.change) for d in diffs] == [("accuracy", BETTER), ("f1", NEW), ("roc_auc", REMOVED)]


def test_relative_change_from_zero_is_undefined() -> None:
    [d] = metric_diff({"m": 0.1}, {"m": 0.0}, {"m": "higher"})
    assert d.delta == pytest.approx(0.1) and d.relative is None


def test_relative_change_uses_the_magnitude_of_a_negative_baseline() -> None:
    [d] = metric_diff({"r2": -0.1}, {"r2": -0.2}, {"r2": "higher"})
    assert d.change == BETTER and d.relative == pytest.approx(0.5)


def test_params_diff_old_to_new_added_removed() -> None:
    old = {"class": "sklearn.linear_model.LogisticRegression", "params": {"C": 1.0, "max_iter": 100, "tol": 1e-4}}
    new = {"class": "sklearn.linear_model.LogisticRegression", "params": {"C": 0.5, "max_iter": 100, "l1_ratio": 0}}
    changes = params_diff(old, new)
    assert [(c.name, c.kind, c.old, c.new) for c in changes] == [
        ("C", "changed", 1.0, 0.5), ("l1_ratio", "added", None, 0), ("tol", "removed", 1e-4, None)]


def test_params_diff_sees_a_new_estimator_class_and_type_changes() -> None:
    changes = params_diff({"class": "a.B", "params": {"x": 1, "flag": True}},
                          {"class": "a.C", "params": {"x": 1.0, "flag": 1}})
    assert [(c.name, c.kind) for c in changes] == [("class", "changed"), ("flag", "changed")]


def test_params_diff_of_equal_params_is_empty() -> None:
    assert params_diff({"params": {"C": 1}}, {"params": {"C": 1}}) == ()
    assert params_diff(None, None) == ()


def _file(rows: int, h: str, **cols: str) -> dict:
    return {"path": "data/d.csv", "hash": f"git:{h * 40}", "rows": rows, "columns": cols}


def test_data_diff_rows_hash_columns() -> None:
    d = data_diff([_file(100, "a", x="int64", y="object", gone="float64")],
                  [_file(120, "b", x="float64", y="object", new="bool")],
                  {"No": 0.3, "Yes": 0.7}, {"No": 0.25, "Yes": 0.75})
    assert (d.old_rows, d.new_rows) == (100, 120)
    assert d.hash_changed and d.changed
    assert d.added == ("new",) and d.removed == ("gone",)
    assert d.retyped == (("x", "int64", "float64"),)
    assert d.new_balance == {"No": 0.25, "Yes": 0.75}


def test_data_diff_of_the_same_data_is_unchanged() -> None:
    d = data_diff([_file(100, "a", x="int64")], [_file(100, "a", x="int64")])
    assert not d.changed and not d.hash_changed


def test_data_diff_without_baseline() -> None:
    d = data_diff(None, [_file(100, "a", x="int64")])
    assert d.old_rows is None and d.new_rows == 100 and d.added == () and d.old_hashes == ()


def test_data_diff_with_unknown_row_counts() -> None:
    d = data_diff([{"path": "p", "hash": "git:" + "a" * 40}], [_file(5, "a")])
    assert d.old_rows is None and d.new_rows == 5


def test_class_balance_is_sorted_and_sums_to_one() -> None:
    balance = class_balance(["Yes", "No", "Yes", "Yes"])
    assert list(balance) == ["No", "Yes"] and balance["Yes"] == 0.75
    assert class_balance([]) == {}


def test_fairness_diff_judges_differences_lower_and_ratios_higher() -> None:
    diffs = fairness_diff({"demographic_parity_difference": 0.10, "demographic_parity_ratio": 0.80,
                           "equalized_odds_difference": 0.2},
                          {"demographic_parity_difference": 0.05, "demographic_parity_ratio": 0.70,
                           "equal_opportunity_difference": math.nan})
    assert [(d.name, d.change) for d in diffs] == [
        ("demographic_parity_difference", BETTER), ("demographic_parity_ratio", WORSE),
        ("equal_opportunity_difference", NEW), ("equalized_odds_difference", REMOVED)]
    assert diffs[0].delta == pytest.approx(-0.05)


def test_fairness_diff_with_undefined_values() -> None:
    [d] = fairness_diff({"x_difference": None}, {"x_difference": 0.1})
    assert d.change == UNDEFINED and d.delta is None
    [d] = fairness_diff(None, {"x_difference": 0.1})
    assert d.change == NEW
