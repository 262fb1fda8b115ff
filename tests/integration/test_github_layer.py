"""The GitHub layer against the emulator: sticky comments, budgets, pull requests, reviews, permissions,
tags, issues, and the messages a user gets when the workflow lacks a permission."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.errors import GitHubError
from mlops_actions.github import connect
from testkit import git
from testkit.github_helpers import (
    BOT,
    MARKER,
    PR,
    REPO,
    calls,
    client,
    comments_on,
    emulator,
    payload,
)

# sticky comment ----------------------------------------------------------------------------------------


def test_comment_is_created_once_then_edited_in_place() -> None:
    with emulator() as gh:
        repo = client(gh)
        first = repo.upsert_comment(PR, "report v1", MARKER)
        second = repo.upsert_comment(PR, "report v2", MARKER)
        third = repo.upsert_comment(PR, "report v2", MARKER)
        assert (first.action, second.action, third.action) == ("created", "updated", "unchanged")
        assert first.comment.id == second.comment.id == third.comment.id
        assert first.comment.author == BOT
        [only] = comments_on(gh)
        assert only.body == f"<!-- {MARKER} -->\nreport v2"


def test_update_with_fewer_than_100_comments_takes_3_requests() -> None:
    with emulator() as gh:
        client(gh).upsert_comment(PR, "old report", MARKER)
        for i in range(97):
            gh.state.comments[10_000 + i] = _comment(gh, 10_000 + i, "alice", f"chatter {i}")
        gh.requests.clear()
        result = client(gh).upsert_comment(PR, "new report", MARKER)  # a fresh client: identity not cached
        assert result.action == "updated"
        assert calls(gh) == [
            "GET /user 200",
            f"GET /repos/{REPO}/issues/{PR}/comments?per_page=100 200",
            f"PATCH /repos/{REPO}/issues/comments/{result.comment.id} 200",
        ]


def _comment(gh, comment_id: int, user: str, body: str):
    from mlops_actions.testing.github_emulator.state import Comment

    gh.state.user(user)
    return Comment(REPO, PR, comment_id, user, body)


def test_sticky_comment_found_on_page_3_and_an_impostor_is_left_alone() -> None:
    with emulator() as gh:
        impostor = f"<!-- {MARKER} -->\nI copied the marker"
        for i in range(250):
            user, body = ("alice", impostor) if i == 5 else ("alice", f"comment {i}")
            if i == 230:
                user, body = BOT, f"<!-- {MARKER} -->\nold report"
            gh.state.comments[20_000 + i] = _comment(gh, 20_000 + i, user, body)
        result = client(gh).upsert_comment(PR, "new report", MARKER)
        assert (result.action, result.comment.id) == ("updated", 20_230)
        assert gh.state.comments[20_005].body == impostor
        assert gh.state.comments[20_230].body == f"<!-- {MARKER} -->\nnew report"
        assert len(comments_on(gh)) == 250
        pages = [c for c in calls(gh) if "/comments" in c and c.startswith("GET")]
        assert len(pages) == 3  # the budget grows only with pages of comments
        assert len(calls(gh)) == 5  # GET /user, 3 pages, PATCH


def test_another_users_marked_comment_is_not_ours_so_we_create() -> None:
    with emulator() as gh:
        gh.state.comments[30_000] = _comment(gh, 30_000, "alice", f"<!-- {MARKER} -->\nnot the bot")
        result = client(gh).upsert_comment(PR, "report", MARKER)
        assert result.action == "created"
        assert gh.state.comments[30_000].body.endswith("not the bot")
        assert len(comments_on(gh)) == 2


def test_comment_over_the_limit_is_never_sent() -> None:
    with emulator() as gh:
        with pytest.raises(GitHubError, match="GitHub accepts at most 65,536, so it was not sent"):
            client(gh).upsert_comment(PR, "x" * 65_536, MARKER)  # plus the marker line: over the limit
        assert gh.requests == []


def test_read_only_token_gets_the_missing_permission_named() -> None:
    with emulator() as gh:
        with pytest.raises(GitHubError) as info:
            client(gh, token="reader-token").upsert_comment(PR, "report", MARKER)
        text = str(info.value)
        assert f"GitHub refused to create the comment on pull request #{PR}" in text
        assert "lacks `pull-requests: write`" in text
        assert calls(gh)[-1].endswith("403")  # not retried: one POST
        assert sum(c.startswith("POST") for c in calls(gh)) == 1


def test_missing_pr_is_a_404_naming_it() -> None:
    with emulator() as gh:
        with pytest.raises(GitHubError, match=r"pull request #999 not found, or the token cannot see it"):
            client(gh).upsert_comment(999, "report", MARKER)
        with pytest.raises(GitHubError, match=r"pull request #998 not found"):
            client(gh).pull_request(998)


def test_invalid_token_is_a_clear_401_without_retry() -> None:
    with emulator() as gh:
        with pytest.raises(GitHubError) as info:
            client(gh, token="expired").upsert_comment(PR, "report", MARKER)
        assert "invalid or has expired" in str(info.value)
        assert "expired" not in str(info.value).split("(")[0]  # the token value itself is never printed
        assert calls(gh) == ["GET /user 401"]


# pull requests, reviews, permissions -------------------------------------------------------------------


def test_pr_for_event_reads_the_payload_without_requests() -> None:
    with emulator(("pull_request.closed.1.json",)) as gh:
        pr = client(gh).pr_for_event(payload("pull_request.closed.1.json"))
        assert pr is not None and (pr.number, pr.author, pr.base_ref) == (PR, "Codertocat", "master")
        assert gh.requests == []


def test_pr_for_event_of_a_push_asks_commits_pulls() -> None:
    with emulator(("pull_request.opened.1.json",)) as gh:
        push = payload("push.event.1.json")
        push["after"] = payload("pull_request.opened.1.json")["pull_request"]["head"]["sha"]
        pr = client(gh).pr_for_event(push)
        assert pr is not None and pr.number == PR
        assert calls(gh) == [f"GET /repos/{REPO}/commits/{push['after']}/pulls?per_page=100 200",
                             f"GET /repos/{REPO}/pulls/{PR} 200"]


def test_pr_for_commit_of_a_commit_without_pr_and_of_an_unknown_commit() -> None:
    with emulator() as gh:
        base = payload("pull_request.opened.1.json")["pull_request"]["base"]["sha"]
        assert client(gh).pr_for_commit(base) is None
        with pytest.raises(GitHubError, match="422 Validation Failed: No commit found for SHA"):
            client(gh).pr_for_commit("0" * 39 + "1")


def test_reviews_from_the_real_review_payload() -> None:
    with emulator(("pull_request.opened.1.json", "pull_request_review.submitted.1.json")) as gh:
        gh.add_review(REPO, PR, "alice", "APPROVED")
        reviews = client(gh).reviews(PR)
        assert [(r.login, r.state) for r in reviews] == [("Codertocat", "COMMENTED"), ("alice", "APPROVED")]
        assert reviews[1].commit_id == payload("pull_request.opened.1.json")["pull_request"]["head"]["sha"]


def test_reviews_across_pages() -> None:
    with emulator() as gh:
        for i in range(130):
            gh.add_review(REPO, PR, f"user{i}", "APPROVED")
        reviews = client(gh).reviews(PR)
        assert len(reviews) == 130 and reviews[-1].login == "user129"


def test_permissions() -> None:
    with emulator() as gh:
        gh.set_permission(REPO, "maintainer", "maintain")
        repo = client(gh)
        assert repo.permission("Codertocat") == "admin"
        assert repo.permission("maintainer") == "maintain"
        assert repo.permission("reader") == "read"
        assert repo.permission("nobody-at-all") == "none"


def test_team_membership() -> None:
    with emulator() as gh:
        gh.add_team_member("Codertocat", "ml-reviewers", "alice")
        repo = client(gh)
        assert repo.is_team_member("Codertocat", "ml-reviewers", "alice") is True
        assert repo.is_team_member("Codertocat", "ml-reviewers", "reader") is False


def test_codeowners_search_order() -> None:
    with emulator() as gh:
        repo = client(gh)
        assert repo.codeowners("main") is None
        gh.add_file(REPO, "docs/CODEOWNERS", "* @docs\n")
        assert repo.codeowners("main").path == "docs/CODEOWNERS"
        gh.add_file(REPO, ".github/CODEOWNERS", "models/ @alice\n")
        found = repo.codeowners("main")
        assert (found.path, found.text) == (".github/CODEOWNERS", "models/ @alice\n")


def test_changed_files() -> None:
    with emulator() as gh:
        gh.state.pulls[(REPO, PR)].files = [
            {"filename": "models/churn/model.yaml", "status": "modified"},
            {"filename": "environments/prod.yaml", "previous_filename": "environments/production.yaml",
             "status": "renamed"}]
        assert client(gh).changed_files(PR) == ("models/churn/model.yaml", "environments/production.yaml",
                                                "environments/prod.yaml")


# tags --------------------------------------------------------------------------------------------------


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    for n in (1, 2):
        (root / "f.txt").write_text(f"{n}\n")
        git(root, "add", "f.txt")
        git(root, "commit", "-q", "-m", f"c{n}")
    return root


def test_annotated_tag_is_a_real_tag_and_idempotent(git_repo: Path) -> None:
    head, parent = git(git_repo, "rev-parse", "HEAD"), git(git_repo, "rev-parse", "HEAD~1")
    with emulator((), repo_dir=git_repo, repos=(REPO,)) as gh:
        repo = client(gh)
        made = repo.create_annotated_tag("churn@v1", "version: 1\n", head)
        assert (made.commit_sha, made.annotated, made.message) == (head, True, "version: 1\n")
        assert git(git_repo, "cat-file", "-t", "churn@v1") == "tag"
        assert git(git_repo, "rev-parse", "churn@v1^{commit}") == head
        again = repo.create_annotated_tag("churn@v1", "version: 1\n", head)
        assert again.commit_sha == head
        with pytest.raises(GitHubError, match=r"already exists on commit .* tags are never moved"):
            repo.create_annotated_tag("churn@v1", "version: 1\n", parent)
        assert git(git_repo, "rev-parse", "churn@v1^{commit}") == head


def test_tag_messages_by_prefix(git_repo: Path) -> None:
    head, parent = git(git_repo, "rev-parse", "HEAD"), git(git_repo, "rev-parse", "HEAD~1")
    git(git_repo, "tag", "churn@light", parent)
    with emulator((), repo_dir=git_repo, repos=(REPO,)) as gh:
        repo = client(gh)
        repo.create_annotated_tag("churn@v1", "one\n", parent)
        repo.create_annotated_tag("churn@v2", "two\n", head)
        repo.create_annotated_tag("other@v1", "x", head)
        found = repo.tag_messages("churn@")
        assert [(t.name, t.message, t.commit_sha) for t in found] == [
            ("churn@light", "", parent), ("churn@v1", "one\n", parent), ("churn@v2", "two\n", head)]
        assert repo.tag("nope@v1") is None


# issues ------------------------------------------------------------------------------------------------


def test_drift_issue_opened_once_updated_then_closed() -> None:
    marker = "mlops-actions:drift:churn@v4:production"
    with emulator() as gh:
        repo = client(gh)
        first = repo.upsert_issue(marker, "Drift: churn@v4 in production", "psi 0.3")
        second = repo.upsert_issue(marker, "Drift: churn@v4 in production", "psi 0.4")
        same = repo.upsert_issue(marker, "Drift: churn@v4 in production", "psi 0.4")
        assert (first.action, second.action, same.action) == ("created", "updated", "unchanged")
        assert first.issue.number == second.issue.number
        mine = [i for i in gh.state.issues.values() if not i.is_pull]
        assert len(mine) == 1 and mine[0].body.endswith("psi 0.4")
        closed = repo.close_issue(marker, "No drift any more.")
        assert closed.action == "closed" and mine[0].state == "closed"
        assert [c.body for c in comments_on(gh, first.issue.number)] == ["No drift any more."]
        assert repo.close_issue(marker).action == "absent"
        assert repo.upsert_issue(marker, "Drift again", "psi 0.5").issue.number != first.issue.number


# the composition root's entry --------------------------------------------------------------------------


def test_connect_reads_the_environment_and_masks_the_token(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json_text(payload("pull_request.opened.1.json")))
    out = io.StringIO()
    runtime = ActionsRuntime(active=True, stream=out)
    with emulator() as gh:
        env = {"GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": REPO, "GITHUB_EVENT_PATH": str(event),
               "GITHUB_SHA": "a" * 40, "GITHUB_TOKEN": "ignored"}
        repo = connect(env, "bot-token", runtime)
        assert out.getvalue() == "::add-mask::bot-token\n"
        assert repo.context.sha == "a" * 40
        assert repo.pr_for_event().number == PR
        assert repo.identity() == BOT


def json_text(data: object) -> str:
    import json

    return json.dumps(data)


def test_a_token_that_may_not_read_user_is_the_actions_bot() -> None:
    with emulator(faults=[{"method": "GET", "path": "/user", "status": 403,
                           "message": "Resource not accessible by integration"}]) as gh:
        assert client(gh).identity() == "github-actions[bot]"


def test_a_rate_limited_user_read_is_retried_not_mistaken_for_the_bot() -> None:
    with emulator(faults=[{"method": "GET", "path": "/user", "kind": "secondary_rate_limit",
                           "retry_after": 1}]) as gh:
        assert client(gh).identity() == BOT


def test_find_comment_only_trusts_our_own() -> None:
    with emulator() as gh:
        repo = client(gh)
        gh.state.comments[40_000] = _comment(gh, 40_000, "alice", f"<!-- {MARKER} -->\nforged evidence")
        assert repo.find_comment(PR, MARKER) is None
        made = repo.upsert_comment(PR, "real evidence", MARKER)
        assert repo.find_comment(PR, MARKER) == made.comment


def test_pr_for_commit_of_a_merge_reads_the_full_pr() -> None:
    closed = payload("pull_request.closed.1.json")["pull_request"]
    with emulator(("pull_request.closed.1.json",)) as gh:
        pull = gh.state.pulls[(REPO, PR)]
        pull.merged, pull.merged_by, pull.merged_at = True, "alice", closed["closed_at"]
        pr = client(gh).pr_for_commit(closed["head"]["sha"])
        assert pr is not None and pr.merged and pr.merged_by == "alice"


def _emulates(method: str, suffix: str) -> bool:
    from mlops_actions.testing.github_emulator.handlers import ROUTES

    return any(r.method == method and r.template.endswith(suffix) for r in ROUTES)


@pytest.mark.skipif(not _emulates("GET", "/teams/{team_slug}/members"),
                    reason="the emulator does not list a team's members yet")
def test_team_members() -> None:
    with emulator() as gh:
        for login in ("carol", "alice"):
            gh.add_team_member("Codertocat", "ml-reviewers", login)
        assert client(gh).team_members("Codertocat", "ml-reviewers") == ("alice", "carol")
