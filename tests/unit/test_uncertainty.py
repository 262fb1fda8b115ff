"""Intervals of metric changes (block bootstrap, paired or not) and the pictures' numbers, against sklearn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as sk

from mlops_actions.evaluation import curves, heldout, uncertainty
from mlops_actions.evaluation.uncertainty import (
    ASSUMED,
    PAIRED,
    UNPAIRED,
    Evaluated,
    change_interval,
    metric_replicates,
)


def _binary(n: int = 5000, seed: int = 0, noise: float = 1.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    truth = rng.random(n) < 0.4
    score = 1 / (1 + np.exp(-(truth * 1.5 - 0.7 + rng.normal(0, noise, n))))
    y_true = np.where(truth, "yes", "no")
    return y_true, np.where(score >= 0.5, "yes", "no"), score


def _unit(name: str, y_true: np.ndarray, y_pred: np.ndarray, score: np.ndarray | None = None, *,
          task: str = "classification") -> float:
    """The formula on the rows as they are (every weight 1): must be the metric itself."""
    stats, formula = (uncertainty.regression_stats(name, y_true, y_pred) if task == "regression" else
                      uncertainty.classification_stats(name, Evaluated(y_true, y_pred, ["no", "yes"], "yes", score)))
    return float(formula(np.array([[s.sum() for s in stats]]))[0])


@pytest.mark.parametrize(("name", "reference"), [
    ("accuracy", lambda t, p, s: sk.accuracy_score(t, p)),
    ("balanced_accuracy", lambda t, p, s: sk.balanced_accuracy_score(t, p)),
    ("precision", lambda t, p, s: sk.precision_score(t, p, pos_label="yes")),
    ("recall", lambda t, p, s: sk.recall_score(t, p, pos_label="yes")),
    ("f1", lambda t, p, s: sk.f1_score(t, p, pos_label="yes")),
    ("roc_auc", lambda t, p, s: sk.roc_auc_score(t == "yes", s)),
    ("log_loss", lambda t, p, s: sk.log_loss(t == "yes", s)),
])
def test_each_classification_formula_is_the_metric_itself(name: str, reference) -> None:
    y_true, y_pred, score = _binary()
    assert _unit(name, y_true, y_pred, score) == pytest.approx(reference(y_true, y_pred, score), abs=1e-9)


@pytest.mark.parametrize(("name", "reference"), [
    ("mae", sk.mean_absolute_error), ("rmse", sk.root_mean_squared_error), ("r2", sk.r2_score),
    ("mape", sk.mean_absolute_percentage_error)])
def test_each_regression_formula_is_the_metric_itself(name: str, reference) -> None:
    rng = np.random.default_rng(1)
    truth = rng.normal(20, 5, 2000)
    pred = truth + rng.normal(0, 2, 2000)
    assert _unit(name, truth, pred, task="regression") == pytest.approx(reference(truth, pred), rel=1e-9)


def test_the_spread_of_accuracy_is_the_binomial_one() -> None:
    y_true, y_pred, _ = _binary(n=20_000)
    rows = Evaluated(y_true, y_pred, classes=["no", "yes"], positive="yes")
    reps = metric_replicates("classification", ["accuracy"], rows)["accuracy"]
    p = sk.accuracy_score(y_true, y_pred)
    assert np.std(reps) == pytest.approx(math.sqrt(p * (1 - p) / len(y_true)), rel=0.1)
    assert np.mean(reps) == pytest.approx(p, abs=0.002)


def test_the_spread_of_roc_auc_is_delongs() -> None:
    y_true, _, score = _binary(n=2000)
    rows = Evaluated(y_true, y_true, classes=["no", "yes"], positive="yes", score=score)
    reps = metric_replicates("classification", ["roc_auc"], rows)["roc_auc"]
    rng = np.random.default_rng(5)
    direct = []
    for _ in range(150):  # the plain row bootstrap, recomputing the AUC each time
        rows = rng.integers(0, len(y_true), len(y_true))
        direct.append(sk.roc_auc_score(y_true[rows] == "yes", score[rows]))
    assert np.std(reps) == pytest.approx(np.std(direct), rel=0.25)


def test_paired_intervals_are_narrower_than_unpaired_for_the_same_rows() -> None:
    y_true, y_pred, _ = _binary()
    rng = np.random.default_rng(9)
    flipped = y_pred.copy()
    flip = rng.random(len(y_pred)) < 0.01
    flipped[flip] = np.where(flipped[flip] == "yes", "no", "yes")
    a = metric_replicates("classification", ["accuracy"], Evaluated(y_true, y_pred, ["no", "yes"], "yes"))
    b = metric_replicates("classification", ["accuracy"], Evaluated(y_true, flipped, ["no", "yes"], "yes"))
    delta = sk.accuracy_score(y_true, flipped) - sk.accuracy_score(y_true, y_pred)
    paired = change_interval(delta, b["accuracy"], a["accuracy"], paired=True, n_candidate=5000, n_baseline=5000)
    unpaired = change_interval(delta, b["accuracy"], a["accuracy"], paired=False, n_candidate=5000, n_baseline=5000)
    assumed = change_interval(delta, b["accuracy"], None, paired=False, n_candidate=5000, n_baseline=5000)
    assert (paired.method, unpaired.method, assumed.method) == (PAIRED, UNPAIRED, ASSUMED)
    assert paired.high - paired.low < (unpaired.high - unpaired.low) / 3
    assert unpaired.high - unpaired.low == pytest.approx(assumed.high - assumed.low, rel=0.25)
    assert paired.low <= delta <= paired.high


def test_replicates_are_seeded_same_rows_same_numbers() -> None:
    y_true, y_pred, score = _binary(n=3000)
    rows = Evaluated(y_true, y_pred, classes=["no", "yes"], positive="yes", score=score)
    one = metric_replicates("classification", ["f1", "roc_auc"], rows)
    two = metric_replicates("classification", ["f1", "roc_auc"], rows)
    assert all(np.array_equal(one[k], two[k]) for k in one)


def test_fewer_rows_than_blocks_is_the_row_bootstrap() -> None:
    assignment, blocks = uncertainty.block_of_rows(10)
    assert blocks == 10 and sorted(assignment.tolist()) == list(range(10))


def test_heldout_round_trips_through_its_json_form() -> None:
    y_true, y_pred, score = _binary(n=800)
    frame = pd.DataFrame({"y_true": y_true, "y_pred": y_pred, "y_score": score})
    found = heldout.of_frame(frame, "classification", ["accuracy", "roc_auc"], positive_label="yes")
    back = heldout.from_dict(found.as_dict())
    assert back.key == found.key and back.pictures == found.pictures
    assert np.allclose(back.replicates["roc_auc"], found.replicates["roc_auc"], rtol=1e-6)


def test_roc_pr_confusion_and_calibration_follow_sklearn() -> None:
    y_true, _, score = _binary(n=3000)
    truth = y_true == "yes"
    found = curves.binary_curves(truth, score, 0.3)
    fpr, tpr, _ = sk.roc_curve(truth, score)
    assert np.allclose(found["roc"], np.interp(curves.grid(), fpr, tpr), atol=1e-3)
    assert len(found["roc"]) == len(found["pr"]) == 50
    tn, fp, fn, tp = sk.confusion_matrix(truth, score >= 0.3).ravel()
    assert found["confusion"] == {"tp": tp, "fp": fp, "fn": fn, "tn": tn}
    precision, recall, _ = sk.precision_recall_curve(truth, score)
    assert found["pr"][10] == pytest.approx(precision[recall >= curves.grid()[10]].max(), abs=1e-3)
    assert sum(found["calibration"]["count"]) == len(truth)


def test_multiclass_tables_follow_sklearn() -> None:
    rng = np.random.default_rng(4)
    y_true, y_pred = rng.choice(list("abc"), 500), rng.choice(list("abc"), 500)
    found = curves.multiclass_tables(y_true, y_pred, ["a", "b", "c"])
    assert found["confusion"] == sk.confusion_matrix(y_true, y_pred, labels=["a", "b", "c"]).tolist()
    assert found["f1"] == pytest.approx(sk.f1_score(y_true, y_pred, average=None, labels=["a", "b", "c"]), abs=1e-3)


def test_residual_deciles_cover_every_row() -> None:
    rng = np.random.default_rng(6)
    truth = rng.normal(0, 1, 1000)
    found = curves.residual_deciles(truth, truth + 0.5)
    assert sum(found["count"]) == 1000 and all(v == pytest.approx(-0.5) for v in found["mean_residual"])


@pytest.mark.parametrize("edit", [
    lambda d: d["pictures"]["binary"].update(roc="up"),
    lambda d: d["pictures"]["binary"]["confusion"].pop("tp"),
    lambda d: d["pictures"].update(pie={}),
    lambda d: d["replicates"].update(accuracy=[0.5, 0.6]),
    lambda d: d["pictures"]["binary"].update(pr=["x"] * 50),
])
def test_a_hand_edited_evaluation_file_is_refused(edit) -> None:
    y_true, y_pred, score = _binary(n=500)
    frame = pd.DataFrame({"y_true": y_true, "y_pred": y_pred, "y_score": score})
    data = heldout.of_frame(frame, "classification", ["accuracy"], positive_label="yes").as_dict()
    edit(data)
    with pytest.raises(ValueError):
        heldout.from_dict(data)


def test_a_report_names_a_hand_edited_evaluation_file(tmp_path) -> None:
    import json

    from mlops_actions.errors import InputError
    from mlops_actions.evaluation.results import heldout_for

    (tmp_path / "evaluation.json").write_text(json.dumps({"format": heldout.FORMAT, "task": "classification",
                                                          "rows": 3, "key": "k", "pictures": {"pie": {}}}))
    with pytest.raises(InputError) as caught:
        heldout_for(tmp_path, None, "classification", ["accuracy"])
    assert "evaluation.json" in str(caught.value.place) and "not the evaluation aggregates" in caught.value.message
