"""The fairness engine against fairlearn 0.15 as the oracle: random data (several seeds) and edge cases."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm

from mlops_actions.fairness import FairnessOptions, evaluate

pytestmark = pytest.mark.filterwarnings("ignore:Supplied 'func' had no __name__:UserWarning")

TOL = 1e-12
RATES = ("selection_rate", "tpr", "fpr", "tnr", "fnr", "accuracy", "precision")


def _metric_fns(pos_label: object) -> dict:
    p = pos_label
    return {
        "selection_rate": functools.partial(flm.selection_rate, pos_label=p),
        "tpr": functools.partial(flm.true_positive_rate, pos_label=p),
        "fpr": functools.partial(flm.false_positive_rate, pos_label=p),
        "tnr": functools.partial(flm.true_negative_rate, pos_label=p),
        "fnr": functools.partial(flm.false_negative_rate, pos_label=p),
        "accuracy": skm.accuracy_score,
        "precision": functools.partial(skm.precision_score, pos_label=p, zero_division=0),
        "count": flm.count,
    }


def _frame(y_true, y_pred, sf, pos_label=1, cf=None) -> flm.MetricFrame:
    return flm.MetricFrame(metrics=_metric_fns(pos_label), y_true=y_true, y_pred=y_pred,
                           sensitive_features=sf, control_features=cf)


def _close(a: float, b: float) -> bool:
    if isinstance(a, float) and math.isnan(a):
        return isinstance(b, float) and math.isnan(b)
    return abs(float(a) - float(b)) <= TOL


def _assert_frames(ours: pd.DataFrame, theirs: pd.DataFrame, columns) -> None:
    assert list(ours.index) == list(theirs.index)
    assert list(ours.index.names) == list(theirs.index.names)
    for col in columns:
        for a, b in zip(ours[col].to_numpy(dtype=float), theirs[col].to_numpy(dtype=float), strict=True):
            assert _close(a, b), (col, a, b)


def _summary_oracle(y_true, y_pred, sf, pos_label=1) -> dict[str, float]:
    """The sixteen summary values straight from fairlearn's functions (pos_label via the metric frames)."""
    sel = flm.MetricFrame(metrics=functools.partial(flm.selection_rate, pos_label=pos_label),
                          y_true=y_true, y_pred=y_pred, sensitive_features=sf)
    eo = flm.MetricFrame(metrics={"tpr": functools.partial(flm.true_positive_rate, pos_label=pos_label),
                                  "fpr": functools.partial(flm.false_positive_rate, pos_label=pos_label)},
                         y_true=y_true, y_pred=y_pred, sensitive_features=sf)
    out = {}
    for method, sfx in (("between_groups", ""), ("to_overall", "@to_overall")):
        out[f"demographic_parity_difference{sfx}"] = sel.difference(method=method)
        out[f"demographic_parity_ratio{sfx}"] = sel.ratio(method=method)
        out[f"equal_opportunity_difference{sfx}"] = eo.difference(method=method)["tpr"]
        out[f"equal_opportunity_ratio{sfx}"] = eo.ratio(method=method)["tpr"]
        out[f"equalized_odds_difference{sfx}"] = max(eo.difference(method=method))
        out[f"equalized_odds_difference{sfx}@mean"] = eo.difference(method=method).mean()
        out[f"equalized_odds_ratio{sfx}"] = min(eo.ratio(method=method))
        out[f"equalized_odds_ratio{sfx}@mean"] = eo.ratio(method=method).mean()
    return out


def _random(seed: int, n: int = 600):
    rng = np.random.default_rng(seed)
    p_group = rng.uniform(0.2, 0.8, 5)
    race = rng.integers(0, 5, n)
    y_true = (rng.random(n) < p_group[race]).astype(int)
    y_pred = np.where(rng.random(n) < 0.7, y_true, 1 - y_true)
    sf = pd.DataFrame({"race": np.array(list("ABCDE"))[race], "sex": rng.choice(["f", "m", "x"], n)})
    return y_true, y_pred, sf


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_random_data_matches_fairlearn(seed: int) -> None:
    y_true, y_pred, sf = _random(seed)
    report = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0))
    _assert_frames(report.by_group, _frame(y_true, y_pred, sf).by_group, RATES)
    oracle = _summary_oracle(y_true, y_pred, sf)
    assert report.summary.keys() == oracle.keys()
    for key, value in oracle.items():
        assert _close(report.summary[key], value), key
    # the four fairlearn functions themselves, default arguments
    assert _close(report.summary["demographic_parity_difference"],
                  flm.demographic_parity_difference(y_true, y_pred, sensitive_features=sf))
    assert _close(report.summary["equalized_odds_ratio@to_overall@mean"],
                  flm.equalized_odds_ratio(y_true, y_pred, sensitive_features=sf, method="to_overall", agg="mean"))
    assert _close(report.summary["equal_opportunity_ratio"],
                  flm.equal_opportunity_ratio(y_true, y_pred, sensitive_features=sf))


@pytest.mark.parametrize("seed", [5, 6])
def test_single_feature_counts_and_overall_match(seed: int) -> None:
    y_true, y_pred, sf = _random(seed)
    report = evaluate(y_true, y_pred, sf["race"], FairnessOptions(bootstrap=0))
    frame = _frame(y_true, y_pred, sf["race"])
    _assert_frames(report.by_group, frame.by_group, (*RATES, "count")
                   if "count" in report.by_group else RATES)
    assert list(report.by_group["n"]) == list(frame.by_group["count"])
    for rate in RATES:
        assert _close(report.overall[rate], frame.overall[rate]), rate


def _zero_division_case():
    """Group 'b' has no positives (TPR and FNR 0/0) and one row; group 'c' never predicts positive."""
    y_true = np.array([1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0])
    y_pred = np.array([1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1])
    sf = pd.Series(["a", "a", "a", "a", "a", "c", "c", "c", "c", "c", "b"], name="g")
    y_pred[5:10] = 0
    return y_true, y_pred, sf


def test_zero_denominators_compat_reproduces_fairlearn_default_gives_nan() -> None:
    y_true, y_pred, sf = _zero_division_case()
    compat = evaluate(y_true, y_pred, sf, FairnessOptions(fairlearn_compat=True, bootstrap=0))
    _assert_frames(compat.by_group, _frame(y_true, y_pred, sf).by_group, RATES)
    for key, value in _summary_oracle(y_true, y_pred, sf).items():
        assert _close(compat.summary[key], value), key
    default = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0))
    assert math.isnan(default.by_group.loc["b", "tpr"]) and compat.by_group.loc["b", "tpr"] == 0.0
    assert math.isnan(default.by_group.loc["b", "fnr"])
    assert math.isnan(default.by_group.loc["c", "precision"]) and compat.by_group.loc["c", "precision"] == 0.0
    # the undefined TPR of 'b' is skipped, as fairlearn skips NaN rows: max − min over 'a' and 'c'
    tpr = default.by_group["tpr"]
    assert default.summary["equal_opportunity_difference"] == tpr["a"] - tpr["c"]


def test_singleton_group_and_all_same_predictions() -> None:
    y_true = np.array([1, 0, 1, 1, 0, 0, 1])
    y_pred = np.ones(7, dtype=int)
    sf = {"g": np.array(["x", "x", "x", "y", "y", "y", "z"])}
    report = evaluate(y_true, y_pred, sf, FairnessOptions(fairlearn_compat=True, bootstrap=0))
    _assert_frames(report.by_group, _frame(y_true, y_pred, sf).by_group, RATES)
    for key, value in _summary_oracle(y_true, y_pred, sf).items():
        assert _close(report.summary[key], value), key
    assert report.summary["demographic_parity_difference"] == 0.0
    assert any("g=z" in w and "n=1" in w for w in report.warnings)


def test_string_labels_with_pos_label() -> None:
    y_true, y_pred, sf = _random(7, 400)
    yes_no = np.array(["No", "Yes"])
    t, p = yes_no[y_true], yes_no[y_pred]
    report = evaluate(t, p, sf, FairnessOptions(pos_label="Yes", bootstrap=0, min_group_size=1))
    _assert_frames(report.by_group, _frame(t, p, sf, pos_label="Yes").by_group, RATES)
    for key, value in _summary_oracle(t, p, sf, pos_label="Yes").items():
        assert _close(report.summary[key], value), key
    assert report.warnings == []
    as_series = evaluate(pd.Series(t), pd.Series(p), sf,
                         FairnessOptions(pos_label="Yes", bootstrap=0, min_group_size=1))
    assert as_series.summary == report.summary


def test_empty_intersection_listed_and_skipped_like_fairlearn() -> None:
    y_true, y_pred, sf = _random(8, 300)
    sf.loc[sf["race"] == "B", "sex"] = "f"  # B×m and B×x never occur
    report = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0))
    frame = _frame(y_true, y_pred, sf)
    _assert_frames(report.by_group, frame.by_group, RATES)
    assert report.by_group.loc[("B", "m"), "n"] == 0
    assert math.isnan(report.by_group.loc[("B", "m"), "selection_rate"])
    assert sum("empty intersection race=B, sex=" in w for w in report.warnings) == 2
    for key, value in _summary_oracle(y_true, y_pred, sf).items():
        assert _close(report.summary[key], value), key
    compat = evaluate(y_true, y_pred, sf, FairnessOptions(fairlearn_compat=True, bootstrap=0))
    assert math.isnan(compat.by_group.loc[("B", "m"), "tpr"])  # empty stays NaN, as in fairlearn


@pytest.mark.parametrize("seed", [0, 1])
def test_control_features_match_fairlearn_per_stratum(seed: int) -> None:
    y_true, y_pred, sf = _random(seed, 900)
    rng = np.random.default_rng(seed + 100)
    cf = pd.Series(rng.choice(["old", "young"], len(y_true)), name="age")
    report = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0), control_features=cf)
    frame = _frame(y_true, y_pred, sf, cf=cf)
    _assert_frames(report.by_group, frame.by_group, RATES)
    _assert_frames(report.overall, frame.overall, RATES)
    diff = frame.difference(method="to_overall")
    ratio = frame.ratio(method="between_groups")
    for stratum in ("old", "young"):
        values = report.summary_by_stratum[f"age={stratum}"]
        assert _close(values["demographic_parity_difference@to_overall"], diff.loc[stratum, "selection_rate"])
        assert _close(values["equal_opportunity_ratio"], ratio.loc[stratum, "tpr"])
        assert _close(values["equalized_odds_difference@to_overall"],
                      max(diff.loc[stratum, ["tpr", "fpr"]]))
    worst = max(report.summary_by_stratum[s]["demographic_parity_difference"] for s in ("age=old", "age=young"))
    assert report.summary["demographic_parity_difference"] == worst


@pytest.mark.parametrize("seed", [0, 1])
def test_regression_matches_fairlearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 500
    sf = pd.Series(rng.choice(["a", "b", "c"], n), name="g")
    y_true = rng.normal(10, 3, n)
    y_pred = y_true + rng.normal(0, 1, n) + (sf == "b") * 0.5
    report = evaluate(y_true, y_pred, sf, FairnessOptions(task="regression"))
    frame = flm.MetricFrame(metrics={"mae": skm.mean_absolute_error, "rmse": skm.root_mean_squared_error,
                                     "mean_prediction": flm.mean_prediction},
                            y_true=y_true, y_pred=y_pred, sensitive_features=sf)
    _assert_frames(report.by_group, frame.by_group, ("mae", "rmse", "mean_prediction"))
    gaps = frame.difference()
    for metric in ("mae", "rmse", "mean_prediction"):
        assert _close(report.summary[f"{metric}_difference"], gaps[metric])


@pytest.mark.parametrize("pred", ["zeros", "tpr_zero", "fpr_zero"])
def test_equalized_odds_aggregation_with_undefined_ratio_terms(pred: str) -> None:
    """0/0 ratios: fairlearn's Python max/min over [tpr, fpr] is order-dependent; compat copies it."""
    rng = np.random.default_rng(11)
    y_true = rng.integers(0, 2, 200)
    sf = pd.Series(rng.choice(["a", "b"], 200), name="g")
    y_pred = {"zeros": np.zeros(200, dtype=int), "tpr_zero": np.where(y_true == 1, 0, rng.integers(0, 2, 200)),
              "fpr_zero": np.where(y_true == 0, 0, rng.integers(0, 2, 200))}[pred]
    report = evaluate(y_true, y_pred, sf, FairnessOptions(fairlearn_compat=True, bootstrap=0))
    for key, value in _summary_oracle(y_true, y_pred, sf).items():
        assert _close(report.summary[key], value), key
    default = evaluate(y_true, y_pred, sf, FairnessOptions(bootstrap=0))
    assert math.isnan(default.summary["equalized_odds_ratio"])  # an undefined term is never ignored
