"""`monitor --publish` against the GitHub emulator: one drift issue per model and environment, kept up to date."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.commands.drift_issue import drift_marker
from mlops_actions.reporting.monitor import BODY_LIMIT, CUT_NOTE, issue_body
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import git
from testkit.monitorkit import _current, _record
from testkit.monitorkit import deployed as deployed  # the fixture

REPO = "octo/arrests"
MARKER_LINE = "<!-- mlops-actions:drift:arrests:production -->"


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(users=["mlops-bot:bot-token:write", "alice:alice-token"], repos=[REPO]) as emulator:
        yield emulator


def _env(gh: GitHubEmulator) -> dict[str, str]:
    return {**os.environ, "GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "bot-token",
            "MLOPS_GITHUB_WRITE_PAUSE": "0", "MLOPS_GITHUB_BACKOFF": "0.01", "GITHUB_SERVER_URL": "https://gh.test",
            "GITHUB_RUN_ID": "7"}


def _monitor(root: Path, gh: GitHubEmulator, current: Path, *extra: str) -> int:
    return main(["-C", str(root), "monitor", "arrests", "--current", str(current), "--env", "production",
                 "--publish", *extra], env=_env(gh))


def _issues(gh: GitHubEmulator) -> list:
    return sorted((i for i in gh.state.issues.values() if i.repo == REPO), key=lambda i: i.number)


def test_drift_opens_one_issue_then_updates_it_then_closes_it(deployed: Path, gh: GitHubEmulator, capsys) -> None:
    assert _monitor(deployed, gh, _current(deployed, "live.csv", shift=12.0)) == 1
    [issue] = _issues(gh)
    assert (issue.title, issue.state, issue.user, issue.labels) == ("Drift: arrests@v1 in production", "open",
                                                                    "mlops-bot", ["drift"])
    assert issue.body.startswith(MARKER_LINE + "\n## Drift: `arrests@v1` in production — ❌ drift")
    assert "[this run](https://gh.test/octo/arrests/actions/runs/7)" in issue.body
    first_body = issue.body
    assert f"drift issue #{issue.number} created" in capsys.readouterr().err

    assert _monitor(deployed, gh, _current(deployed, "live2.csv", shift=20.0)) == 1
    [again] = _issues(gh)
    assert again.number == issue.number and again.state == "open" and again.body != first_body
    assert f"drift issue #{issue.number} updated" in capsys.readouterr().err

    assert _monitor(deployed, gh, _current(deployed, "stable.csv")) == 0
    [closed] = _issues(gh)
    assert (closed.number, closed.state, closed.state_reason) == (issue.number, "closed", "completed")
    [comment] = [c for c in gh.state.comments.values() if c.issue_number == issue.number]
    assert comment.body.startswith("Drift resolved: the latest check of `arrests@v1` in production")
    assert f"drift issue #{issue.number} closed" in capsys.readouterr().err


def test_same_issue_takes_the_new_version_in_its_title(deployed: Path, gh: GitHubEmulator, capsys) -> None:
    current = _current(deployed, "live.csv", shift=12.0)
    assert _monitor(deployed, gh, current) == 1
    blob = git(deployed, "rev-parse", "arrests@v1:data/arrests.csv")
    record = deployed.parent / "record2.json"
    record.write_text(_record("arrests", 2, blob, {"accuracy": 0.80}))
    git(deployed, "tag", "-a", "arrests@v2", "-F", str(record))
    (deployed / "environments" / "production.yaml").write_text("arrests: v2\n")
    git(deployed, "commit", "-qam", "deploy arrests v2")
    assert _monitor(deployed, gh, current) == 1
    [issue] = _issues(gh)
    assert issue.title == "Drift: arrests@v2 in production" and issue.body.startswith(MARKER_LINE)
    capsys.readouterr()


def test_issues_of_other_environments_and_people_are_left_alone(deployed: Path, gh: GitHubEmulator, capsys) -> None:
    repo = gh.state.repos[REPO]
    from mlops_actions.testing.github_emulator.state import Issue

    for number, user, body in ((repo.next_number, "alice", MARKER_LINE + "\nquoted by a person"),
                               (repo.next_number + 1, "mlops-bot", "<!-- mlops-actions:drift:arrests:staging -->")):
        gh.state.issues[(REPO, number)] = Issue(REPO, number, gh.state.next_id(), "Drift: arrests@v1 in production",
                                                user, body)
    repo.next_number += 2
    assert _monitor(deployed, gh, _current(deployed, "stable.csv")) == 0
    assert "no open drift issue for arrests:production: nothing to close" in capsys.readouterr().err
    assert [i.state for i in _issues(gh)] == ["open", "open"]
    assert _monitor(deployed, gh, _current(deployed, "live.csv", shift=12.0)) == 1
    issues = _issues(gh)
    assert len(issues) == 3 and [i.body for i in issues[:2]] == [MARKER_LINE + "\nquoted by a person",
                                                                  "<!-- mlops-actions:drift:arrests:staging -->"]
    capsys.readouterr()


def test_read_only_token_names_the_missing_permission(deployed: Path, gh: GitHubEmulator, capsys) -> None:
    gh.set_permission(REPO, "mlops-bot", "read")
    assert _monitor(deployed, gh, _current(deployed, "live.csv", shift=12.0)) == 1
    err = capsys.readouterr().err
    assert "issues: write" in err and "Traceback" not in err and "bot-token" not in err
    assert _issues(gh) == []


def test_no_token_is_refused_before_any_work(deployed: Path, capsys) -> None:
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    code = main(["-C", str(deployed), "monitor", "arrests", "--current", "nothing.csv", "--publish"], env=env)
    err = capsys.readouterr().err
    assert code == 1 and "no GitHub token" in err and "Traceback" not in err


def test_marker_is_per_model_and_environment() -> None:
    assert drift_marker("churn", "production") == "mlops-actions:drift:churn:production"
    assert drift_marker("churn", None) == "mlops-actions:drift:churn"


def test_long_report_is_cut_at_a_line_with_a_note_and_closed_code_block() -> None:
    report = "## Drift\n\n```mermaid\n" + "".join(f"bar {i}\n" for i in range(20_000)) + "```\n"
    body = issue_body(report, "https://gh.test/o/r/actions/runs/1")
    assert len(body) + len(MARKER_LINE) + 1 <= BODY_LIMIT
    assert body.endswith(CUT_NOTE + "\n") and body.count("```") == 2
    assert issue_body("short\n") == "short\n"
    assert "javascript" not in issue_body("x\n", "javascript:alert(1)")


def test_long_report_fits_the_issue_on_github(deployed: Path, gh: GitHubEmulator) -> None:
    from mlops_actions.github import ClientConfig, GitHubRepo

    repo = GitHubRepo.open(ClientConfig(gh.url, "bot-token", REPO, seconds_between_writes=None))
    body = issue_body("| a | b |\n" * 10_000)
    result = repo.upsert_issue("mlops-actions:drift:arrests:production", "Drift: arrests", body)
    assert result.action == "created" and len(_issues(gh)[0].body) <= BODY_LIMIT
