"""The GitHub emulator, driven by PyGithub (the real client): every response must conform to GitHub's
OpenAPI description, every JSON request our client sends too, and behaviour must be GitHub's."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from github import Auth, Github, GithubException

from mlops_actions.testing.github_emulator import WEBHOOKS as _PACKAGED_WEBHOOKS
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.openapi import OpenAPI
from mlops_actions.testing.github_emulator.openapi import load as load_openapi

WEBHOOKS = _PACKAGED_WEBHOOKS
SPEC = WEBHOOKS.parent / "api.github.com.json.gz"
OPENED = WEBHOOKS / "pull_request.opened.1.json"
REVIEWED = WEBHOOKS / "pull_request_review.submitted.1.json"
REPO = "Codertocat/Hello-World"
HEAD = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return load_openapi(SPEC)


def assert_conforms(api: OpenAPI, gh: GitHubEmulator) -> int:
    """Every logged request is a documented operation; its JSON request and response bodies conform."""
    checked = 0
    for entry in gh.requests:
        path = entry.path.split("?", 1)[0]
        operation = api.operation(entry.method, path)
        assert operation is not None, f"{entry.method} {path} is not an operation of the description"
        if entry.body is not None:
            assert api.request_errors(operation, entry.body) == [], (entry.method, path)
        if entry.response is not None and not entry.dropped:
            assert api.has_response_schema(operation, entry.status), (operation.operation_id, entry.status)
            assert api.response_errors(operation, entry.status, entry.response) == [], (entry.method, path)
            checked += 1
    return checked


def client(gh: GitHubEmulator, token: str = "bot-token") -> Github:
    return Github(auth=Auth.Token(token), base_url=gh.url, retry=None, seconds_between_requests=0,
                  seconds_between_writes=0)


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    users = ["mlops-bot:bot-token:write", "reader:read-token:read", "Codertocat:cat-token"]
    with GitHubEmulator(users=users, events=[OPENED, REVIEWED]) as emulator:
        yield emulator


def test_pull_request_flow_conforms(gh: GitHubEmulator, openapi: OpenAPI) -> None:
    repo = client(gh).get_repo(REPO)
    pull = repo.get_pull(2)
    assert (pull.head.sha, pull.base.ref, pull.user.login, pull.merged) == (HEAD, "master", "Codertocat", False)
    assert [p.number for p in repo.get_pulls(state="open", head="Codertocat:changes")] == [2]
    assert [p.number for p in repo.get_pulls(state="closed")] == []
    assert [p.number for p in repo.get_commit(HEAD).get_pulls()] == [2]
    assert [r.state for r in pull.get_reviews()] == ["COMMENTED"]
    assert [c.sha for c in pull.get_commits()] == [HEAD]
    assert list(pull.get_files()) == []
    assert assert_conforms(openapi, gh) >= 7


def test_comments_create_edit_paginate(gh: GitHubEmulator, openapi: OpenAPI) -> None:
    issue = client(gh).get_repo(REPO).get_issue(2)
    created = [issue.create_comment(f"comment {n}") for n in range(35)]
    created[0].edit("edited <!-- marker -->")
    assert [c.body for c in issue.get_comments()][:2] == ["edited <!-- marker -->", "comment 1"]
    assert issue.get_comments().totalCount == 35
    pages = [e for e in gh.requests if e.method == "GET" and "/issues/2/comments" in e.path]
    assert any('rel="next"' in e.headers.get("Link", "") for e in pages)
    assert {c.user.login for c in issue.get_comments()} == {"mlops-bot"}
    assert created[1].id == created[0].id + 1
    assert assert_conforms(openapi, gh) > 35


def test_per_page_and_link_header(gh: GitHubEmulator) -> None:
    issue = client(gh).get_repo(REPO).get_issue(2)
    for n in range(5):
        issue.create_comment(f"c{n}")
    import requests

    headers = {"Authorization": "token bot-token"}
    url = f"{gh.url}/repos/{REPO}/issues/2/comments?per_page=2&page=2"
    answer = requests.get(url, headers=headers, timeout=5)
    assert [c["body"] for c in answer.json()] == ["c2", "c3"]
    links = answer.headers["Link"]
    assert f'<{gh.url}/repos/{REPO}/issues/2/comments?per_page=2&page=3>; rel="next"' in links
    assert 'page=3>; rel="last"' in links and 'page=1>; rel="first"' in links and 'page=1>; rel="prev"' in links


def test_without_token_401_with_github_body(gh: GitHubEmulator) -> None:
    import requests

    answer = requests.get(f"{gh.url}/repos/{REPO}", timeout=5)
    assert answer.status_code == 401
    assert answer.json()["message"] == "Requires authentication"
    with pytest.raises(GithubException) as caught:
        client(gh, "not-a-token").get_repo(REPO)
    assert caught.value.status == 401 and caught.value.data["message"] == "Bad credentials"


def test_bearer_token_accepted(gh: GitHubEmulator) -> None:
    import requests

    answer = requests.get(f"{gh.url}/user", headers={"Authorization": "Bearer read-token"}, timeout=5)
    assert answer.status_code == 200 and answer.json()["login"] == "reader"


def test_read_only_user_cannot_write(gh: GitHubEmulator, openapi: OpenAPI) -> None:
    issue = client(gh, "read-token").get_repo(REPO).get_issue(2)
    with pytest.raises(GithubException) as caught:
        issue.create_comment("hi")
    assert caught.value.status == 403
    assert caught.value.data["message"] == "Resource not accessible by integration"
    assert gh.state.comments == {}
    assert_conforms(openapi, gh)


def test_rate_limit_headers_decrease(gh: GitHubEmulator) -> None:
    github = client(gh)
    github.get_repo(REPO)
    first = gh.requests[-1].headers
    github.get_repo(REPO)
    second = gh.requests[-1].headers
    assert int(second["x-ratelimit-remaining"]) == int(first["x-ratelimit-remaining"]) - 1
    assert second["x-ratelimit-limit"] == "5000" and second["x-ratelimit-resource"] == "core"
    assert int(second["x-ratelimit-used"]) == 2
    assert github.get_rate_limit().resources.core.remaining == 4998


def test_comment_body_too_long_422(gh: GitHubEmulator, openapi: OpenAPI) -> None:
    issue = client(gh).get_repo(REPO).get_issue(2)
    with pytest.raises(GithubException) as caught:
        issue.create_comment("x" * 65537)
    assert caught.value.status == 422
    assert caught.value.data["errors"][0]["message"] == "Body is too long (maximum is 65536 characters)"
    issue.create_comment("x" * 65536)
    assert_conforms(openapi, gh)


def test_missing_pull_404(gh: GitHubEmulator, openapi: OpenAPI) -> None:
    with pytest.raises(GithubException) as caught:
        client(gh).get_repo(REPO).get_pull(99)
    assert caught.value.status == 404 and caught.value.data["message"] == "Not Found"
    assert_conforms(openapi, gh)


def test_urls_point_back_at_the_emulator(gh: GitHubEmulator) -> None:
    pull = client(gh).get_repo(REPO).get_pull(2)
    text = json.dumps(pull.raw_data)
    assert "github.com" not in text.replace("docs.github.com", "").replace("noreply.github.com", "")
    assert pull.raw_data["url"] == f"{gh.url}/repos/{REPO}/pulls/2"
    assert pull.raw_data["created_at"].endswith("Z")


def test_strict_mode_turns_nonconforming_answer_into_500(openapi: OpenAPI) -> None:
    with GitHubEmulator(users=["bot:t"], events=[OPENED], strict=openapi) as gh:
        gh.state.pulls[(REPO, 2)].state = "weird"  # not in the schema's enum
        with pytest.raises(GithubException) as caught:
            client(gh, "t").get_repo(REPO).get_pull(2)
    assert caught.value.status == 500 and "does not conform" in caught.value.data["message"]
