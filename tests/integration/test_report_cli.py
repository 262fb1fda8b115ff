"""``mlops-actions report`` end to end on a real git repository: no token, no network, exit codes,
Actions outputs and summary, model cards, and bad input (message with place, exit 1, no traceback)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.reporting.comment import MARKER
from testkit import git
from testkit.reportkit import write_results


def _run(repo: Path, *args: str) -> int:
    return main(["-C", str(repo), "report", *args])


@pytest.fixture
def repo(example_repo: Path) -> Path:
    write_results(example_repo / "mlops-out")
    return example_repo


def test_prints_the_comment_and_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(repo) == 0
    out = capsys.readouterr().out
    assert out.startswith(MARKER + "\n## ✅ pass")
    assert "head `main`" in out
    assert "model `arrests`" in out and "Groups by `colour`, `sex` (each on its own" in out
    assert "| colour: Black |" in out and "| sex: Female   |" in out
    assert "0d4c0c5e8a7c2e1e5c1e9a0c3f5e8d7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e" in out
    assert (repo / "mlops-out" / "arrests" / "model-card.md").read_text().startswith("# Model card: `arrests`")


def test_same_inputs_same_bytes(repo: Path, tmp_path: Path) -> None:
    assert _run(repo, "--out", str(tmp_path / "a.md")) == 0
    assert _run(repo, "--out", str(tmp_path / "b.md")) == 0
    assert (tmp_path / "a.md").read_bytes() == (tmp_path / "b.md").read_bytes()


def test_a_failed_gate_exits_1(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_results(example_repo / "mlops-out", metrics={"accuracy": 0.5})
    assert _run(example_repo) == 1
    out = capsys.readouterr().out
    assert "**fail**" in out and "0.5 is below the minimum 0.6" in out


def test_under_actions_sets_outputs_and_appends_the_summary(repo: Path, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_HEAD_REF", "feature/@octocat")
    assert _run(repo) == 0
    outputs = output.read_text()
    report_path = repo / "mlops-out" / "report.md"
    assert "report-path<<ghadelimiter_" in outputs and f"\n{report_path}\n" in outputs
    assert "\npass\n" in outputs
    assert report_path.read_text().startswith(MARKER)
    assert "head `feature/@octocat`" in report_path.read_text()
    assert summary.read_text().startswith("## ✅ pass")


def test_summary_flag_renders_the_job_summary_variant(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(repo, "--summary") == 0
    assert capsys.readouterr().out.startswith("## ✅ pass")


def test_base_ref_lists_unchanged_models(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(repo, "--base", "main") == 0
    assert "base `main` · head `main`" in capsys.readouterr().out


def test_a_registered_version_becomes_the_baseline(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = json.loads((repo / "mlops-out" / "arrests" / "record.json").read_text())
    record.update(version="v1", metrics={**record["metrics"], "roc_auc": 0.80})
    (repo / ".git" / "MSG").write_text(json.dumps(record))
    git(repo, "tag", "-a", "arrests@v1", "-F", ".git/MSG")
    assert _run(repo) == 1  # roc_auc 0.72 regressed by 0.08 > max_regression 0.02
    out = capsys.readouterr().out
    assert "`arrests@v1`, the latest registered version" in out
    assert "0.8 → 0.72: worse than the latest version \\(v1\\) by 0.08, more than 0.02" in out


def test_a_planned_model_without_results_fails(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example_repo / "mlops-out").mkdir()
    assert _run(example_repo) == 1
    out = capsys.readouterr().out
    assert "**fail**" in out
    assert ("- ❌ arrests needs training \\(no version registered yet\\) but mlops-out/arrests/ holds no "
            "results: did its training fail? Run \\`mlops-actions train arrests\\`.") in out


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return captured.err


def test_missing_results_folder(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(example_repo, "--results", "typo") == 1  # the plan says arrests needs training
    assert "but typo/arrests/ holds no results" in capsys.readouterr().out


def test_nothing_planned_and_no_results_folder_passes(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = {**json.loads((repo / "mlops-out" / "arrests" / "record.json").read_text()), "version": "v1"}
    from mlops_actions.training.fingerprint import snapshots_worktree

    record["fingerprint"] = snapshots_worktree(repo, ["arrests"])["arrests"].fingerprint.value
    (repo / ".git" / "MSG").write_text(json.dumps(record))
    git(repo, "tag", "-a", "arrests@v1", "-F", ".git/MSG")
    assert _run(repo, "--results", "nothing-here") == 0
    out = capsys.readouterr().out
    assert "No model needs retraining: nothing to review." in out and "Unchanged: `arrests`." in out


def test_a_results_path_that_is_a_file(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "results.txt").write_text("x")
    assert _run(repo, "--results", "results.txt") == 1
    assert "results folder" in _error(capsys)


def test_metrics_that_are_not_json(repo: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    (repo / "mlops-out" / "arrests" / "metrics.json").write_text('{"model": "arrests",\n  "metrics": oops}')
    assert _run(repo, "--out", str(tmp_path / "r.md")) == 1
    assert "mlops-out/arrests/metrics.json:2:14: not valid JSON" in _error(capsys)
    assert not (tmp_path / "r.md").exists()  # nothing half-written


def test_metrics_without_metrics(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mlops-out" / "arrests" / "metrics.json").write_text('{"model": "arrests"}')
    assert _run(repo) == 1
    assert "mlops-out/arrests/metrics.json: missing or malformed key 'metrics'" in _error(capsys)


def test_metrics_of_another_model(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mlops-out" / "arrests" / "metrics.json").write_text('{"model": "other", "metrics": {}}')
    assert _run(repo) == 1
    assert "metrics are for model 'other' but the folder is 'arrests'" in _error(capsys)


def test_a_hand_edited_record_is_not_trusted(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo / "mlops-out" / "arrests" / "record.json"
    record = json.loads(path.read_text())
    record["artifact"]["sha256"] = "not-a-sha"
    path.write_text(json.dumps(record))
    assert _run(repo) == 1
    err = _error(capsys)
    assert "mlops-out/arrests/record.json: not a valid version record" in err and "'not-a-sha'" in err


def test_a_missing_record(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mlops-out" / "arrests" / "record.json").unlink()
    assert _run(repo) == 1
    assert "mlops-out/arrests/record.json: file not found" in _error(capsys)


def test_predictions_without_y_pred(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    path = repo / "mlops-out" / "arrests" / "predictions.parquet"
    pd.read_parquet(path).drop(columns=["y_pred"]).to_parquet(path)
    assert _run(repo) == 1
    assert "predictions.parquet: predictions lack the column(s) y_pred" in _error(capsys)


def test_predictions_without_a_sensitive_column(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    path = repo / "mlops-out" / "arrests" / "predictions.parquet"
    pd.read_parquet(path).drop(columns=["sex"]).to_parquet(path)
    assert _run(repo) == 1
    assert "lack the sensitive/control column(s) sex" in _error(capsys)


def test_predictions_that_are_not_parquet(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mlops-out" / "arrests" / "predictions.parquet").write_text("y_true,y_pred\n1,0\n")
    assert _run(repo) == 1
    assert "cannot read the predictions" in _error(capsys)


def test_missing_predictions_are_stated_not_hidden(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mlops-out" / "arrests" / "predictions.parquet").unlink()
    assert _run(repo) == 0
    assert "no held-out predictions; per-group fairness not available" in capsys.readouterr().out


def test_an_invalid_policy(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mlops.yaml").write_text("environments: 3\n")
    assert _run(repo) == 1
    assert "mlops.yaml: the policy is not valid" in _error(capsys)


def test_the_plan_says_why_each_model_was_retrained(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "-qb", "feature")
    spec = repo / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("C: 1.0", "C: 0.5"))
    git(repo, "commit", "-qam", "smaller C")
    assert _run(repo, "--base", "main") == 0
    out = capsys.readouterr().out
    assert "base `main` · head `feature`" in out
    assert "- spec changed: estimator.params.C: 1.0 → 0.5" in out


def test_an_unknown_base_ref_is_a_clear_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(repo, "--base", "no-such-branch") == 1
    assert "--base 'no-such-branch' names no commit" in _error(capsys)


def test_train_base_compares_with_the_model_trained_at_the_base_ref(repo: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    git(repo, "checkout", "-qb", "feature")
    spec = repo / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("C: 1.0", "C: 0.5"))
    git(repo, "commit", "-qam", "smaller C")
    assert _run(repo, "--base", "main", "--train-base") == 0
    out = capsys.readouterr().out
    assert "**Baseline:** the model trained at the base ref `main`" in out
    assert "| `arrests` | ✅ pass   | base ref" in out
    assert "    line [" in out  # the chart draws the base ref's groups
    assert git(repo, "worktree", "list").count("\n") == 0  # the temporary worktree is gone
    assert git(repo, "status", "--porcelain", "--", "models", "data") == ""


def test_train_base_for_a_model_the_base_lacks(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    git(example_repo, "checkout", "-qb", "feature")
    shutil.copytree(example_repo / "models" / "arrests", example_repo / "models" / "twin")
    spec = example_repo / "models" / "twin" / "model.yaml"
    spec.write_text(spec.read_text().replace("name: arrests", "name: twin"))
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "twin")
    folder = write_results(example_repo / "mlops-out")
    folder.rename(folder.parent / "twin")
    arrests = write_results(example_repo / "mlops-out")
    record = {**json.loads((arrests / "record.json").read_text()), "version": "v1"}
    (example_repo / ".git" / "MSG").write_text(json.dumps(record))
    git(example_repo, "tag", "-a", "arrests@v1", "-F", ".git/MSG")  # arrests has a baseline: not trained
    metrics = folder.parent / "twin" / "metrics.json"
    metrics.write_text(metrics.read_text().replace('"arrests"', '"twin"'))
    record = folder.parent / "twin" / "record.json"
    record.write_text(record.read_text().replace('"model": "arrests"', '"model": "twin"'))
    assert _run(example_repo, "--base", "main", "--train-base") == 0
    out = capsys.readouterr().out
    assert "\n\n- ℹ️ the model does not exist at the base ref\n" in out
    assert "none: **new model**" in out


def test_an_undefined_metric_never_passes_a_gate(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_results(example_repo / "mlops-out")
    metrics = json.loads((folder / "metrics.json").read_text())
    metrics["metrics"]["accuracy"] = None
    (folder / "metrics.json").write_text(json.dumps(metrics))
    assert _run(example_repo) == 1
    out = capsys.readouterr().out
    assert "metric is undefined \\(NaN or null\\); an undefined value cannot pass this gate" in out
    assert "| accuracy           | higher   | n/a        | n/a" in out


def test_nan_written_by_python_is_undefined_too(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = write_results(example_repo / "mlops-out")
    text = (folder / "metrics.json").read_text().replace('"accuracy": 0.83', '"accuracy": NaN')
    (folder / "metrics.json").write_text(text)
    assert _run(example_repo) == 1
    assert "an undefined value cannot pass" in capsys.readouterr().out


def test_model_card_for_a_results_folder(repo: Path) -> None:
    from mlops_actions.commands.report import model_card_for

    card = model_card_for(repo, repo / "mlops-out" / "arrests")
    assert card.startswith("# Model card: `arrests`")
    assert "## Intended use\n\nA teaching example" in card
    assert "Sensitive features: `colour`, `sex`." in card


def test_a_results_folder_whose_name_is_no_model_name(example_repo: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    name = "x|y @octocat <img src=x onerror=alert(1)>"
    folder = write_results(example_repo / "mlops-out")
    folder = folder.rename(folder.parent / name)
    data = json.loads((folder / "metrics.json").read_text())
    (folder / "metrics.json").write_text(json.dumps({**data, "model": name}))
    assert _run(example_repo) == 1  # a record's model name follows the schema; this folder cannot match it
    assert f"the record is of model 'arrests' but the folder is '{name}'" in _error(capsys)


def test_fairness_from_aggregates_when_predictions_stay_in_the_training_job(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import pandas as pd

    from mlops_actions.commands.report import load_spec
    from mlops_actions.evaluation.fairness_measure import Rows, Settings, measure
    from mlops_actions.evaluation.fairness_view import view_to_dict

    folder = repo / "mlops-out" / "arrests"
    df = pd.read_parquet(folder / "predictions.parquet")
    spec = load_spec(repo, "arrests")
    view = measure(Rows.of(df), Settings.of(spec), "classification").view
    (folder / "fairness.json").write_text(json.dumps(view_to_dict(view)))  # what train writes
    assert _run(repo, "--out", str(folder.parent / "with-rows.md")) == 0
    (folder / "predictions.parquet").unlink()
    assert _run(repo, "--out", str(folder.parent / "aggregates.md")) == 0
    with_rows = (folder.parent / "with-rows.md").read_text()
    aggregates = (folder.parent / "aggregates.md").read_text()
    assert "| colour: Black |" in aggregates
    strip = lambda t: t.split("#### Fairness")[1]  # noqa: E731 - the class balance needs the rows
    assert strip(aggregates) == strip(with_rows)


def test_a_fairness_json_that_is_not_a_report(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = repo / "mlops-out" / "arrests"
    (folder / "predictions.parquet").unlink()
    (folder / "fairness.json").write_text('{"summary": {}}')
    assert _run(repo) == 1
    assert "mlops-out/arrests/fairness.json: missing or malformed key 'groups'" in _error(capsys)


def test_runs_without_a_token_and_never_loads_the_github_client(repo: Path) -> None:
    import subprocess
    import sys

    code = ("import sys, contextlib, io\nfrom mlops_actions.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    rc = main(['-C', {str(repo)!r}, 'report'])\n"
            "print(rc, sorted(m for m in ('github', 'requests', 'urllib3') if m in sys.modules))")
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("GITHUB_", "GH_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert out.stdout.strip() == "0 []"


def test_registers_assessment_has_the_reports_numbers_without_the_disparity_intervals(repo: Path) -> None:
    """``register`` skips the disparities' bootstrap: the numbers reviewers saw (evidence) and the verdict
    are the report's own, only the interval columns are left empty."""
    from mlops_actions.registry.assessment import ReportOptions, build_reports
    from mlops_actions.registry.evidence import numbers_of

    full = build_reports(repo, ReportOptions(results=repo / "mlops-out"))
    verdict_only = build_reports(repo, ReportOptions(results=repo / "mlops-out", disparity_intervals=False))
    assert [bool(m.fairness.summary_ci) for m in full if m.fairness] == [True]  # the report does draw them
    assert [m.fairness.summary_ci for m in verdict_only if m.fairness] == [{}]
    assert [numbers_of(m) for m in verdict_only] == [numbers_of(m) for m in full]
    assert [m.verdict for m in verdict_only] == [m.verdict for m in full] == ["pass"]


def test_many_models_read_the_version_tags_once_and_each_gets_its_own(example_repo: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """One ``git for-each-ref`` for the whole report, not one per model (a thousand models with a thousand
    versions read every tag a thousand times); each model's baseline is still its own latest version."""
    import json

    from mlops_actions.registry import records
    from mlops_actions.registry.assessment import ReportOptions, build_reports
    from testkit.registrykit import register

    register(example_repo, 1)
    register(example_repo, 2)
    out = example_repo / "mlops-out"
    write_results(out, "arrests")
    other = write_results(out, "arrests-np")  # a second model (no spec here, never registered)
    for name in ("metrics.json", "record.json"):
        data = json.loads((other / name).read_text())
        (other / name).write_text(json.dumps({**data, "model": "arrests-np"}))
    reads: list[int] = []
    real = records._raw_tags
    monkeypatch.setattr(records, "_raw_tags", lambda g: reads.append(1) or real(g))
    reports = build_reports(example_repo, ReportOptions(results=out))
    assert [(m.name, m.baseline.kind, m.baseline.version) for m in reports] == [
        ("arrests", "registered", "v2"), ("arrests-np", "new", None)]
    assert reads == [1]
