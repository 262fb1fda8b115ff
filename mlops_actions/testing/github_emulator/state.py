"""The emulator's state: users and tokens, repositories and everything in them.

Plain mutable dataclasses held under one lock by the server; ``dump``/``restore`` give the ``--state``
JSON file. Ids are global and increasing like GitHub's; issues and pull requests share one number
sequence per repository, and every pull request is also an issue (comments live on the issue).
"""

from __future__ import annotations

import base64
import threading
import time
from dataclasses import asdict, dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from .gitdata import GitData, MemoryGit, RepoGit

PERMISSIONS = ("none", "read", "triage", "write", "maintain", "admin")
RATE_LIMIT = 5000
RATE_WINDOW = 3600


def now_iso() -> str:
    """The current UTC time as GitHub writes it: ``2026-01-01T12:00:00Z``."""
    return datetime.now(tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def at_least(permission: str, needed: str) -> bool:
    """Whether ``permission`` grants ``needed`` (read < triage < write < maintain < admin)."""
    return PERMISSIONS.index(permission) >= PERMISSIONS.index(needed)


@dataclass
class User:
    login: str
    id: int
    type: str = "User"
    token: str | None = None
    permission: str = "write"
    name: str | None = None
    email: str | None = None


@dataclass
class Repo:
    owner: str
    name: str
    id: int
    private: bool = False
    default_branch: str = "main"
    description: str | None = None
    created_at: str = field(default_factory=now_iso)
    next_number: int = 1
    permissions: dict[str, str] = field(default_factory=dict)

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Issue:
    repo: str
    number: int
    id: int
    title: str
    user: str
    body: str | None = None
    state: str = "open"
    state_reason: str | None = None
    labels: list[str] = field(default_factory=list)
    assignees: list[str] = field(default_factory=list)
    is_pull: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    closed_at: str | None = None
    comments: int = 0


@dataclass
class Pull:
    repo: str
    number: int
    id: int
    title: str
    user: str
    head_ref: str
    head_sha: str
    base_ref: str
    base_sha: str
    body: str | None = None
    state: str = "open"
    draft: bool = False
    merged: bool = False
    merged_by: str | None = None
    merge_commit_sha: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    closed_at: str | None = None
    merged_at: str | None = None
    head_repo: str | None = None
    files: list[dict[str, Any]] = field(default_factory=list)
    commits: list[str] = field(default_factory=list)
    merged_commits: list[str] = field(default_factory=list)  # what a rebase merge wrote on the base branch


@dataclass
class Comment:
    repo: str
    issue_number: int
    id: int
    user: str
    body: str
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class Review:
    repo: str
    pull_number: int
    id: int
    user: str
    state: str
    commit_id: str
    body: str = ""
    submitted_at: str = field(default_factory=now_iso)


@dataclass
class IssueEvent:
    """One event of an issue's timeline (e.g. ``head_ref_force_pushed`` with the pusher as actor)."""

    repo: str
    issue_number: int
    id: int
    event: str
    actor: str
    commit_id: str | None = None
    created_at: str = field(default_factory=now_iso)


@dataclass
class Team:
    org: str
    slug: str
    id: int
    name: str
    members: dict[str, str] = field(default_factory=dict)


@dataclass
class Release:
    repo: str
    id: int
    tag_name: str
    target_commitish: str
    author: str
    name: str | None = None
    body: str | None = None
    draft: bool = False
    prerelease: bool = False
    created_at: str = field(default_factory=now_iso)
    published_at: str | None = None


@dataclass
class Asset:
    repo: str
    release_id: int
    id: int
    name: str
    uploader: str
    content_type: str
    data: str
    label: str | None = None
    created_at: str = field(default_factory=now_iso)

    @property
    def content(self) -> bytes:
        return base64.b64decode(self.data)


@dataclass
class Deployment:
    repo: str
    id: int
    ref: str
    sha: str
    creator: str
    environment: str = "production"
    task: str = "deploy"
    description: str | None = None
    payload: dict[str, Any] | str = field(default_factory=dict)
    transient_environment: bool = False
    production_environment: bool = False
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class DeploymentStatus:
    repo: str
    deployment_id: int
    id: int
    state: str
    creator: str
    description: str = ""
    environment: str = ""
    environment_url: str = ""
    log_url: str = ""
    target_url: str = ""
    created_at: str = field(default_factory=now_iso)


@dataclass
class Environment:
    repo: str
    name: str
    id: int
    wait_timer: int = 0
    reviewers: list[dict[str, Any]] = field(default_factory=list)
    deployment_branch_policy: dict[str, Any] | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class CheckRun:
    repo: str
    id: int
    name: str
    head_sha: str
    status: str = "queued"
    conclusion: str | None = None
    details_url: str | None = None
    external_id: str | None = None
    started_at: str | None = None
    completed_at: str | None = None
    output: dict[str, Any] = field(default_factory=dict)
    annotations: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class CommitStatus:
    repo: str
    sha: str
    id: int
    state: str
    creator: str
    context: str = "default"
    description: str | None = None
    target_url: str | None = None
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)


@dataclass
class RateBucket:
    limit: int = RATE_LIMIT
    used: int = 0
    reset: int = field(default_factory=lambda: int(time.time()) + RATE_WINDOW)

    @property
    def remaining(self) -> int:
        return max(self.limit - self.used, 0)


# collection name -> (dataclass, key of one item)
COLLECTIONS: dict[str, tuple[type, Any]] = {
    "users": (User, lambda item: item.login),
    "repos": (Repo, lambda item: item.full_name),
    "issues": (Issue, lambda item: (item.repo, item.number)),
    "pulls": (Pull, lambda item: (item.repo, item.number)),
    "comments": (Comment, lambda item: item.id),
    "reviews": (Review, lambda item: item.id),
    "events": (IssueEvent, lambda item: item.id),
    "teams": (Team, lambda item: (item.org, item.slug)),
    "releases": (Release, lambda item: item.id),
    "assets": (Asset, lambda item: item.id),
    "deployments": (Deployment, lambda item: item.id),
    "deployment_statuses": (DeploymentStatus, lambda item: item.id),
    "environments": (Environment, lambda item: (item.repo, item.name)),
    "check_runs": (CheckRun, lambda item: item.id),
    "statuses": (CommitStatus, lambda item: item.id),
}


@dataclass
class State:
    """Everything the emulator knows. Mutate only while holding ``lock``."""

    users: dict[str, User] = field(default_factory=dict)
    repos: dict[str, Repo] = field(default_factory=dict)
    issues: dict[tuple[str, int], Issue] = field(default_factory=dict)
    pulls: dict[tuple[str, int], Pull] = field(default_factory=dict)
    comments: dict[int, Comment] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)
    events: dict[int, IssueEvent] = field(default_factory=dict)
    teams: dict[tuple[str, str], Team] = field(default_factory=dict)
    releases: dict[int, Release] = field(default_factory=dict)
    assets: dict[int, Asset] = field(default_factory=dict)
    deployments: dict[int, Deployment] = field(default_factory=dict)
    deployment_statuses: dict[int, DeploymentStatus] = field(default_factory=dict)
    environments: dict[tuple[str, str], Environment] = field(default_factory=dict)
    check_runs: dict[int, CheckRun] = field(default_factory=dict)
    statuses: dict[int, CommitStatus] = field(default_factory=dict)
    git: dict[str, GitData] = field(default_factory=dict)
    rate: dict[str, RateBucket] = field(default_factory=dict)
    last_id: int = 1000
    repo_dir: Path | None = None
    lock: threading.RLock = field(default_factory=threading.RLock, repr=False)

    def next_id(self) -> int:
        """A new global id, larger than any before."""
        self.last_id += 1
        return self.last_id

    def seen_id(self, value: int) -> int:
        """Record an id given by a seed, so later ids stay unique."""
        self.last_id = max(self.last_id, value)
        return value

    def token_user(self, token: str) -> User | None:
        """The user a token belongs to."""
        return next((user for user in self.users.values() if user.token == token), None)

    def user(self, login: str, **extra: Any) -> User:
        """The user ``login``, created on first use."""
        if login not in self.users:
            self.users[login] = User(login=login, id=self.next_id(), **extra)
        return self.users[login]

    def repo(self, full_name: str, **extra: Any) -> Repo:
        """The repository ``owner/name``, created on first use."""
        if full_name not in self.repos:
            owner, name = full_name.split("/", 1)
            self.user(owner)
            self.repos[full_name] = Repo(owner=owner, name=name, id=self.next_id(), **extra)
            self.git[full_name] = RepoGit(self.repo_dir) if self.repo_dir else MemoryGit()
            if self.repo_dir and "default_branch" not in extra:
                self.repos[full_name].default_branch = RepoGit(self.repo_dir).head_branch() or "main"
        return self.repos[full_name]

    def permission(self, repo: Repo, login: str) -> str:
        """``login``'s permission on ``repo``: per-repo grant, else owner admin, else the user's default."""
        if login in repo.permissions:
            return repo.permissions[login]
        if login == repo.owner:
            return "admin"
        user = self.users.get(login)
        return user.permission if user else "none"

    def next_number(self, repo: Repo) -> int:
        """The next issue / pull request number of ``repo``."""
        number = repo.next_number
        repo.next_number += 1
        return number

    def dump(self) -> dict[str, Any]:
        """The state as JSON-ready data."""
        data: dict[str, Any] = {name: [asdict(item) for item in getattr(self, name).values()]
                                for name in COLLECTIONS}  # fmt: skip
        data["git"] = {name: git.dump() for name, git in self.git.items()}
        data["last_id"] = self.last_id
        return data

    @classmethod
    def restore(cls, data: dict[str, Any], repo_dir: Path | None = None) -> State:
        """The state saved by ``dump``."""
        state = cls(last_id=data.get("last_id", 1000), repo_dir=repo_dir)
        for name, (kind, key) in COLLECTIONS.items():
            names = {item.name for item in fields(kind)}
            items = [kind(**{k: v for k, v in raw.items() if k in names}) for raw in data.get(name, [])]
            getattr(state, name).update({key(item): item for item in items})
        for full_name, raw in data.get("git", {}).items():
            state.git[full_name] = RepoGit(repo_dir) if repo_dir else MemoryGit.restore(raw)
        return state
