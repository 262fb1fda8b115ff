"""Seeding: users from ``LOGIN:TOKEN[:PERMISSION]``, and repository, people, pull request, review,
release, deployment and push from real webhook payloads (the same file that drives ``act``)."""

from __future__ import annotations

from typing import Any

from .gitdata import CommitObject, Person
from .state import PERMISSIONS, Deployment, Issue, Pull, Release, Repo, Review, State, now_iso

EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"


class SeedError(ValueError):
    """A seed (user spec or payload) is malformed."""


def parse_user(spec: str) -> tuple[str, str, str]:
    """``LOGIN:TOKEN[:PERMISSION]`` -> (login, token, permission); permission defaults to write."""
    parts = spec.split(":")
    if len(parts) not in (2, 3) or not parts[0] or not parts[1]:
        raise SeedError(f"--user {spec.split(':')[0]}:...: expected LOGIN:TOKEN[:PERMISSION]")
    permission = parts[2] if len(parts) == 3 else "write"
    if permission not in PERMISSIONS[1:]:
        raise SeedError(f"--user {parts[0]}: permission must be one of {', '.join(PERMISSIONS[1:])}")
    return parts[0], parts[1], permission


def add_user(state: State, login: str, token: str | None = None, permission: str = "write") -> None:
    """Add (or update) a user with a token and a default permission on every repository."""
    user = state.user(login)
    user.token, user.permission = token, permission


def seed_event(state: State, payload: dict[str, Any]) -> Repo:
    """Seed the state from one webhook payload; returns its repository."""
    if not isinstance(payload.get("repository"), dict):
        raise SeedError("event payload has no 'repository' object")
    repo = _repository(state, payload["repository"])
    _person(state, payload.get("sender"))
    _person(state, payload.get("organization"), "Organization")
    if isinstance(payload.get("pull_request"), dict):
        if payload.get("action") == "synchronize":  # the sender pushed the new head: its commit says so
            _pushed(state, repo, payload["pull_request"], payload.get("sender"))
        _pull(state, repo, payload["pull_request"])
    if isinstance(payload.get("review"), dict) and isinstance(payload.get("pull_request"), dict):
        _review(state, repo, payload["pull_request"]["number"], payload["review"])
    _others(state, repo, payload)
    return repo


def _others(state: State, repo: Repo, payload: dict[str, Any]) -> None:
    if isinstance(payload.get("release"), dict):
        _release(state, repo, payload["release"])
    if isinstance(payload.get("deployment"), dict):
        _deployment(state, repo, payload["deployment"])
    if payload.get("after") and str(payload.get("ref", "")).startswith("refs/"):
        _commit(state, repo, payload["after"], "push")
        state.git[repo.full_name].update_ref(payload["ref"], payload["after"])


def _person(state: State, data: Any, kind: str | None = None) -> str | None:
    if not isinstance(data, dict) or "login" not in data:
        return None
    fresh = data["login"] not in state.users
    user = state.user(data["login"])
    if fresh and isinstance(data.get("id"), int):
        user.id = state.seen_id(data["id"])
    user.type = kind or data.get("type", user.type)
    return user.login


def _repository(state: State, data: dict[str, Any]) -> Repo:
    owner = _person(state, data.get("owner"))
    full_name = data.get("full_name") or f"{owner}/{data.get('name')}"
    fresh = full_name not in state.repos
    repo = state.repo(full_name)
    if fresh:
        repo.id = state.seen_id(data["id"]) if isinstance(data.get("id"), int) else repo.id
        repo.private = bool(data.get("private", False))
        repo.default_branch = data.get("default_branch") or data.get("master_branch") or repo.default_branch
        repo.description = data.get("description")
        repo.created_at = data["created_at"] if isinstance(data.get("created_at"), str) else repo.created_at
    return repo


def _commit(state: State, repo: Repo, sha: str, message: str, parents: tuple[str, ...] = ()) -> None:
    git = state.git[repo.full_name]
    if sha and git.object_type(sha) is None:
        person = Person("GitHub", "noreply@github.com", now_iso())
        git.add_commit(CommitObject(sha, message, person, person, EMPTY_TREE, parents))


def _pushed(state: State, repo: Repo, data: dict[str, Any], sender: Any) -> None:
    """The head commit of a ``synchronize`` event, committed as its sender (GitHub's no-reply address)."""
    login = _person(state, sender)
    sha = (data.get("head") or {}).get("sha")
    git = state.git[repo.full_name]
    if login and sha and git.object_type(sha) is None:
        person = Person(login, f"{login}@users.noreply.github.com", now_iso())
        parents = ((data.get("base") or {}).get("sha"),)
        git.add_commit(CommitObject(sha, "pushed", person, person, EMPTY_TREE, tuple(p for p in parents if p)))


def _pull(state: State, repo: Repo, data: dict[str, Any]) -> Pull:
    head, base = data["head"], data["base"]
    _commit(state, repo, base["sha"], f"base of #{data['number']}")
    _commit(state, repo, head["sha"], data.get("title") or "head", (base["sha"],))
    for branch in (head, base):
        if (branch.get("repo") or {}).get("full_name", repo.full_name) == repo.full_name:
            _set_ref(state, repo, f"refs/heads/{branch['ref']}", branch["sha"])
    pull = _pull_record(state, repo, data)
    state.pulls[(repo.full_name, pull.number)] = pull
    _pull_issue(state, pull)
    repo.next_number = max(repo.next_number, pull.number + 1)
    return pull


def _set_ref(state: State, repo: Repo, ref: str, sha: str) -> None:
    git = state.git[repo.full_name]
    if git.resolve(ref) is None and git.object_type(sha) is not None:
        git.update_ref(ref, sha)


def _pull_record(state: State, repo: Repo, data: dict[str, Any]) -> Pull:
    head, base = data["head"], data["base"]
    head_repo = (head.get("repo") or {}).get("full_name")
    author = _person(state, data["user"]) or "ghost"
    return Pull(
        repo.full_name, data["number"], state.seen_id(data["id"]), data.get("title") or "", author,
        head["ref"], head["sha"], base["ref"], base["sha"], body=data.get("body"), state=data.get("state", "open"),
        draft=bool(data.get("draft")), merged=bool(data.get("merged")),
        merged_by=_person(state, data.get("merged_by")),
        merge_commit_sha=data.get("merge_commit_sha"), created_at=data.get("created_at") or now_iso(),
        updated_at=data.get("updated_at") or now_iso(), closed_at=data.get("closed_at"),
        merged_at=data.get("merged_at"), head_repo=head_repo if head_repo != repo.full_name else None,
    )  # fmt: skip


def _pull_issue(state: State, pull: Pull) -> None:
    key = (pull.repo, pull.number)
    if key not in state.issues:
        state.issues[key] = Issue(pull.repo, pull.number, state.next_id(), pull.title, pull.user, pull.body,
                                  pull.state, is_pull=True, created_at=pull.created_at,
                                  updated_at=pull.updated_at, closed_at=pull.closed_at)  # fmt: skip


def _review(state: State, repo: Repo, number: int, data: dict[str, Any]) -> None:
    review = Review(repo.full_name, number, state.seen_id(data["id"]), _person(state, data.get("user")) or "ghost",
                    str(data.get("state", "commented")).upper(), data.get("commit_id") or "",
                    data.get("body") or "", data.get("submitted_at") or now_iso())  # fmt: skip
    state.reviews[review.id] = review


def _release(state: State, repo: Repo, data: dict[str, Any]) -> None:
    release = Release(repo.full_name, state.seen_id(data["id"]), data["tag_name"],
                      data.get("target_commitish") or repo.default_branch,
                      _person(state, data.get("author")) or "ghost", data.get("name"), data.get("body"),
                      bool(data.get("draft")), bool(data.get("prerelease")),
                      data.get("created_at") or now_iso(), data.get("published_at"))  # fmt: skip
    state.releases[release.id] = release


def _deployment(state: State, repo: Repo, data: dict[str, Any]) -> None:
    _commit(state, repo, data.get("sha", ""), "deployed")
    deployment = Deployment(repo.full_name, state.seen_id(data["id"]), data.get("ref") or "", data.get("sha") or "",
                            _person(state, data.get("creator")) or "ghost", data.get("environment") or "production",
                            data.get("task") or "deploy", data.get("description"), data.get("payload") or {},
                            created_at=data.get("created_at") or now_iso(),
                            updated_at=data.get("updated_at") or now_iso())  # fmt: skip
    state.deployments[deployment.id] = deployment
