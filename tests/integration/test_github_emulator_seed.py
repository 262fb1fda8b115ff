"""Seeding the emulator from the real webhook payloads, and git objects hashed exactly like git."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github import Auth, Github

from mlops_actions.testing.github_emulator import WEBHOOKS as _PACKAGED_WEBHOOKS
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.gitdata import CommitObject, MemoryGit, Person, tag_text
from mlops_actions.testing.github_emulator.openapi import OpenAPI
from mlops_actions.testing.github_emulator.openapi import load as load_openapi
from mlops_actions.testing.github_emulator.seed import SeedError, seed_event
from mlops_actions.testing.github_emulator.state import State
from testkit import git

WEBHOOKS = _PACKAGED_WEBHOOKS
PAYLOADS = sorted(WEBHOOKS.glob("*.json"))


@pytest.fixture(scope="session")
def openapi() -> OpenAPI:
    return load_openapi(WEBHOOKS.parent / "api.github.com.json.gz")


def load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", PAYLOADS, ids=[p.name for p in PAYLOADS])
def test_every_payload_seeds_a_repository_that_answers_conforming(path: Path, openapi: OpenAPI) -> None:
    payload = load(path)
    with GitHubEmulator(users=["bot:t"], events=[path], strict=openapi) as gh:
        github = Github(auth=Auth.Token("t"), base_url=gh.url, retry=None, seconds_between_requests=0)
        repo = github.get_repo(payload["repository"]["full_name"])
        assert repo.id == payload["repository"]["id"]
        assert github.get_user(payload["sender"]["login"]).id == payload["sender"]["id"]
        if "pull_request" in payload:
            pull = repo.get_pull(payload["pull_request"]["number"])
            assert (pull.head.sha, pull.base.ref) == (payload["pull_request"]["head"]["sha"],
                                                      payload["pull_request"]["base"]["ref"])  # fmt: skip
            assert pull.state == payload["pull_request"]["state"]
        if "review" in payload:
            assert [r.id for r in repo.get_pull(payload["pull_request"]["number"]).get_reviews()] == [
                payload["review"]["id"]
            ]
        if "release" in payload:
            assert repo.get_release(payload["release"]["tag_name"]).id == payload["release"]["id"]
        if "deployment" in payload:
            assert repo.get_deployment(payload["deployment"]["id"]).sha == payload["deployment"]["sha"]
        assert all(entry.status == 200 for entry in gh.requests), [(e.path, e.response) for e in gh.requests]


def test_closed_pull_and_new_ids_follow_seeded_ones() -> None:
    state = State()
    seed_event(state, load(WEBHOOKS / "pull_request.closed.1.json"))
    pull = state.pulls[("Codertocat/Hello-World", 2)]
    assert (pull.state, pull.merged) == ("closed", False)
    assert state.next_id() > max(pull.id, state.repos["Codertocat/Hello-World"].id)
    assert state.repos["Codertocat/Hello-World"].next_number == 3


def test_review_state_is_upper_case_like_the_rest_api() -> None:
    state = State()
    seed_event(state, load(WEBHOOKS / "pull_request_review.submitted.1.json"))
    assert [r.state for r in state.reviews.values()] == ["COMMENTED"]


def test_payload_without_repository_is_refused() -> None:
    with pytest.raises(SeedError, match="no 'repository'"):
        seed_event(State(), {"action": "opened"})


def test_memory_tags_hash_like_git(example_repo: Path) -> None:
    head = git(example_repo, "rev-parse", "HEAD")
    memory = MemoryGit()
    person = Person("Bot", "bot@example.com", "2026-01-02T03:04:05Z")
    memory.add_commit(CommitObject(head, "initial", person, person, "0" * 40))
    sha = memory.create_tag("arrests@v1", "record\n", head, person)
    text = tag_text("arrests@v1", "record\n", head, "commit", person)
    import subprocess

    real = subprocess.run(["git", "mktag"], cwd=example_repo, input=text, capture_output=True, text=True, check=True)
    assert sha == real.stdout.strip()
    assert memory.tag(sha).message == "record\n"
