"""From the fairness engine's report to the report's view: groups, rates with intervals, summary, warnings."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops_actions.evaluation.fairness_view import chart_values, view_of
from mlops_actions.fairness import FairnessOptions, evaluate


def _frame(rows: int = 300) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    return pd.DataFrame({"y_true": rng.integers(0, 2, rows), "y_pred": rng.integers(0, 2, rows),
                         "a": rng.choice(["x", "y"], rows), "b": rng.choice(["p", "q", "r"], rows)})


def test_classification_view_has_every_intersection_with_intervals() -> None:
    df = _frame()
    view = view_of(evaluate(df.y_true, df.y_pred, df[["a", "b"]], FairnessOptions(bootstrap=50)))
    assert view.features == ("a", "b")
    assert [r.group for r in view.rows] == [(a, b) for a in "xy" for b in "pqr"]
    assert view.columns == ("selection_rate", "tpr", "fpr", "accuracy", "precision")
    row = view.rows[0]
    low, high = row.intervals["selection_rate"]
    assert low <= row.values["selection_rate"] <= high
    assert sum(r.n for r in view.rows) == len(df)
    assert "demographic_parity_difference@to_overall" in view.summary
    assert view.summary_ci["demographic_parity_difference"][0] is not None
    assert view.chart_metric == "selection_rate"
    assert chart_values(view)["a: x, b: p"] == row.values["selection_rate"]


def test_regression_view_shows_errors_per_group() -> None:
    df = _frame()
    view = view_of(evaluate(df.y_true * 1.5, df.y_pred * 1.0, df["a"], FairnessOptions(task="regression")))
    assert view.features == ("a",)
    assert [r.group for r in view.rows] == [("x",), ("y",)]
    assert view.columns == ("mae", "rmse", "mean_prediction")
    assert view.chart_metric == "mae"
    assert "mae_difference" in view.summary


def test_warnings_and_undefined_rates_come_through() -> None:
    df = pd.DataFrame({"y_true": [0, 0, 1, 1], "y_pred": [0, 1, 1, 0], "a": ["x", "x", "y", "y"]})
    view = view_of(evaluate(df.y_true, df.y_pred, df["a"], FairnessOptions(bootstrap=10)))
    assert any("small group" in w for w in view.warnings)
    x = view.rows[0]
    assert x.values["tpr"] is None  # group x has no positives: TPR is undefined (n/a), not 0


def test_the_json_form_gives_the_same_view() -> None:
    import json

    from mlops_actions.evaluation.fairness_view import view_from_dict

    df = _frame()
    df["c"] = np.where(np.arange(len(df)) % 2, "odd", "even")
    report = evaluate(df.y_true, df.y_pred, df[["a", "b"]], FairnessOptions(bootstrap=20), control_features=df["c"])
    assert view_from_dict(json.loads(json.dumps(report.to_dict()))) == view_of(report)
