"""Markdown and JSON rendering of a fairness report: hostile group values stay inert, n/a for NaN."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd

from mlops_actions.fairness import FairnessOptions, evaluate
from mlops_actions.reporting.fairness import as_json, markdown

HOSTILE = ["<img src=x onerror=alert(1)>", "| a | b |", "@octocat", "[x](javascript:alert(1))"]


def _hostile_report(**kwargs):  # kwargs: FairnessOptions' fields
    rng = np.random.default_rng(0)
    n = 400
    sf = pd.DataFrame({"<b>col</b>": rng.choice(HOSTILE, n), "sex": rng.choice(["f", "m\nnewline"], n)})
    y_true = rng.integers(0, 2, n)
    return evaluate(y_true, np.where(rng.random(n) < 0.7, y_true, 1 - y_true), sf,
                    FairnessOptions(bootstrap=50, **kwargs))


def _table_rows(md: str) -> list[str]:
    return [line for line in md.splitlines() if line.startswith("|")]


def test_hostile_values_cannot_break_tables_or_open_html() -> None:
    md = markdown(_hostile_report())
    assert "<img" not in md and "<b>" not in md
    assert "@octocat" not in md  # a zero-width space stops the mention
    assert "](javascript" not in md and "javascript:" not in md
    tables = md.split("\n\n")
    for table in (t for t in tables if t.startswith("|")):
        widths = {len(re.findall(r"(?<!\\)\|", row)) for row in _table_rows(table)}
        assert len(widths) == 1, table  # every row has as many unescaped pipes as the header


def test_nan_rates_render_as_na() -> None:
    y_true = np.array([0, 0, 1, 1])
    y_pred = np.array([0, 0, 1, 0])
    report = evaluate(y_true, y_pred, pd.Series(["a", "a", "b", "b"], name="g"), FairnessOptions(bootstrap=0))
    md = markdown(report)
    row_a = next(r for r in _table_rows(md) if r.startswith("| a "))
    assert "n/a" in row_a  # TPR of a group without positives


def test_json_is_byte_identical_and_strict() -> None:
    first, second = as_json(_hostile_report()), as_json(_hostile_report())
    assert first == second and first.endswith("\n")
    data = json.loads(first)
    assert {g["group"]["<b>col</b>"] for g in data["groups"]} == set(HOSTILE)


def test_control_and_regression_render() -> None:
    rng = np.random.default_rng(1)
    n = 300
    sf = pd.Series(rng.choice(["a", "b"], n), name="g")
    control = pd.Series(rng.choice(["x", "y"], n), name="region")
    y = rng.integers(0, 2, n)
    md = markdown(evaluate(y, y, sf, FairnessOptions(bootstrap=0), control_features=control))
    assert "(within each region)" in md and "**Per stratum**" in md and "region=x" in md
    md = markdown(evaluate(rng.normal(size=n), rng.normal(size=n), sf, FairnessOptions(task="regression")))
    assert "| MAE " in md and "mean prediction" in md
