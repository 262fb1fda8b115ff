"""Contract: every route of the emulator, driven through PyGithub, answers what GitHub's OpenAPI description
says (response schema of the operation for that status) and every JSON request PyGithub sends conforms to
the operation's request schema."""

from __future__ import annotations

import io

import pytest
import requests
from github import Auth, Github, GithubException, InputGitAuthor
from github.EnvironmentProtectionRuleReviewer import ReviewerParams

from mlops_actions.testing.github_emulator import WEBHOOKS as _PACKAGED_WEBHOOKS
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.handlers import ROUTES
from mlops_actions.testing.github_emulator.openapi import OpenAPI
from mlops_actions.testing.github_emulator.openapi import load as load_openapi

WEBHOOKS = _PACKAGED_WEBHOOKS
REPO = "Codertocat/Hello-World"
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
SPEC = "models/churn/model.yaml"
BROWSER_ROUTES = {"/{owner}/{repo}/releases/download/{tag}/{name}"}  # not API operations: plain downloads
# answered like GitHub does although the description does not list them
LENIENT_EXTRAS = {"GET /repos/{owner}/{repo}/git/refs/{ref}", "GET /repos/{owner}/{repo}/git/matching-refs/"}


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return load_openapi(WEBHOOKS.parent / "api.github.com.json.gz")


def client(gh: GitHubEmulator, token: str = "bot-token") -> Github:
    return Github(auth=Auth.Token(token), base_url=gh.url, retry=None, seconds_between_requests=0,
                  seconds_between_writes=0)  # fmt: skip


def conform(api: OpenAPI, gh: GitHubEmulator) -> set[str]:
    """Check every logged exchange against the description; return the operation ids seen."""
    seen = set()
    for entry in gh.requests:
        path = entry.path.split("?", 1)[0]
        if "/releases/download/" in path:
            continue
        operation = api.operation(entry.method, path)
        assert operation is not None, f"{entry.method} {path}"
        if entry.body is not None:
            assert api.request_errors(operation, entry.body) == [], (operation.operation_id, entry.body)
        if entry.response is not None:
            assert api.has_response_schema(operation, entry.status), (operation.operation_id, entry.status)
            errors = api.response_errors(operation, entry.status, entry.response)
            assert errors == [], (operation.operation_id, entry.status, errors)
        seen.add(f"{entry.method} {operation.template}")
    return seen


def exercise_registry(github: Github) -> None:
    """Tags, refs, releases, assets: what registering a model version does."""
    repo = github.get_repo(REPO)
    tagger = InputGitAuthor("mlops-bot", "bot@example.com", "2026-01-02T03:04:05Z")
    tag = repo.create_git_tag("churn@v1", "record: {}\n", HEAD, "commit", tagger)
    repo.create_git_ref("refs/tags/churn@v1", tag.sha)
    assert repo.get_git_ref("tags/churn@v1").object.type == "tag"
    assert repo.get_git_tag(tag.sha).message == "record: {}\n"
    assert [r.ref for r in repo.get_git_matching_refs("tags/churn@")] == ["refs/tags/churn@v1"]
    assert [(t.name, t.commit.sha) for t in repo.get_tags()] == [("churn@v1", HEAD)]
    release = repo.create_git_release("churn@v1", "churn v1", "notes")
    release.upload_asset_from_memory(io.BytesIO(b"model bytes"), 11, "model.skops")
    asset = repo.get_release("churn@v1").get_assets()[0]
    assert requests.get(asset.browser_download_url, timeout=5).content == b"model bytes"
    assert b"".join(asset.download_asset()[2]) == b"model bytes"
    assert repo.get_release(release.id).tag_name == "churn@v1"
    assert [r.tag_name for r in repo.get_releases()] == ["churn@v1"]
    assert asset.delete_asset() is True
    assert repo.get_release("churn@v1").get_assets().totalCount == 0


def exercise_deploy(github: Github) -> None:
    repo = github.get_repo(REPO)
    repo.create_environment("production", wait_timer=0, reviewers=[ReviewerParams("User", 21031067)])
    assert [e.name for e in repo.get_environments()] == ["production"]
    assert repo.get_environment("production").protection_rules[0].type == "required_reviewers"
    deployment = repo.create_deployment("master", environment="production", payload={"model": "churn@v1"},
                                        required_contexts=[], auto_merge=False)  # fmt: skip
    deployment.create_status("success", environment_url="http://127.0.0.1/app", description="live")
    assert [d.id for d in repo.get_deployments(environment="production")] == [deployment.id]
    assert repo.get_deployment(deployment.id).payload == {"model": "churn@v1"}
    assert [s.state for s in deployment.get_statuses()] == ["success"]


def exercise_checks(github: Github) -> None:
    repo = github.get_repo(REPO)
    annotation = {"path": "models/churn/model.yaml", "start_line": 3, "end_line": 3,
                  "annotation_level": "failure", "message": "gate failed"}  # fmt: skip
    run = repo.create_check_run("mlops", HEAD, status="in_progress")
    run.edit(conclusion="failure", output={"title": "Gates", "summary": "1 failed", "annotations": [annotation]})
    assert repo.get_check_run(run.id).output.annotations_count == 1
    repo.create_check_run("other", HEAD, status="completed", conclusion="success")
    commit = repo.get_commit(HEAD)
    assert [r.id for r in commit.get_check_runs(check_name="mlops")] == [run.id]  # not the commit route
    rerun = repo.create_check_run("mlops", HEAD, status="queued")
    assert [r.id for r in commit.get_check_runs(check_name="mlops")] == [rerun.id]  # filter=latest
    assert [r.name for r in commit.get_check_runs(filter="all")] == ["mlops", "other", "mlops"]
    commit.create_status("pending", context="mlops")
    commit.create_status("success", context="mlops", description="ok", target_url="http://127.0.0.1/run")
    assert (commit.get_combined_status().state, commit.get_combined_status().total_count) == ("success", 1)


def exercise_conversation(github: Github, gh: GitHubEmulator) -> None:
    repo = github.get_repo(REPO)
    pull = repo.get_pull(2)
    assert [p.number for p in repo.get_pulls(state="all", head="Codertocat:changes", base="master")] == [2]
    assert [p.number for p in repo.get_commit(HEAD).get_pulls()] == [2]
    assert [f.filename for f in pull.get_files()] == ["README.md"]
    assert [c.sha for c in pull.get_commits()] == [HEAD]
    assert [r.state for r in pull.get_reviews()] == ["APPROVED"]
    comment = pull.as_issue().create_comment("<!-- mlops -->")
    comment.edit("<!-- mlops --> v2")
    assert repo.get_issue(2).get_comment(comment.id).body == "<!-- mlops --> v2"
    assert [c.id for c in pull.get_issue_comments()] == [comment.id]
    issue = repo.create_issue("Drift", body="PSI 0.3", labels=["drift"])
    issue.edit(state="closed", state_reason="completed")
    assert [i.number for i in repo.get_issues(state="closed", labels=["drift"])] == [issue.number]


def exercise_proposal(github: Github) -> str:
    """What refresh does: a branch, commits that change files through contents, a pull request, its edit."""
    repo = github.get_repo(REPO)
    branch = "mlops-actions/refresh-churn"
    repo.create_git_ref(f"refs/heads/{branch}", repo.get_git_ref("heads/master").object.sha)
    old = repo.get_contents(SPEC, ref=branch)
    repo.update_file(old.path, "Refresh churn", b"sha256: new\n", old.sha, branch=branch)
    made = repo.create_file("data/notes.txt", "Add notes", b"notes\n", branch=branch)
    assert repo.get_contents(SPEC, ref=branch).decoded_content == b"sha256: new\n"
    assert repo.get_contents(SPEC, ref="master").decoded_content == b"sha256: old\n"
    pull = repo.create_pull(base="master", head=branch, title="Refresh churn", body="new data")
    assert pull.head.sha == made["commit"].sha and pull.head.ref == branch
    assert [p.number for p in repo.get_pulls(state="open", head=f"Codertocat:{branch}")] == [pull.number]
    pull.edit(title="Refresh churn (2)", body="newer data")
    assert (repo.get_pull(pull.number).title, repo.get_issue(pull.number).body) == ("Refresh churn (2)", "newer data")
    return branch


def exercise_people(github: Github, gh: GitHubEmulator) -> None:
    repo = github.get_repo(REPO)
    assert github.get_user().login == "mlops-bot"
    assert github.get_user("alice").login == "alice"
    assert repo.get_collaborator_permission("reader") == "read"
    org = github.get_organization("octo-org")
    assert org.get_team_by_slug("ml").get_team_membership("alice").role == "maintainer"
    assert [m.login for m in org.get_team_by_slug("ml").get_members()] == ["alice", "carol"]
    assert [m.login for m in org.get_team_by_slug("ml").get_members(role="maintainer")] == ["alice"]
    assert repo.get_contents(".github/CODEOWNERS").decoded_content == b"models/ @octo-org/ml\n"
    gh.add_issue_event(REPO, 2, "head_ref_force_pushed", "alice", commit_id=repo.get_pull(2).head.sha)
    [pushed] = list(repo.get_issue(2).get_timeline())
    assert (pushed.event, pushed.actor.login) == ("head_ref_force_pushed", "alice")
    assert github.get_rate_limit().resources.core.limit == 5000


def test_every_route_conforms_through_pygithub(openapi: OpenAPI) -> None:
    users = ["mlops-bot:bot-token:admin", "reader:read-token:read", "alice:alice-token"]
    events = [WEBHOOKS / "pull_request.opened.1.json"]
    with GitHubEmulator(users=users, events=events) as gh:
        gh.state.pulls[(REPO, 2)].files = [{"filename": "README.md", "status": "modified", "additions": 1,
                                            "deletions": 0, "patch": "@@ -1 +1 @@\n-a\n+b"}]  # fmt: skip
        gh.add_review(REPO, 2, "alice", "APPROVED")
        gh.add_team_member("octo-org", "ml", "alice", "maintainer")
        gh.add_team_member("octo-org", "ml", "carol")
        gh.add_file(REPO, ".github/CODEOWNERS", "models/ @octo-org/ml\n")
        gh.add_file(REPO, SPEC, "sha256: old\n")
        github = client(gh)
        exercise_conversation(github, gh)
        exercise_proposal(github)
        exercise_people(github, gh)
        exercise_registry(github)
        exercise_deploy(github)
        exercise_checks(github)
        seen = conform(openapi, gh)
    routes = {f"{r.method} {r.template.removeprefix('/uploads')}" for r in ROUTES} - {
        f"GET {path}" for path in BROWSER_ROUTES
    }
    missing = {r for r in routes if _operation_key(openapi, r) not in seen}
    assert missing <= {"GET /repos/{owner}/{repo}/git/refs/{ref}", "GET /repos/{owner}/{repo}/git/matching-refs/",
                       "POST /repos/{owner}/{repo}/pulls/{pull_number}/reviews",
                       "PATCH /repos/{owner}/{repo}/git/refs/{ref}"}, missing  # fmt: skip


def _operation_key(api: OpenAPI, route: str) -> str:
    method, template = route.split(" ", 1)
    sample = template.replace("{ref}", "heads/main").replace("{path}", "a/b")
    sample = "/".join("x" if part.startswith("{") else part for part in sample.split("/"))
    operation = api.operation(method, sample)
    return f"{method} {operation.template}" if operation else route


def test_every_route_is_an_operation_of_the_description(openapi: OpenAPI) -> None:
    for item in ROUTES:
        if f"{item.method} {item.template}" in LENIENT_EXTRAS or item.template in BROWSER_ROUTES:
            continue
        sample = "/".join("x" if p.startswith("{") else p for p in item.template.split("/"))
        assert openapi.operation(item.method, sample) is not None, (item.method, item.template)


def test_errors_conform_too(openapi: OpenAPI) -> None:
    with GitHubEmulator(users=["bot:bot-token", "reader:read-token:read"],
                        events=[WEBHOOKS / "pull_request.opened.1.json"]) as gh:  # fmt: skip
        repo = client(gh).get_repo(REPO)
        for action in (lambda: repo.get_pull(404), lambda: repo.get_issue(2).create_comment("x" * 70000),
                       lambda: repo.create_git_ref("refs/heads/master", HEAD),
                       lambda: repo.get_release("nope"), lambda: repo.get_git_ref("tags/none"),
                       lambda: client(gh, "read-token").get_repo(REPO).create_issue("t")):  # fmt: skip
            with pytest.raises(GithubException):
                action()
        statuses = [e.status for e in gh.requests]
        conform(openapi, gh)
    assert statuses[1:] == [404, 200, 422, 422, 404, 404, 200, 403]


def test_contents_and_pull_request_errors_conform(openapi: OpenAPI) -> None:
    """A stale or missing blob SHA, an unknown branch, a second pull request for a branch, nothing to merge."""
    with GitHubEmulator(users=["bot:bot-token"], events=[WEBHOOKS / "pull_request.opened.1.json"]) as gh:
        gh.add_file(REPO, SPEC, "sha256: old\n")
        repo = client(gh).get_repo(REPO)
        repo.create_git_ref("refs/heads/empty", repo.get_git_ref("heads/master").object.sha)
        for action in (lambda: repo.update_file(SPEC, "m", b"x", "0" * 40, branch="master"),
                       lambda: repo.create_file(SPEC, "m", b"x", branch="master"),
                       lambda: repo.create_file("new.txt", "m", b"x", branch="nope"),
                       lambda: repo.create_pull(base="master", head="changes", title="again"),
                       lambda: repo.create_pull(base="master", head="empty", title="nothing"),
                       lambda: repo.create_pull(base="nope", head="changes", title="no base")):  # fmt: skip
            with pytest.raises(GithubException):
                action()
        statuses = [e.status for e in gh.requests]
        conform(openapi, gh)
        assert repo.get_contents(SPEC, ref="master").decoded_content == b"sha256: old\n"
    assert statuses[-6:] == [409, 422, 404, 422, 422, 422]


def test_shipped_skeletons_match_the_description(openapi: OpenAPI) -> None:
    """skeletons.json is generated from the description; regenerate it when the description changes."""
    import json

    from mlops_actions.testing.github_emulator.skeleton import DATA, generate

    assert json.loads(DATA.read_text(encoding="utf-8")) == generate(openapi)


def test_strict_mode_refuses_a_nonconforming_request(openapi: OpenAPI) -> None:
    with GitHubEmulator(users=["bot:bot-token"], events=[WEBHOOKS / "pull_request.opened.1.json"],
                        strict=openapi) as gh:  # fmt: skip
        answer = requests.post(f"{gh.url}/repos/{REPO}/issues/2/comments", json={"body": 5},
                               headers={"Authorization": "token bot-token"}, timeout=5)  # fmt: skip
        assert gh.state.comments == {}
    assert answer.status_code == 422 and "issues/create-comment" in answer.json()["message"]
