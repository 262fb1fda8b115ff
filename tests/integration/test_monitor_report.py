"""Monitor reports: escaping of hostile names, the Mermaid chart, deterministic JSON; metrics; data hashes."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import accuracy_score, f1_score, mean_absolute_error, r2_score

from mlops_actions.errors import GitError, InputError
from mlops_actions.monitoring.drift import LevelCounts, categorical_drift, numeric_drift
from mlops_actions.monitoring.engine import ColumnResult, MonitorResult
from mlops_actions.monitoring.performance import Expected, evaluate
from mlops_actions.monitoring.reference import load_bytes
from mlops_actions.monitoring.thresholds import FAIL, PASS, Thresholds
from mlops_actions.reporting import monitor as report
from testkit import git

HOSTILE = "<img src=x onerror=alert(1)>|@octocat`]\n```"


def _result(names: list[str], psis: list[float]) -> MonitorResult:
    columns = []
    for name, value in zip(names, psis, strict=True):
        stats = numeric_drift(np.arange(50.0), np.arange(50.0) + value * 10)
        columns.append(ColumnResult(name, "feature", stats, FAIL if value > 1 else PASS, ("PSI high",)))
    levels = categorical_drift(LevelCounts({"a": 3, HOSTILE: 2}, 0), LevelCounts({"a": 3, "[x](http://e.vil)": 4}, 1))
    columns.append(ColumnResult(HOSTILE, "feature", levels, FAIL, ()))
    return MonitorResult(HOSTILE, "v2", "prod|<b>", "data/x.csv", "live `x`.csv", 100, 50, Thresholds(), tuple(columns))


def test_hostile_names_are_escaped_everywhere() -> None:
    text = report.markdown(_result(["age", HOSTILE], [0.5, 2.0]))
    outside_code = re.sub(r"`[^`\n]*`", "", text.replace("```", ""))
    assert "<img" not in outside_code and "<b>" not in outside_code
    assert "@octocat" not in outside_code  # no mention
    assert "](http" not in outside_code  # no link
    assert "`<img src=x onerror=alert(1)>\\|@octocat'] '''@v2`" in text  # inline code: shown, not rendered
    fence_lines = [line for line in text.splitlines() if line.startswith("```")]
    assert fence_lines == ["```mermaid", "```"]  # a name cannot close or open a fence


def test_table_rows_keep_their_columns() -> None:
    text = report.markdown(_result([HOSTILE], [2.0]))
    header = next(line for line in text.splitlines() if line.startswith("| column "))
    width = header.count(" | ")
    body = [line for line in text.splitlines() if line.startswith("| ") and line != header and "---" not in line]
    for line in body:
        assert line.replace("\\|", "").count(" | ") <= width


def test_mermaid_chart_holds_the_top_ten_by_psi_with_safe_labels() -> None:
    names = [f"f{i}" for i in range(12)]
    result = _result(names, [i / 10 for i in range(12)])
    chart = report.chart(result.columns)
    axis = next(line for line in chart.splitlines() if "x-axis" in line)
    assert axis.count('"') == 20
    assert '"f11"' in axis and '"f0"' not in axis
    bars = next(line for line in chart.splitlines() if line.strip().startswith("bar ["))
    top = sorted((c.drift.psi for c in result.columns), reverse=True)[:10]
    assert bars.strip() == "bar [" + ", ".join(f"{v:.4f}" for v in top) + "]"  # no exponents
    hostile = report.chart(_result([HOSTILE], [1.0]).columns)
    assert "<" not in hostile and "`" not in hostile.replace("```", "") and "@" not in hostile


def test_json_is_deterministic_with_sorted_keys() -> None:
    first = report.as_json(_result(["b", "a"], [0.3, 0.1]))
    assert first == report.as_json(_result(["b", "a"], [0.3, 0.1]))
    data = json.loads(first)
    assert list(data) == sorted(data)
    assert data["columns"][-1]["new_levels"] == ["[x](http://e.vil)"]
    assert report.issue_title(_result([], [])) == f"Drift: {HOSTILE}@v2 in prod|<b>"


def test_classification_metrics_match_sklearn() -> None:
    labels = pd.Series(["Yes", "No", "Yes", "Yes", None, "No"])
    predictions = pd.Series(["Yes", "Yes", "No", "Yes", "Yes", "No"])
    expected = Expected("classification", {"accuracy": "higher", "f1": "higher", "roc_auc": "higher"},
                        {"accuracy": 0.9, "f1": 0.5}, max_regression=0.05, positive_label="Yes")
    perf = evaluate(labels, predictions, expected, display="x")
    y, p = ["Yes", "No", "Yes", "Yes", "No"], ["Yes", "Yes", "No", "Yes", "No"]
    assert [c.current for c in perf.changes] == [accuracy_score(y, p), f1_score(y, p, pos_label="Yes")]
    assert [c.verdict for c in perf.changes] == ["fail", "pass"]  # 0.6 vs 0.9 regressed; f1 improved
    assert perf.skipped == ("roc_auc",) and perf.rows == 5


def test_regression_metrics_and_non_numeric_labels() -> None:
    y, p = pd.Series([1.0, 2.0, 3.0, 4.0]), pd.Series([1.5, 2.0, 2.5, 5.0])
    perf = evaluate(y, p, Expected("regression", {"mae": "lower", "r2": "higher"}, {"mae": 0.1}, 0.05), display="x")
    assert perf.changes[0].current == pytest.approx(mean_absolute_error(y, p))
    assert perf.changes[0].verdict == "fail" and perf.changes[1].recorded is None
    assert perf.changes[1].current == pytest.approx(r2_score(y, p))
    with pytest.raises(InputError, match="must be numbers"):
        evaluate(pd.Series(["a"]), pd.Series(["b"]), Expected("regression", {"mae": "lower"}, {}, 0.05), display="x")


def test_data_hashes_name_exact_bytes(example_repo: Path) -> None:
    raw = (example_repo / "data" / "arrests.csv").read_bytes()
    blob = git(example_repo, "rev-parse", "HEAD:data/arrests.csv")
    assert load_bytes(example_repo, "data/arrests.csv", f"git:{blob}", "arrests@v1") == raw
    digest = hashlib.sha256(raw).hexdigest()
    assert load_bytes(example_repo, "data/arrests.csv", f"sha256:{digest}", "arrests@v1") == raw
    lfs = example_repo / ".git" / "lfs" / "objects" / digest[:2] / digest[2:4] / digest
    lfs.parent.mkdir(parents=True)
    lfs.write_bytes(raw)
    assert load_bytes(example_repo, "data/arrests.csv", f"lfs:{digest}", "arrests@v1") == raw
    (example_repo / "data" / "arrests.csv").write_text("changed\n")
    with pytest.raises(InputError, match="no longer available with sha256"):
        load_bytes(example_repo, "data/arrests.csv", f"sha256:{digest}", "arrests@v1")
    with pytest.raises(InputError, match="no longer available"):
        load_bytes(example_repo, "../outside.csv", f"sha256:{digest}", "arrests@v1")
    with pytest.raises(GitError, match="is not in this clone"):
        load_bytes(example_repo, "data/arrests.csv", "git:" + "0" * 40, "arrests@v1")
    with pytest.raises(GitError, match="not in the local LFS store"):
        load_bytes(example_repo, "data/arrests.csv", "lfs:" + "1" * 64, "arrests@v1")
