"""A pull request that retrains many models (issue 15): the comment summarises under GitHub's 65,536
characters, the job summary (1 MiB) and the check run's text (65,535) hold what fits, and every model in full
goes to ``report-full.md``, which the PR workflow uploads as the artifact ``mlops-report``; each shortened
part says where the full report is."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.commands.report import (
    COMMENT_LIMIT,
    EVIDENCE_ROOM_MAX,
    FULL_REPORT_ARTIFACT,
    FULL_REPORT_FILE,
    FULL_REPORT_WHERE,
    write_full_report,
)
from mlops_actions.reporting.comment import (
    CHECK_TEXT_LIMIT,
    SUMMARY_LIMIT,
    ReportContext,
    github_length,
    render_check_text,
    render_comment,
    render_summary,
    utf8_length,
)
from testkit import REPO, git
from testkit.reportkit import assert_safe_markdown, model, write_results

GATES = [{"metric": "accuracy", "min": 0.7}, {"metric": "accuracy", "max_regression": 0.01},
         {"fairness": "demographic_parity_difference", "max": 0.1, "action": "warn"}]


def _thousand() -> list:
    return [model(f"m{i:04d}", groups=[f"group-{j:02d}" for j in range(6)],
                  metrics={"accuracy": 0.5 if i % 97 == 0 else 0.8}, gates=GATES,
                  baseline={"metrics": {"accuracy": 0.79 - (i % 13) / 100}}) for i in range(1000)]


@pytest.mark.slow
def test_a_thousand_models_comment_check_run_summary_and_full_report(tmp_path: Path) -> None:
    models, ctx = _thousand(), ReportContext(base_ref="main", full_report=FULL_REPORT_WHERE)
    comment = render_comment(models, ctx, COMMENT_LIMIT - EVIDENCE_ROOM_MAX)  # as the command renders it
    assert github_length(comment) <= COMMENT_LIMIT - EVIDENCE_ROOM_MAX and "cut here" not in comment
    assert "**1,000 models retrained:**" in comment and "**Largest metric changes**" in comment
    assert f"in `{FULL_REPORT_FILE}` (this run's artifact `{FULL_REPORT_ARTIFACT}`)" in comment
    assert all(f"| `m{i:04d}`" in comment for i in range(0, 1000, 97))  # every failing model is listed
    check = render_check_text(models, ctx)
    assert github_length(check) <= CHECK_TEXT_LIMIT
    assert check.startswith("### ❌ fail · model `m0000`")  # failing models first
    assert f"The full report is in {FULL_REPORT_WHERE}" in check
    summary = render_summary(models, ctx)
    assert utf8_length(summary) <= SUMMARY_LIMIT and f"The full report is in {FULL_REPORT_WHERE}" in summary
    assert all(f"| `m{i:04d}`" in summary for i in range(1000))  # its overview still names every model
    path = tmp_path / FULL_REPORT_FILE
    write_full_report(path, models, ctx)
    full = path.read_text(encoding="utf-8")
    assert all(f"model `m{i:04d}`" in full for i in range(1000)) and "Shortened" not in full
    assert full.count("<details>") > summary.count("<details>")
    for text in (comment, check, summary):
        assert_safe_markdown(text)


def test_no_full_report_when_everything_fits_and_a_stale_one_is_removed(tmp_path: Path) -> None:
    path = tmp_path / FULL_REPORT_FILE
    path.write_text("from an earlier run")
    models, ctx = _thousand()[:3], ReportContext(full_report=FULL_REPORT_WHERE)
    write_full_report(path, models, ctx)
    assert not path.exists()
    assert "full report is in" not in render_check_text(models, ctx)


def test_the_command_writes_the_full_report_when_the_check_run_cannot_hold_every_model(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "README.md").write_text("models\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-qm", "init")
    for i in range(60):
        folder = write_results(root / "mlops-out", f"m{i:02d}", rows=200, seed=i)
        for name in ("metrics.json", "record.json"):
            data = json.loads((folder / name).read_text())
            (folder / name).write_text(json.dumps({**data, "model": folder.name}))
    out = tmp_path / "comment.md"
    with contextlib.redirect_stdout(io.StringIO()):
        main(["-C", str(root), "report", "--out", str(out)])
    comment = out.read_text(encoding="utf-8")
    assert github_length(comment) <= COMMENT_LIMIT and "**60 models retrained:**" in comment
    assert FULL_REPORT_WHERE in comment
    full = (root / "mlops-out" / FULL_REPORT_FILE).read_text(encoding="utf-8")
    assert all(f"model `m{i:02d}`" in full for i in range(60))


def test_the_pr_workflow_uploads_the_full_report_even_when_the_verdict_fails() -> None:
    import yaml

    flow = yaml.safe_load((REPO / ".github" / "workflows" / "mlops-pr.yml").read_text())
    steps = flow["jobs"]["report"]["steps"]
    at = next(i for i, s in enumerate(steps) if s.get("id") == "report")
    upload = next(s for s in steps[at + 1:] if str(s.get("uses", "")).startswith("actions/upload-artifact@"))
    assert upload["with"]["name"] == FULL_REPORT_ARTIFACT
    assert upload["with"]["path"].splitlines()[0] == "${{ runner.temp }}/mlops-results/" + FULL_REPORT_FILE
    assert upload["with"]["if-no-files-found"] == "ignore" and upload["if"] == "${{ !cancelled() }}"


# the evidence of many models: continuation comments -------------------------------------------------------

def _shown(count: int) -> dict:
    from mlops_actions.registry import evidence as ev

    each = {f"{i:08x}": f"{i * 7:08x}" for i in range(60)}  # ~60 numbers a model, as a real report shows
    return {f"model-{i:04d}": ev.Shown(f"{i:064x}", f"{i + 1:064x}", digest=f"{i + 2:064x}", each=each)
            for i in range(count)}


def test_evidence_of_many_models_goes_to_continuation_comments_that_register_reads_back() -> None:
    from mlops_actions.commands.publish import REPORT_MARKER, evidence_comments
    from mlops_actions.commands.register import _evidence
    from mlops_actions.registry import evidence as ev
    from testkit.github_helpers import PR, client, emulator

    head, shown = "c" * 40, _shown(300)
    body, parts = evidence_comments("<!-- mlops-actions:report -->\n## report\n", head, shown)
    assert len(body) <= COMMENT_LIMIT and len(parts) > 3 and all(len(p) < COMMENT_LIMIT - 400 for p in parts)
    with emulator() as gh:
        repo = client(gh)
        repo.upsert_comment(PR, body, REPORT_MARKER)
        for index, part in enumerate(parts, 1):
            repo.upsert_comment(PR, part, ev.part_marker(index))
        found = _evidence(repo, PR)
        assert found is not None and found.head_sha == head and dict(found.models) == shown
        repo.upsert_comment(PR, ev.render("d" * 40, {}), ev.part_marker(2))  # a part of another push
        assert _evidence(repo, PR) is None  # what was reviewed is unknown: nothing ships


def test_few_models_keep_their_evidence_in_the_comment() -> None:
    from mlops_actions.commands.publish import evidence_comments
    from mlops_actions.registry import evidence as ev

    body, parts = evidence_comments("## report\n", "c" * 40, _shown(3))
    assert parts == [] and ev.parse(body) is not None and len(ev.parse(body).models) == 3
