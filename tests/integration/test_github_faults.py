"""The faults the GitHub layer must survive, injected by the emulator (issue 5's list), one test each.

Waits go through an injected ``sleep`` that records them; only the primary rate limit, whose reset is
real time at the server, sleeps for real (about 2 s).
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from mlops_actions.errors import GitHubError
from mlops_actions.github import RetryPolicy
from testkit import git
from testkit.github_helpers import FAST, MARKER, PR, REPO, Sleeps, calls, client, comments_on, emulator

COMMENTS = f"/repos/{REPO}/issues/{PR}/comments"


def test_502_then_success() -> None:
    sleeps = Sleeps()
    with emulator(faults=[{"method": "GET", "path": COMMENTS, "status": 502}]) as gh:
        result = client(gh, sleeps=sleeps).upsert_comment(PR, "report", MARKER)
        assert result.action == "created"
        assert [c for c in calls(gh) if "comments" in c][:2] == [
            f"GET {COMMENTS}?per_page=100 502", f"GET {COMMENTS}?per_page=100 200"]
        assert len(sleeps) == 1 and FAST.base_delay / 2 <= sleeps[0] <= FAST.base_delay


def test_500_three_times_then_success_with_growing_backoff_and_one_comment() -> None:
    sleeps = Sleeps()
    with emulator(faults=[{"method": "POST", "path": COMMENTS, "status": 500, "count": 3}]) as gh:
        result = client(gh, sleeps=sleeps).upsert_comment(PR, "report", MARKER)
        assert result.action == "created"
        posts = [c for c in calls(gh) if c.startswith("POST")]
        assert posts == [f"POST {COMMENTS} 500"] * 3 + [f"POST {COMMENTS} 201"]
        assert len(sleeps) == 3 and sleeps[0] < sleeps[1] < sleeps[2]
        assert len(comments_on(gh)) == 1


def test_secondary_rate_limit_403_with_retry_after_1() -> None:
    sleeps = Sleeps()
    fault = {"method": "GET", "path": COMMENTS, "kind": "secondary_rate_limit", "retry_after": 1}
    with emulator(faults=[fault]) as gh:
        client(gh, sleeps=sleeps).upsert_comment(PR, "report", MARKER)
        assert f"GET {COMMENTS}?per_page=100 403" in calls(gh)
        assert sleeps == [1.0]
        assert len(comments_on(gh)) == 1


@pytest.mark.parametrize(("retry_after", "expected"), [(1, 1.0), (None, FAST.secondary_wait)])
def test_429_waits_retry_after_or_the_secondary_minimum(retry_after: int | None, expected: float) -> None:
    sleeps = Sleeps()
    fault = {"method": "POST", "path": COMMENTS, "status": 429, "retry_after": retry_after}
    with emulator(faults=[fault]) as gh:
        client(gh, sleeps=sleeps).upsert_comment(PR, "report", MARKER)
        assert sleeps == [expected]
        assert len(comments_on(gh)) == 1  # a rate-limited POST was not applied: no re-read needed


def test_comment_post_applied_then_connection_dropped_gives_exactly_one_comment() -> None:
    with emulator(faults=[{"method": "POST", "path": COMMENTS, "status": "drop"}]) as gh:
        result = client(gh).upsert_comment(PR, "report", MARKER)
        assert len(comments_on(gh)) == 1
        assert result.comment.id == comments_on(gh)[0].id
        posts = [c for c in calls(gh) if c.startswith("POST")]
        assert posts == [f"POST {COMMENTS} 201 dropped"]  # re-read found it: never posted twice


def test_edit_after_a_drop_is_simply_repeated() -> None:
    with emulator() as gh:
        client(gh).upsert_comment(PR, "v1", MARKER)
        gh.add_fault({"method": "PATCH", "path": "/repos/*/issues/comments/*", "status": "drop"})
        assert client(gh).upsert_comment(PR, "v2", MARKER).action == "updated"
        [only] = comments_on(gh)
        assert only.body.endswith("v2")


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "f.txt").write_text("x\n")
    git(root, "add", "f.txt")
    git(root, "commit", "-q", "-m", "c1")
    return root


@pytest.mark.parametrize("path", [f"/repos/{REPO}/git/refs", f"/repos/{REPO}/git/tags"])
def test_tag_post_applied_then_dropped_gives_exactly_one_tag(git_repo: Path, path: str) -> None:
    head = git(git_repo, "rev-parse", "HEAD")
    with emulator((), repo_dir=git_repo, repos=(REPO,), faults=[{"method": "POST", "path": path,
                                                                   "status": "drop"}]) as gh:
        made = client(gh).create_annotated_tag("churn@v1", "version 1\n", head)
        assert made.commit_sha == head
        assert git(git_repo, "tag", "--list") == "churn@v1"
        assert git(git_repo, "for-each-ref", "--format=%(contents)", "refs/tags/churn@v1") == "version 1"
        assert sum(c.startswith("POST /repos/" + REPO + "/git/refs") for c in calls(gh)) == 1


def test_primary_rate_limit_exhausted_waits_for_the_reset() -> None:
    sleeps = Sleeps(real=True)
    policy = RetryPolicy(max_wait=4.0, reset_margin=0.05, base_delay=0.05)
    with emulator(faults=[{"method": "GET", "path": COMMENTS, "kind": "primary_rate_limit", "reset_in": 0.5}]) as gh:
        start = time.monotonic()
        client(gh, policy=policy, sleeps=sleeps).upsert_comment(PR, "report", MARKER)
        assert len(comments_on(gh)) == 1
        assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.6  # until the reset (whole seconds, 0.5 s ahead at least)
        assert time.monotonic() - start < 3.0
        limited = [r for r in gh.requests if r.status == 403]
        assert limited and limited[0].headers["x-ratelimit-remaining"] == "0"


def test_primary_rate_limit_beyond_the_bound_fails_at_once_with_a_clear_message() -> None:
    sleeps = Sleeps()
    with emulator(faults=[{"method": "GET", "path": COMMENTS, "kind": "primary_rate_limit", "reset_in": 600}]) as gh:
        with pytest.raises(GitHubError) as info:
            client(gh, sleeps=sleeps).upsert_comment(PR, "report", MARKER)
        text = str(info.value)
        assert "rate limit" in text and "exhausted until" in text and "longer than the 3 s" in text
        assert sleeps == []
        assert comments_on(gh) == []


def test_server_errors_beyond_the_attempts_fail_clearly() -> None:
    sleeps = Sleeps()
    with emulator(faults=[{"method": "GET", "path": COMMENTS, "status": 503, "count": 0}]) as gh:
        with pytest.raises(GitHubError, match=r"kept failing to read the comments of pull request #2: "
                                              r"server error 503, 6 attempts"):
            client(gh, sleeps=sleeps).upsert_comment(PR, "report", MARKER)
        assert len(sleeps) == 5 and comments_on(gh) == []


def test_401_is_not_retried() -> None:
    sleeps = Sleeps()
    with emulator() as gh:
        with pytest.raises(GitHubError, match="invalid or has expired"):
            client(gh, token="revoked", sleeps=sleeps).reviews(PR)
        assert calls(gh) == [f"GET /repos/{REPO}/pulls/{PR}/reviews?per_page=100 401"]
        assert sleeps == []


def test_404_for_a_missing_pr_is_not_retried() -> None:
    sleeps = Sleeps()
    with emulator() as gh:
        with pytest.raises(GitHubError, match=r"pull request #404 not found, or the token cannot see it"):
            client(gh, sleeps=sleeps).reviews(404)
        assert len(gh.requests) == 1 and sleeps == []


def test_comment_over_the_limit_is_never_sent() -> None:
    with emulator() as gh:
        with pytest.raises(GitHubError, match="was not sent"):
            client(gh).upsert_comment(PR, "é" * 70_000, MARKER)
        assert gh.requests == []


def test_issue_post_applied_then_dropped_gives_exactly_one_issue() -> None:
    with emulator(faults=[{"method": "POST", "path": f"/repos/{REPO}/issues", "status": "drop"}]) as gh:
        made = client(gh).upsert_issue("mlops-actions:drift:churn", "Drift: churn", "psi 0.3")
        issues = [i for i in gh.state.issues.values() if not i.is_pull]
        assert len(issues) == 1 and made.issue.number == issues[0].number


def test_a_read_timeout_on_a_write_waits_to_settle_then_rereads() -> None:
    from mlops_actions.github import ClientConfig, GitHubRepo

    policy = RetryPolicy(base_delay=0.05, max_wait=3.0, settle=0.7)
    sleeps = Sleeps(real=True)  # the server applies the POST 1.15 s after it arrived; we gave up after 1 s
    with emulator(faults=[{"method": "POST", "path": COMMENTS, "latency": 1.15}]) as gh:
        config = ClientConfig(gh.url, "bot-token", REPO, retry=policy, seconds_between_writes=None, timeout=1)
        result = GitHubRepo.open(config, sleep=sleeps).upsert_comment(PR, "report", MARKER)
        assert sleeps == [0.7]
        assert len(comments_on(gh)) == 1 and result.comment.id == comments_on(gh)[0].id
