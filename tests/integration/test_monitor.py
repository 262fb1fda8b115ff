"""`mlops-actions monitor` end to end on a real git repository: reference lookup, outputs, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.cli import main
from mlops_actions.commands.monitor import MonitorOptions, monitor
from mlops_actions.monitoring.engine import MonitorResult
from testkit import monitorkit
from testkit.monitorkit import _current

deployed = monitorkit.deployed  # the fixture, for this module's tests

FEATURES = ["year", "age", "checks", "employed", "citizen"]


def _run(root: Path, *args: str) -> int:
    return main(["-C", str(root), "monitor", "arrests", *args])


def test_drift_against_the_deployed_version_uses_the_training_bytes(deployed: Path, capsys) -> None:
    current = _current(deployed, "live.csv", shift=12.0)
    assert _run(deployed, "--current", str(current), "--env", "production") == 1  # exit 1 on drift
    out = capsys.readouterr().out
    assert "## Drift: `arrests@v1` in production — ❌ drift" in out
    assert "(5,226 rows)" in out  # the tagged blob, not the 100-row file in the working tree
    assert "```mermaid\nxychart-beta" in out
    age_row = next(line for line in out.splitlines() if line.startswith("| age "))
    assert "❌ fail" in age_row


def test_stable_data_passes_with_the_policy_default_environment(deployed: Path, capsys) -> None:
    current = _current(deployed, "live.parquet", predictions="perfect")
    assert _run(deployed, "--current", str(current)) == 0
    out = capsys.readouterr().out
    assert "in production" in out and "❌" not in out
    assert "| accuracy " in out and "1.0000" in out  # metrics on current data vs the record


def test_fairness_on_current_data_is_judged_by_the_spec_gates(deployed: Path, capsys) -> None:
    current = _current(deployed, "live.csv", predictions="by_colour")
    _run(deployed, "--current", str(current), "--format", "json")
    fairness = {f["name"]: f for f in json.loads(capsys.readouterr().out)["fairness"]}
    assert list(fairness) == ["demographic_parity_difference"]
    assert fairness["demographic_parity_difference"]["current"] == 1.0
    assert fairness["demographic_parity_difference"]["recorded"] == 0.1
    assert (fairness["demographic_parity_difference"]["gate"], fairness["demographic_parity_difference"]["verdict"]) \
        == ("max 0.25 (warn)", "warn")


def test_json_is_deterministic_and_complete(deployed: Path, capsys) -> None:
    current = _current(deployed, "live.csv", shift=12.0, predictions="perfect")
    outputs = []
    for _ in range(2):
        _run(deployed, "--current", str(current), "--format", "json")
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    data = json.loads(outputs[0])
    assert (data["verdict"], data["drift"], data["retrain"], data["version"]) == ("fail", True, True, "v1")
    roles = {c["name"]: c["role"] for c in data["columns"]}
    assert roles == {**dict.fromkeys(FEATURES, "feature"), "prediction": "prediction", "released": "target"}
    assert [m["name"] for m in data["metrics"]] == ["accuracy", "balanced_accuracy"]


def test_metric_regression_asks_for_retraining_without_drift(deployed: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    output, summary = tmp_path / "output.txt", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    current = _current(deployed, "live.csv", predictions="all_no")
    assert _run(deployed, "--current", str(current), "--threshold", "psi_fail=50", "--threshold", "psi_warn=50") == 1
    written = output.read_text()
    assert "drift<<" in written and "\nfalse\n" in written.split("retrain<<")[0]
    assert "\ntrue\n" in written.split("retrain<<")[1]
    assert summary.read_text().startswith("## Drift: `arrests@v1` in production")
    capsys.readouterr()


def test_outputs_under_actions_on_drift(deployed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    output = tmp_path / "output.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    _run(deployed, "--current", str(_current(deployed, "live.csv", shift=12.0)))
    values = dict(block.split("\n")[:2] for block in output.read_text().split("<<")[1:])
    assert [v for v in values.values()] == ["true", "true"]


def test_reference_file_overrides_the_lookup_and_publisher_gets_the_result(example_repo: Path, tmp_path: Path,
                                                                         capsys) -> None:
    current = tmp_path / "live.csv"
    data = pd.read_csv(example_repo / "data" / "arrests.csv").sample(800, random_state=2)
    data.to_csv(current, index=False)
    published: list[tuple[MonitorResult, str]] = []
    options = MonitorOptions("arrests", current, reference=example_repo / "data" / "arrests.csv")
    code = monitor(example_repo, options, runtime=ActionsRuntime(), publisher=lambda r, md: published.append((r, md)))
    assert code == 0
    result, text = published[0]
    assert result.version is None and result.environment is None and not result.drift
    assert text == capsys.readouterr().out.rstrip("\n") + "\n"


def _bad_current(root: Path, kind: str) -> Path:
    suffix = {"extension": ".txt", "parquet": ".parquet"}.get(kind, ".csv")
    path = root.parent / f"bad{suffix}"
    data = pd.read_csv(root / "data" / "arrests.csv").head(50)
    if kind == "missing":
        data = data.drop(columns=["age", "checks"])
    elif kind == "text":
        data["age"] = data["age"].astype(str)
        data.loc[7, "age"] = "twenty"
    if kind == "empty":
        path.write_text("")
    elif kind in ("parquet", "binary"):
        path.write_bytes(b"PK\x03\x04\x00\xff\xfe garbage \x00\x01" * 20)
    elif kind == "header":
        path.write_text(",".join(data.columns) + "\n")
    else:
        data.to_csv(path, index=False)
    return path


@pytest.mark.parametrize(("kind", "args", "message"), [
    ("missing", [], "missing column(s) 'age', 'checks' (the model needs them)"),
    ("text", [], "column 'age' is numeric in the model spec but holds text (first at data row 8)"),
    ("empty", [], "the file is empty"),
    ("header", [], "the table has no rows"),
    ("extension", [], "cannot tell the data format"),
    ("parquet", [], "bad.parquet: cannot read it as parquet"),
    ("binary", [], "bad.csv: cannot read it as csv"),
    ("ok", ["--env", "staging"], "model 'arrests' was never deployed in 'staging'"),
    ("ok", ["--env", "qa"], "no environment 'qa': environments/qa.yaml does not exist"),
    ("ok", ["--threshold", "psi=1"], "unknown threshold 'psi'"),
])
def test_bad_input_is_a_clear_message_and_exit_1(deployed: Path, capsys, kind: str, args: list[str],
                                                 message: str) -> None:
    code = _run(deployed, "--current", str(_bad_current(deployed, kind)), *args)
    captured = capsys.readouterr()
    assert code == 1
    assert message in captured.err
    assert "Traceback" not in captured.err + captured.out


def test_unknown_model(deployed: Path, capsys) -> None:
    code = main(["-C", str(deployed), "monitor", "nope", "--current", str(_bad_current(deployed, "ok"))])
    err = capsys.readouterr().err
    assert code == 1 and "unknown model 'nope'" in err and "models in this repository: arrests" in err


def test_deployed_version_without_its_tag(deployed: Path, capsys) -> None:
    (deployed / "environments" / "staging.yaml").write_text("arrests: v2\n")
    code = _run(deployed, "--current", str(_bad_current(deployed, "ok")), "--env", "staging")
    err = capsys.readouterr().err
    assert code == 1 and "arrests@v2 is deployed but its tag is not in this clone" in err


def test_reference_missing_columns_are_named(deployed: Path, tmp_path: Path, capsys) -> None:
    reference = tmp_path / "ref.csv"
    pd.DataFrame({"year": np.arange(10)}).to_csv(reference, index=False)
    code = _run(deployed, "--current", str(_bad_current(deployed, "ok")), "--reference", str(reference))
    err = capsys.readouterr().err
    assert code == 1 and "missing column(s) 'age', 'checks', 'employed', 'citizen'" in err


@pytest.mark.parametrize(("name", "shift"), [("live.csv", 12.0), ("live.parquet", 0.0)])
def test_streamed_monitor_gives_the_in_memory_results(deployed: Path, capsys, name: str, shift: float) -> None:
    current = _current(deployed, name, shift=shift, predictions="by_colour")
    results = []
    for extra in ([], ["--stream"]):
        _run(deployed, "--current", str(current), "--format", "json", *extra)
        results.append(json.loads(capsys.readouterr().out))
    memory, streamed = results
    for key in ("columns", "metrics", "fairness", "verdict", "reference", "current"):
        assert streamed[key] == memory[key], key
    assert any("streamed in batches" in note for note in streamed["notes"])


def test_streamed_monitor_names_a_missing_feature(deployed: Path, tmp_path: Path, capsys) -> None:
    current = _current(deployed, "live.parquet")
    pd.read_parquet(current).drop(columns="age").to_parquet(current)
    assert _run(deployed, "--current", str(current), "--stream") == 1
    err = capsys.readouterr().err
    assert "missing column(s) 'age'" in err and "Traceback" not in err


def _with_missing_sex(root: Path, rows: int = 5) -> Path:
    path = _current(root, "live.csv", predictions="perfect")
    frame = pd.read_csv(path)
    frame.loc[: rows - 1, "sex"] = np.nan
    frame.to_csv(path, index=False)
    return path


def test_missing_sensitive_values_are_refused_naming_the_file_by_default(deployed: Path, capsys) -> None:
    current = _with_missing_sex(deployed)
    assert _run(deployed, "--current", str(current)) == 1
    err = capsys.readouterr().err
    assert f"{current}: missing values in the sensitive/control column(s) 'sex' (5 rows)" in err
    assert "data.missing.sensitive: group" in err and "Traceback" not in err


def test_missing_sensitive_values_form_a_group_when_the_spec_says_so(deployed: Path, capsys) -> None:
    spec = deployed / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("  sensitive: [colour, sex]\n",
                                             "  sensitive: [colour, sex]\n  missing:\n    sensitive: group\n"))
    current = _with_missing_sex(deployed)
    assert _run(deployed, "--current", str(current), "--format", "json") == 0
    fairness = {f["name"]: f for f in json.loads(capsys.readouterr().out)["fairness"]}
    assert fairness["demographic_parity_difference"]["current"] is not None  # 5 rows: a small group, left out


def test_probability_columns_give_roc_auc_and_log_loss(deployed: Path, capsys) -> None:
    from sklearn.metrics import log_loss, roc_auc_score

    path = _current(deployed, "live.csv", predictions="perfect")
    frame = pd.read_csv(path)
    rng = np.random.default_rng(3)
    frame["probability"] = np.clip(np.where(frame["released"] == "Yes", 0.7, 0.4) + rng.normal(0, 0.2, len(frame)),
                                   0.01, 0.99)
    frame.to_csv(path, index=False)
    assert _run(deployed, "--current", str(path), "--format", "json") == 0
    data = json.loads(capsys.readouterr().out)
    metrics = {m["name"]: m["current"] for m in data["metrics"]}
    truth = frame["released"] == "Yes"
    assert metrics["roc_auc"] == pytest.approx(roc_auc_score(truth, frame["probability"]), abs=1e-4)
    assert metrics["log_loss"] == pytest.approx(log_loss(truth, frame["probability"]), abs=1e-4)
    assert not any("need probabilities" in n for n in data["notes"])


def test_probabilities_outside_0_1_are_refused(deployed: Path, capsys) -> None:
    path = _current(deployed, "live.csv", predictions="perfect")
    frame = pd.read_csv(path)
    frame["probability"] = 3.0
    frame.to_csv(path, index=False)
    assert _run(deployed, "--current", str(path)) == 1
    assert f"{path}: probabilities must lie between 0 and 1" in capsys.readouterr().err


def test_a_to_overall_fairness_gate_is_judged_on_current_data(deployed: Path, capsys) -> None:
    spec = deployed / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("    max: 0.25\n    action: warn\n",
                                             "    max: 0.25\n    action: warn\n  - fairness: demographic_parity_ratio\n"
                                             "    method: to_overall\n    min: 0.1\n"))
    current = _current(deployed, "live.csv", predictions="perfect")
    assert _run(deployed, "--current", str(current), "--format", "json") == 0
    fairness = {f["name"]: f for f in json.loads(capsys.readouterr().out)["fairness"]}
    assert fairness["demographic_parity_ratio@to_overall"]["current"] is not None
    assert fairness["demographic_parity_ratio@to_overall"]["verdict"] == "pass"
