"""``GitHubEmulator``: the in-process face of the emulator (a context manager serving on loopback)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any

from . import faults as faults_mod
from .openapi import OpenAPI
from .openapi import load as load_openapi
from .seed import add_user, parse_user, seed_event
from .server import App, LoggedRequest, Server
from .state import Comment, IssueEvent, Pull, Repo, Review, State, Team, now_iso

UserSeed = str | tuple[str, str] | tuple[str, str, str]


class GitHubEmulator:
    """A GitHub REST API emulator on 127.0.0.1.

    ``users``: ``"LOGIN:TOKEN[:PERMISSION]"`` strings or tuples; ``events``: webhook payloads (dicts or
    paths); ``repo_dir``: back git data by a real repository; ``state_file``: restore from / save to JSON;
    ``faults``: ``Fault`` objects, dicts or a path; ``strict``: validate every answer against GitHub's
    OpenAPI description (a nonconforming answer becomes a 500 naming the problem); ``clock``: the seconds the
    faults' windows run on (``content_rate_limit``), ``time.monotonic`` unless a test passes its own;
    ``rate_limit``: each user's primary budget of requests an hour (GitHub's 5,000 by default).
    """

    def __init__(self, *, users: Iterable[UserSeed] = (), events: Iterable[dict[str, Any] | str | Path] = (),
                 repo_dir: str | Path | None = None, state_file: str | Path | None = None,
                 faults: Iterable[faults_mod.Fault | dict[str, Any]] | str | Path = (), port: int = 0,
                 strict: bool | OpenAPI = False, repos: Iterable[str] = (),
                 clock: Callable[[], float] = time.monotonic, rate_limit: int = 5000) -> None:  # fmt: skip
        self.repo_dir = Path(repo_dir).resolve() if repo_dir else None
        self.state_file = Path(state_file) if state_file else None
        self.state = self._initial_state()
        for spec in users:
            add_user(self.state, *(parse_user(spec) if isinstance(spec, str) else spec))
        for event in events:
            seed_event(self.state, _payload(event))
        for full_name in repos:
            self.state.repo(full_name)
        openapi = strict if isinstance(strict, OpenAPI) else load_openapi() if strict else None
        self.app = App(self.state, _routes(), faults_mod.FaultPlan(_faults(faults), clock), openapi)
        self.app.rate_limit = rate_limit
        self.port = port
        self._server: Server | None = None

    def _initial_state(self) -> State:
        if self.state_file and self.state_file.is_file():
            return State.restore(json.loads(self.state_file.read_text(encoding="utf-8")), self.repo_dir)
        return State(repo_dir=self.repo_dir)

    def start(self) -> GitHubEmulator:
        """Start serving (``with`` does it for you)."""
        self._server = Server(self.app, self.port).start()
        return self

    def stop(self) -> None:
        """Stop serving and save the state file, if any."""
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self.state_file:
            self.save(self.state_file)

    def save(self, path: Path) -> None:
        """Write the state as JSON (atomically)."""
        with self.state.lock:
            text = json.dumps(self.state.dump(), indent=1, sort_keys=True)
        partial = path.with_name(path.name + ".partial")
        partial.write_text(text + "\n", encoding="utf-8")
        partial.replace(path)

    def __enter__(self) -> GitHubEmulator:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:  # fmt: skip
        self.stop()

    @property
    def url(self) -> str:
        """The API base URL (like ``GITHUB_API_URL``)."""
        if self._server is None:
            raise RuntimeError("the emulator is not running")
        return self._server.url

    @property
    def requests(self) -> list[LoggedRequest]:
        """The request log, oldest first."""
        return self.app.log

    # --- seeding helpers for tests -------------------------------------------------------------------

    def add_user(self, login: str, token: str | None = None, permission: str = "write", **extra: Any) -> None:
        """Add a user (with a token to act as them)."""
        with self.state.lock:
            add_user(self.state, login, token, permission)
            for key, value in extra.items():
                setattr(self.state.users[login], key, value)

    def add_repo(self, full_name: str, **extra: Any) -> Repo:
        """Add a repository ``owner/name``."""
        with self.state.lock:
            repo = self.state.repo(full_name)
            for key, value in extra.items():
                setattr(repo, key, value)
            return repo

    def add_event(self, payload: dict[str, Any] | str | Path) -> Repo:
        """Seed from a webhook payload (dict or path)."""
        with self.state.lock:
            return seed_event(self.state, _payload(payload))

    def add_pull(self, repo: str, *, head_ref: str, head_sha: str, base_sha: str, base_ref: str = "main",
                 user: str | None = None, title: str = "A change", files: Iterable[str] = (),
                 **extra: Any) -> Pull:  # fmt: skip
        """Open a pull request (numbered like GitHub: after the last issue or pull request); ``files`` are the
        paths its ``/files`` endpoint lists."""
        with self.state.lock:
            record = self.state.repo(repo)
            author = user or record.owner
            self.state.user(author)
            payload = {"number": self.state.next_number(record), "id": self.state.next_id(), "title": title,
                       "user": {"login": author}, "head": {"ref": head_ref, "sha": head_sha},
                       "base": {"ref": base_ref, "sha": base_sha}, **extra}  # fmt: skip
            from .seed import _pull

            pull = _pull(self.state, record, payload)
            pull.files = [{"filename": path} for path in files] or pull.files
            return pull

    def push(self, repo: str, number: int, head_sha: str) -> Pull:
        """Pull request ``number``'s head moves to ``head_sha``, as a push to its branch does."""
        with self.state.lock:
            pull = self.state.pulls[(repo, number)]
            pull.head_sha, pull.updated_at = head_sha, now_iso()
            return pull

    def merge(self, repo: str, number: int, merge_commit_sha: str, *, merged_by: str, method: str = "merge",
              rebased: Sequence[str] | None = None) -> Pull:
        """Pull request ``number`` is merged as ``merge_commit_sha`` by ``merged_by`` (and closed), as GitHub
        reports a merge; make the commits themselves with git in the ``repo_dir`` repository. ``method`` is
        GitHub's ``merge_method``: ``merge`` (a merge commit), ``squash`` (one new commit with one parent) or
        ``rebase`` (the PR's commits replayed on the base; ``merge_commit_sha`` is the last of them). For a
        rebase, ``rebased`` lists the replayed commits, oldest first; without it, with ``repo_dir``, they are
        the last first-parent commits up to ``merge_commit_sha``, one per commit of the pull request. Every
        replayed commit then belongs to the pull request (``commits/{sha}/pulls``), as on GitHub."""
        if method not in MERGE_METHODS:
            raise ValueError(f"merge method {method!r}: expected one of {', '.join(MERGE_METHODS)}")
        with self.state.lock:
            self.state.user(merged_by)
            pull, when = self.state.pulls[(repo, number)], now_iso()
            if method == "rebase":
                pull.merged_commits = list(rebased) if rebased is not None else \
                    self._replayed(repo, pull, merge_commit_sha)
            pull.merged, pull.state, pull.merge_commit_sha, pull.merged_by = True, "closed", merge_commit_sha, merged_by
            pull.merged_at = pull.closed_at = pull.updated_at = when
            issue = self.state.issues.get((repo, number))
            if issue is not None:
                issue.state, issue.closed_at, issue.updated_at = "closed", when, when
            return pull

    def _replayed(self, repo: str, pull: Pull, last: str) -> list[str]:
        git = self.state.git[repo]
        count = len(pull.commits) or len(_first_parents(git, pull.head_sha, stop=pull.base_sha))
        return list(reversed(_first_parents(git, last, limit=max(count, 1))))

    # --- reading what the code under test did ---------------------------------------------------------

    def pull(self, repo: str, number: int) -> Pull:
        """Pull request ``number`` as the emulator holds it (head, state, merge, files)."""
        with self.state.lock:
            return self.state.pulls[(repo, number)]

    def comments(self, repo: str, number: int) -> list[Comment]:
        """The comments on issue or pull request ``number``, oldest first (``user``, ``body``, ``id``)."""
        with self.state.lock:
            return sorted((c for c in self.state.comments.values() if c.repo == repo and c.issue_number == number),
                          key=lambda c: c.id)

    def add_review(self, repo: str, number: int, user: str, state: str = "APPROVED",
                   commit_id: str | None = None, body: str = "") -> Review:  # fmt: skip
        """Submit a review (APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED) on pull request ``number``."""
        with self.state.lock:
            pull = self.state.pulls[(repo, number)]
            self.state.user(user)
            review = Review(repo, number, self.state.next_id(), user, state.upper(), commit_id or pull.head_sha,
                            body, now_iso())  # fmt: skip
            self.state.reviews[review.id] = review
            return review

    def add_issue_event(self, repo: str, number: int, event: str, actor: str,
                        commit_id: str | None = None) -> IssueEvent:  # fmt: skip
        """Add a timeline event to issue or pull request ``number``, e.g. ``head_ref_force_pushed``."""
        with self.state.lock:
            self.state.user(actor)
            found = IssueEvent(repo, number, self.state.next_id(), event, actor, commit_id, now_iso())
            self.state.events[found.id] = found
            return found

    def add_team_member(self, org: str, slug: str, login: str, role: str = "member") -> Team:
        """Put ``login`` in team ``org/slug`` (created on first use)."""
        with self.state.lock:
            owner = self.state.user(org)
            owner.type = "Organization"
            self.state.user(login)
            team = self.state.teams.setdefault((org, slug), Team(org, slug, self.state.next_id(), slug))
            team.members[login] = role
            return team

    def set_permission(self, repo: str, login: str, permission: str) -> None:
        """``login``'s permission on ``repo`` (none, read, triage, write, maintain, admin)."""
        with self.state.lock:
            self.state.user(login)
            self.state.repo(repo).permissions[login] = permission

    def add_file(self, repo: str, path: str, content: bytes | str) -> None:
        """A file served by ``contents/{path}`` (for repositories not backed by --repo-dir)."""
        data = content.encode("utf-8") if isinstance(content, str) else content
        with self.state.lock:
            self.state.repo(repo)
            git = self.state.git[repo]
            files = getattr(git, "files", None)
            if files is None:
                raise ValueError("files of a --repo-dir repository come from its HEAD commit")
            files[path] = base64.b64encode(data).decode("ascii")

    def rate_limit_refusals(self) -> int:
        """How many requests a secondary rate limit refused (``content_rate_limit`` and
        ``secondary_rate_limit`` faults): zero when the client paced its writes under the limit."""
        return self.app.plan.refusals()

    def add_fault(self, fault: faults_mod.Fault | dict[str, Any]) -> None:
        """Inject a fault while running."""
        self.app.plan.add(fault if isinstance(fault, faults_mod.Fault) else faults_mod.parse([fault])[0])


MERGE_METHODS = ("merge", "squash", "rebase")


def _first_parents(git: Any, sha: str, *, stop: str | None = None, limit: int = 10_000) -> list[str]:
    """First-parent commits from ``sha`` back (newest first), up to ``limit``, ending before an ancestor of
    ``stop``."""
    found: list[str] = []
    commit = git.commit(sha)
    while commit is not None and len(found) < limit:
        if stop is not None and git.is_ancestor(commit.sha, stop):
            break
        found.append(commit.sha)
        commit = git.commit(commit.parents[0]) if commit.parents else None
    return found


def _payload(event: dict[str, Any] | str | Path) -> dict[str, Any]:
    if isinstance(event, dict):
        return event
    return json.loads(Path(event).read_text(encoding="utf-8"))


def _faults(items: Iterable[faults_mod.Fault | dict[str, Any]] | str | Path) -> list[faults_mod.Fault]:
    if isinstance(items, str | Path):
        return faults_mod.load(Path(items))
    listed = list(items)
    parsed = faults_mod.parse([item for item in listed if isinstance(item, dict)])
    return [item for item in listed if isinstance(item, faults_mod.Fault)] + parsed


def _routes() -> list[Any]:
    from .handlers import ROUTES

    return list(ROUTES)
