"""Gate semantics, table-driven: floors, ceilings, max regression (direction-aware), fairness limits,
undefined values (never a silent pass), a missing baseline (stated as not applicable), and the verdict."""

from __future__ import annotations

import math
from typing import Any

import pytest

from mlops_actions.convention.model import Gate, Policy
from mlops_actions.evaluation.gates import (
    FAIL,
    PASS,
    UNDEFINED,
    WARN,
    GateReport,
    Observed,
    check_gate,
    evaluate_gates,
    fairness_key,
    verdict_of,
)

NO_BASELINE = object()

# gate, candidate value (missing key when NO_VALUE), baseline value (NO_BASELINE: no baseline at all),
# direction, expected status, words the message must contain
NO_VALUE = object()
METRIC_CASES: list[tuple[dict[str, Any], Any, Any, str, str, str]] = [
    ({"metric": "accuracy", "min": 0.7}, 0.75, NO_BASELINE, "higher", PASS, "≥ 0.7"),
    ({"metric": "accuracy", "min": 0.7}, 0.7, NO_BASELINE, "higher", PASS, "≥"),
    ({"metric": "accuracy", "min": 0.7}, 0.69, NO_BASELINE, "higher", FAIL, "below the minimum 0.7"),
    ({"metric": "accuracy", "min": 0.7, "action": "warn"}, 0.69, NO_BASELINE, "higher", WARN, "below"),
    ({"metric": "log_loss", "max": 0.5}, 0.4, NO_BASELINE, "lower", PASS, "≤ 0.5"),
    ({"metric": "log_loss", "max": 0.5}, 0.6, NO_BASELINE, "lower", FAIL, "above the maximum 0.5"),
    ({"metric": "accuracy", "min": 0.7}, math.nan, NO_BASELINE, "higher", FAIL, "undefined (NaN or null)"),
    ({"metric": "accuracy", "min": 0.7}, None, NO_BASELINE, "higher", FAIL, "undefined"),
    ({"metric": "accuracy", "min": 0.7, "action": "warn"}, math.nan, NO_BASELINE, "higher", FAIL, "cannot pass"),
    ({"metric": "accuracy", "min": 0.7, "undefined": "warn"}, math.nan, NO_BASELINE, "higher", WARN, "cannot pass"),
    ({"metric": "accuracy", "min": 0.7}, NO_VALUE, NO_BASELINE, "higher", FAIL, "not reported"),
    ({"metric": "log_loss", "max": 0.5}, math.nan, NO_BASELINE, "lower", FAIL, "undefined"),
    # max regression, direction-aware
    ({"metric": "roc_auc", "max_regression": 0.02}, 0.80, 0.81, "higher", PASS, "within 0.02"),
    ({"metric": "roc_auc", "max_regression": 0.02}, 0.83, 0.85, "higher", PASS, "within"),  # exactly 0.02
    ({"metric": "roc_auc", "max_regression": 0.02}, 0.78, 0.81, "higher", FAIL, "worse than the baseline"),
    ({"metric": "roc_auc", "max_regression": 0.02}, 0.95, 0.81, "higher", PASS, "regression 0 "),
    ({"metric": "log_loss", "max_regression": 0.05}, 0.40, 0.30, "lower", FAIL, "by 0.1"),
    ({"metric": "log_loss", "max_regression": 0.05}, 0.20, 0.30, "lower", PASS, "within"),
    ({"metric": "log_loss", "max_regression": 0.05, "action": "warn"}, 0.40, 0.30, "lower", WARN, "more than"),
    ({"metric": "roc_auc", "max_regression": 0.0}, 0.81, 0.81, "higher", PASS, "within 0"),
    # no baseline: explicitly not applicable, never a silent pass
    ({"metric": "roc_auc", "max_regression": 0.02}, 0.8, NO_BASELINE, "higher", UNDEFINED,
     "not applicable (new model)"),
    ({"metric": "roc_auc", "max_regression": 0.02}, math.nan, NO_BASELINE, "higher", UNDEFINED, "new model"),
    # a baseline whose value is undefined
    ({"metric": "roc_auc", "max_regression": 0.02}, 0.8, math.nan, "higher", UNDEFINED, "no defined value"),
    ({"metric": "roc_auc", "max_regression": 0.02}, 0.8, NO_VALUE, "higher", UNDEFINED, "no defined value"),
    # an undefined candidate with a baseline fails
    ({"metric": "roc_auc", "max_regression": 0.02}, math.nan, 0.8, "higher", FAIL, "undefined (NaN or null)"),
]


def _observed(name: str, value: Any, baseline: Any, direction: str, *, fairness: bool = False) -> Observed:
    now = {} if value is NO_VALUE else {name: value}
    then = None if baseline is NO_BASELINE else ({} if baseline is NO_VALUE else {name: baseline})
    if fairness:
        return Observed(metrics={}, directions={}, fairness=now, baseline_fairness=then, baseline_metrics=then)
    return Observed(metrics=now, directions={name: direction}, fairness={}, baseline_metrics=then)


@pytest.mark.parametrize(("gate", "value", "baseline", "direction", "status", "words"), METRIC_CASES)
def test_metric_gate(gate: dict[str, Any], value: Any, baseline: Any, direction: str, status: str,
                     words: str) -> None:
    g = Gate.from_dict(gate)
    [result] = check_gate(g, _observed(g.name, value, baseline, direction))
    shown = UNDEFINED if result.status == UNDEFINED and result.effect == PASS else result.effect  # n/a
    assert (shown, result.bound) == (status, next(k for k in ("min", "max", "max_regression") if k in gate))
    assert words in result.message
    if "cannot pass" in result.message:  # an undefined value is shown as undefined, whatever it counts as
        assert result.status == UNDEFINED and result.value is None
    if status == PASS:
        assert result.value is not None


FAIRNESS_CASES: list[tuple[dict[str, Any], str, Any, Any, str, str]] = [
    ({"fairness": "demographic_parity_difference", "max": 0.1}, "demographic_parity_difference", 0.05,
     NO_BASELINE, PASS, "≤ 0.1"),
    ({"fairness": "demographic_parity_difference", "max": 0.1}, "demographic_parity_difference", 0.15,
     NO_BASELINE, FAIL, "above the maximum"),
    ({"fairness": "demographic_parity_difference", "max": 0.1, "method": "to_overall"},
     "demographic_parity_difference@to_overall", 0.15, NO_BASELINE, FAIL, "above"),
    ({"fairness": "demographic_parity_ratio", "min": 0.8}, "demographic_parity_ratio", 0.75, NO_BASELINE, FAIL,
     "below the minimum 0.8"),
    ({"fairness": "demographic_parity_ratio", "min": 0.8, "undefined": "warn"}, "demographic_parity_ratio",
     math.nan, NO_BASELINE, WARN, "undefined"),
    ({"fairness": "equalized_odds_difference", "max": 0.1}, "equalized_odds_difference", NO_VALUE,
     NO_BASELINE, FAIL, "not reported"),
    # regression of a disparity: a difference must not grow, a ratio must not shrink
    ({"fairness": "equal_opportunity_difference", "max_regression": 0.02}, "equal_opportunity_difference", 0.10,
     0.05, FAIL, "worse"),
    ({"fairness": "equal_opportunity_difference", "max_regression": 0.02}, "equal_opportunity_difference", 0.01,
     0.05, PASS, "within"),
    ({"fairness": "equal_opportunity_ratio", "max_regression": 0.02}, "equal_opportunity_ratio", 0.80, 0.90,
     FAIL, "worse"),
    ({"fairness": "equal_opportunity_ratio", "max_regression": 0.02}, "equal_opportunity_ratio", 0.95, 0.90,
     PASS, "within"),
    ({"fairness": "mae_difference", "max": 1.0}, "mae_difference", 2.0, NO_BASELINE, FAIL, "above"),
]


@pytest.mark.parametrize(("gate", "key", "value", "baseline", "status", "words"), FAIRNESS_CASES)
def test_fairness_gate(gate: dict[str, Any], key: str, value: Any, baseline: Any, status: str, words: str) -> None:
    [result] = check_gate(Gate.from_dict(gate), _observed(key, value, baseline, "", fairness=True))
    assert result.effect == status
    assert words in result.message


def test_fairness_key_follows_the_engine_summary() -> None:
    assert fairness_key("equalized_odds_ratio", "between_groups") == "equalized_odds_ratio"
    assert fairness_key("equalized_odds_ratio", "to_overall") == "equalized_odds_ratio@to_overall"
    assert fairness_key("rmse_difference", "between_groups") == "rmse_difference"  # one name everywhere


def test_a_gate_with_several_bounds_gives_one_result_per_bound() -> None:
    gate = Gate.from_dict({"metric": "accuracy", "min": 0.7, "max": 0.99, "max_regression": 0.01})
    results = check_gate(gate, Observed({"accuracy": 0.995}, {"accuracy": "higher"}, {}, {"accuracy": 0.9}))
    assert [(r.bound, r.status) for r in results] == [("min", PASS), ("max", FAIL), ("max_regression", PASS)]


def test_direction_defaults_when_the_metrics_file_has_none() -> None:
    gate = Gate.from_dict({"metric": "rmse", "max_regression": 0.1})
    [result] = check_gate(gate, Observed({"rmse": 2.0}, {}, {}, {"rmse": 1.0}))
    assert result.status == FAIL  # rmse is lower-is-better: 2.0 vs 1.0 regressed by 1.0


@pytest.mark.parametrize(("statuses", "verdict"), [
    ([], PASS), ([PASS], PASS), ([UNDEFINED], PASS), ([PASS, WARN], WARN), ([WARN, FAIL, PASS], FAIL),
    ([UNDEFINED, WARN], WARN), ([FAIL], FAIL)])
def test_verdict(statuses: list[str], verdict: str) -> None:
    assert verdict_of(statuses) == verdict


def test_an_undefined_value_counts_as_the_gates_undefined_setting_in_the_verdict() -> None:
    fails = Gate.from_dict({"fairness": "demographic_parity_difference", "max": 0.1, "action": "warn"})
    warns = Gate.from_dict({"fairness": "demographic_parity_difference", "max": 0.1, "undefined": "warn"})
    obs = Observed({}, {}, {}, unmeasured="a multi-class target without fairness.classes")
    report = evaluate_gates([fails], obs)
    assert report.verdict == FAIL and report.count(FAIL) == 1 and report.results[0].status == UNDEFINED
    assert "not measured (a multi-class target" in report.results[0].message
    assert evaluate_gates([warns], obs).verdict == WARN


@pytest.mark.parametrize(("interval", "status", "words"), [
    ((-0.05, -0.04), FAIL, "significant"), ((-0.06, 0.01), PASS, "not significant"), (None, FAIL, "no interval")])
def test_a_significant_regression_gate_ignores_noise(interval: Any, status: str, words: str) -> None:
    gate = Gate.from_dict({"metric": "roc_auc", "max_regression": 0.01, "significant": True})
    obs = Observed({"roc_auc": 0.75}, {"roc_auc": "higher"}, {}, {"roc_auc": 0.80},
                   intervals={"roc_auc": interval} if interval else {})
    [result] = check_gate(gate, obs)
    assert result.status == status and words in result.message


def test_spec_and_policy_gates_both_apply_in_order() -> None:
    policy = Policy.from_dict({"environments": [{"name": "production"}],
                               "gates": [{"metric": "accuracy", "min": 0.9, "action": "warn"}]})
    spec_gate = Gate.from_dict({"metric": "accuracy", "min": 0.7})
    report = evaluate_gates((spec_gate, *policy.gates), Observed({"accuracy": 0.8}, {}, {}))
    assert [(r.gate.source, r.status) for r in report.results] == [("spec", PASS), ("policy", WARN)]
    assert report.verdict == WARN
    assert report.count(WARN) == 1
    assert report.to_dict()["results"][1]["source"] == "policy"


def test_an_empty_gate_report_passes() -> None:
    assert GateReport(()).verdict == PASS
