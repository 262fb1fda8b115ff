"""How the report measures a model's fairness: groupings, classes, small groups, labels, undefined gates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.evaluation.assess import Candidate, Evidence, Rules, assess
from mlops_actions.evaluation.baseline import NEW, Baseline
from mlops_actions.evaluation.fairness_measure import Rows, Settings, measure, readable_column
from mlops_actions.evaluation.fairness_view import view_from_dict, view_to_dict
from mlops_actions.evaluation.gates import FAIL, UNDEFINED
from testkit.reportkit import record, spec


def _frame(n: int = 600, seed: int = 0, classes: tuple[str, ...] = ("0", "1")) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y_true": rng.choice(classes, n), "y_pred": rng.choice(classes, n),
                         "race": rng.choice(["a", "b", "c"], n, p=[0.6, 0.38, 0.02]),
                         "sex": rng.choice(["F", "M"], n), "old": rng.choice(["0.0", "1.0"], n)})


def _settings(**kw: object) -> Settings:
    return Settings(**{"sensitive": ("race", "sex"), **kw})  # type: ignore[arg-type]


def test_marginal_by_default_one_grouping_per_column() -> None:
    view = measure(Rows.of(_frame()), _settings(), "classification").view
    assert view.groupings == (("race",), ("sex",))
    assert {r.by for r in view.rows} == {("race",), ("sex",)}
    worst = max(view.summary["demographic_parity_difference@by=race"],
                view.summary["demographic_parity_difference@by=sex"])
    assert view.summary["demographic_parity_difference"] == worst


def test_intersections_when_asked_and_empty_ones_are_counted_not_drawn() -> None:
    frame = _frame()
    frame.loc[frame.race == "c", "sex"] = "F"  # nobody is c × M
    view = measure(Rows.of(frame), _settings(intersections=True), "classification").view
    assert view.groupings[-1] == ("race", "sex")
    assert view.empty == 1 and all(r.n for r in view.rows)
    listed = measure(Rows.of(frame), _settings(intersections=(("sex", "race"),)), "classification").view
    assert listed.groupings[-1] == ("sex", "race")


def test_small_groups_are_marked_and_left_out_of_the_disparities() -> None:
    frame = _frame()
    view = measure(Rows.of(frame), _settings(), "classification").view
    small = [r for r in view.rows if r.small]
    assert [r.group for r in small] == [("c",)] and view.left_out_rows == small[0].n
    kept = frame[frame.race != "c"]
    rates = (kept.y_pred == "1").groupby(kept.race).mean()
    assert view.summary["demographic_parity_difference@by=race"] == pytest.approx(rates.max() - rates.min())
    bigger = measure(Rows.of(frame), _settings(min_group_size=1), "classification").view
    assert not any(r.small for r in bigger.rows)


def test_min_group_size_from_the_spec_over_the_policy_over_30() -> None:
    plain = spec()
    assert Settings.of(plain).min_group_size == 30
    assert Settings.of(plain, Policy(min_group_size=50).min_group_size).min_group_size == 50
    own = spec(fairness={"min_group_size": 5})
    assert Settings.of(own, 50).min_group_size == 5


@pytest.mark.parametrize(("values", "names", "shown"), [
    (["0.0", "1.0", "1.0"], None, ["no", "yes", "yes"]),
    ([0, 1, 1], None, ["no", "yes", "yes"]),
    ([True, False, True], None, ["yes", "no", "yes"]),
    ([1.0, 0.0, np.nan], None, ["yes", "no", "missing"]),
    (["1", "2", "2"], {"1": "Black", "2": "White"}, ["Black", "White", "White"]),
    ([1.0, 2.0, 2.0], {"1": "Black"}, ["Black", "2", "2"]),
    (["Female", "Male", "Male"], None, ["Female", "Male", "Male"]),
])
def test_values_read_as_people_read_them(values: list, names: dict | None, shown: list[str]) -> None:
    assert readable_column(pd.Series(values), names).tolist() == shown


def test_multiclass_without_a_class_is_not_measured_and_its_gate_is_undefined_never_a_pass() -> None:
    frame = _frame(classes=("low", "mid", "high"))
    measured = measure(Rows.of(frame), _settings(), "classification")
    assert measured.view is None and "neither data.positive_label nor fairness.classes" in measured.note
    gate = {"fairness": "demographic_parity_difference", "max": 0.5}
    report = assess(Candidate("m", "classification", record("m"), {"accuracy": 0.5}, {"accuracy": "higher"}),
                    Rules(spec("m", [gate]), Policy()), baseline=Baseline(NEW, "m"),
                    evidence=Evidence(fairness_note=measured.note))
    [result] = report.gates.results
    assert (result.status, result.effect, report.verdict) == (UNDEFINED, FAIL, FAIL)
    assert "fairness was not measured (the target has 3 classes" in result.message


def test_multiclass_classes_are_measured_one_against_the_rest() -> None:
    frame = _frame(classes=("low", "mid", "high"))
    view = measure(Rows.of(frame), _settings(classes=("high", "low")), "classification").view
    assert view.classes == ("high", "low")
    high = (frame.y_pred == "high").groupby(frame.sex).mean()
    assert view.summary["demographic_parity_difference@class=high@by=sex"] == pytest.approx(high.max() - high.min())
    assert view.summary["demographic_parity_difference"] == max(
        v for k, v in view.summary.items() if k.startswith("demographic_parity_difference@class="))
    missing = measure(Rows.of(frame), _settings(classes=("nope",)), "classification")
    assert missing.view is None and "'nope'" in missing.note


def test_a_binary_model_without_positive_label_uses_the_last_class_as_train_does() -> None:
    frame = _frame(classes=("No", "Yes"))
    view = measure(Rows.of(frame), _settings(sensitive=("sex",)), "classification").view
    rates = (frame.y_pred == "Yes").groupby(frame.sex).mean()
    assert view.summary["demographic_parity_difference"] == pytest.approx(rates.max() - rates.min())
    assert not view.warnings  # never "pos_label=1 occurs in neither"


def test_regression_measures_the_error_gap_with_one_name() -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame({"sex": rng.choice(["F", "M"], 400)})
    truth = rng.normal(10, 2, 400)
    pred = truth + np.where(frame.sex == "F", 1.0, 0.2) * rng.normal(0, 1, 400)
    view = measure(Rows(truth, pred, frame), Settings(("sex",)), "regression").view
    assert set(view.summary) == {"mae_difference", "rmse_difference", "mean_prediction_difference"}
    assert all(r.intervals["mae"][0] < r.values["mae"] < r.intervals["mae"][1] for r in view.rows)


def test_the_json_form_round_trips() -> None:
    frame = _frame()
    view = measure(Rows.of(frame), _settings(intersections=True), "classification").view
    assert view_from_dict(view_to_dict(view)) == view


def test_the_spec_section_is_validated(tmp_path) -> None:
    from mlops_actions.convention.semantic import check_model_spec

    raw = dict(spec().raw)
    raw["fairness"] = {"intersections": [["g", "age"]], "labels": {"zip": {"1": "x"}}, "classes": ["a"]}
    raw["task"] = "regression"
    findings = list(check_model_spec("models/m/model.yaml", raw, _context(tmp_path)))
    messages = [f[2] for f in findings]
    assert any("'age' is not a sensitive column" in m for m in messages)
    assert any("'zip' is not a sensitive column" in m for m in messages)
    assert any("fairness.classes applies to classification only" in m for m in messages)


def _context(root):
    from mlops_actions.convention.semantic import Context

    return Context(root, Policy(), False, frozenset({"m"}), read_headers=False)


def test_a_spec_with_a_fairness_section_reads_into_value_objects() -> None:
    s: ModelSpec = spec(fairness={"intersections": True, "classes": [1, "b"], "labels": {"g": {"1": "one"}}})
    assert s.fairness.intersections is True and s.fairness.classes == (1, "b")
    assert s.fairness.labels["g"]["1"] == "one"
