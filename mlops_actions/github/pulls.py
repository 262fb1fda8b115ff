"""Pull requests: the PR of an event or a commit, reviews, changed files, who may approve, CODEOWNERS."""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from github.Commit import Commit as GhCommit
from github.TimelineEvent import TimelineEvent

from mlops_actions.github.client import Session, raw
from mlops_actions.github.errors import Op
from mlops_actions.github.guards import none_on_404
from mlops_actions.github.values import CodeOwners, PullRequest, Review

CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's search order


def _login(user: Any) -> str | None:
    return str(user["login"]) if isinstance(user, Mapping) and user.get("login") else None


def pr_from_json(data: Mapping[str, Any]) -> PullRequest:
    """A ``PullRequest`` from a webhook payload's ``pull_request`` or a REST pull request (full or simple)."""
    head, base = data.get("head") or {}, data.get("base") or {}
    merged = bool(data.get("merged")) or bool(data.get("merged_at"))
    return PullRequest(
        number=int(data["number"]), author=_login(data.get("user")) or "", head_sha=str(head.get("sha", "")),
        head_ref=str(head.get("ref", "")), base_ref=str(base.get("ref", "")), state=str(data.get("state", "")),
        merged=merged, merged_by=_login(data.get("merged_by")),
        merge_commit_sha=data.get("merge_commit_sha") or None, title=str(data.get("title", "")),
        head_repo=(head.get("repo") or {}).get("full_name"))


def review_from_json(data: Mapping[str, Any]) -> Review:
    return Review(login=_login(data.get("user")) or "", state=str(data.get("state", "")),
                  commit_id=data.get("commit_id"), submitted_at=data.get("submitted_at"),
                  review_id=int(data.get("id", 0)))


def get_pull(session: Session, number: int) -> PullRequest:
    op = Op(f"read pull request #{number}", f"pull request #{number}", "pull-requests: read")
    return session.retrier.call(op, lambda: pr_from_json(raw(session.repo.get_pull(number).complete())))


def pr_for_event(session: Session, payload: Mapping[str, Any]) -> PullRequest | None:
    """The pull request an event is about: from the payload itself when it carries one, else via the API."""
    if isinstance(payload.get("pull_request"), Mapping):
        return pr_from_json(payload["pull_request"])
    issue = payload.get("issue")
    if isinstance(issue, Mapping) and issue.get("pull_request"):
        return get_pull(session, int(issue["number"]))
    run = payload.get("workflow_run")
    if isinstance(run, Mapping):
        return _pr_for_workflow_run(session, run)
    after = payload.get("after")
    if isinstance(after, str) and after.strip("0"):
        return pr_for_commit(session, after)
    return None


def _pr_for_workflow_run(session: Session, run: Mapping[str, Any]) -> PullRequest | None:
    pulls = run.get("pull_requests") or []
    if pulls and isinstance(pulls[0], Mapping) and pulls[0].get("number"):
        return get_pull(session, int(pulls[0]["number"]))
    sha = run.get("head_sha")
    return pr_for_commit(session, str(sha)) if sha else None  # fork PRs leave pull_requests empty


def pr_for_commit(session: Session, sha: str) -> PullRequest | None:
    """The PR a commit belongs to (``commits/{sha}/pulls``): the PR it merged, else one whose head it is.

    Read in full afterwards (one more request): the list's entries lack ``merged`` and ``merged_by``.
    """
    op = Op(f"find the pull request of commit {sha[:12]}", f"commit {sha[:12]}", "pull-requests: read")
    found = session.retrier.call(op, lambda: [pr_from_json(raw(p)) for p in session.repo.get_commit(sha).get_pulls()])
    chosen = choose_pr(found, sha)
    return None if chosen is None else get_pull(session, chosen.number)  # the list omits merged_by


def choose_pr(pulls: list[PullRequest], sha: str) -> PullRequest | None:
    for wanted in (lambda p: p.merged and p.merge_commit_sha == sha, lambda p: p.head_sha == sha,
                   lambda p: p.merged, lambda p: True):
        match = next((p for p in pulls if wanted(p)), None)
        if match is not None:
            return match
    return None


def reviews(session: Session, number: int) -> tuple[Review, ...]:
    """Every review of the pull request, oldest first, across all pages."""
    op = Op(f"list the reviews of pull request #{number}", f"pull request #{number}", "pull-requests: read")
    pull = session.repo.get_pull(number)
    return session.retrier.call(op, lambda: tuple(review_from_json(raw(r)) for r in pull.get_reviews()))


WEB_FLOW = "web-flow"  # GitHub's own committer of commits made in the web UI or by a merge button


def last_pushers(session: Session, number: int, head_sha: str) -> tuple[str, ...]:
    """Who pushed the pull request's last commit, as far as GitHub says (sorted logins).

    GitHub's REST API names no pusher, so both traces count: the GitHub accounts linked to the head commit's
    author and committer (``pulls/{n}/commits``), and the actor of a force push that made the head
    (``head_ref_force_pushed`` in the timeline; the newest one when GitHub gives no commit).
    """
    op = Op(f"read who pushed the last commit of pull request #{number}", f"pull request #{number}",
            "pull-requests: read")
    return session.retrier.call(op, lambda: tuple(sorted(
        {*_commit_people(session, number, head_sha), *_force_pushers(session, number, head_sha)} - {WEB_FLOW})))


def _commit_people(session: Session, number: int, head_sha: str) -> set[str]:
    commits = [raw(c) for c in session.paginate(GhCommit, f"/pulls/{number}/commits")]
    head = next((c for c in commits if c.get("sha") == head_sha), commits[-1] if commits else {})
    return {login for login in (_login(head.get("author")), _login(head.get("committer"))) if login}


def _force_pushers(session: Session, number: int, head_sha: str) -> set[str]:
    events = [raw(e) for e in session.paginate(TimelineEvent, f"/issues/{number}/timeline")]
    pushes = [e for e in events if e.get("event") == "head_ref_force_pushed"]
    matching = [e for e in pushes if e.get("commit_id") == head_sha]
    chosen = matching or [e for e in pushes[-1:] if not e.get("commit_id")]
    return {login for login in (_login(e.get("actor")) for e in chosen) if login}


def changed_files(session: Session, number: int) -> tuple[str, ...]:
    """Paths the pull request touches; a renamed file contributes its old and its new path."""
    op = Op(f"list the files of pull request #{number}", f"pull request #{number}", "pull-requests: read")
    pull = session.repo.get_pull(number)
    return session.retrier.call(op, lambda: _paths(raw(f) for f in pull.get_files()))


def _paths(files: Any) -> tuple[str, ...]:
    out: list[str] = []
    for data in files:
        if data.get("previous_filename"):
            out.append(str(data["previous_filename"]))
        out.append(str(data["filename"]))
    return tuple(dict.fromkeys(out))


def permission(session: Session, login: str) -> str:
    """The user's role on the repository: admin, maintain, write, triage, read, or none."""
    op = Op(f"read the repository permission of {login}", f"user {login}", "metadata: read")
    url = f"{session.repo.url}/collaborators/{quote(login, safe='')}/permission"

    def fetch() -> str:
        _, data = session.gh.requester.requestJsonAndCheck("GET", url)
        return str(data.get("role_name") or data.get("permission") or "none")

    return session.retrier.call(op, none_on_404(fetch)) or "none"


def is_team_member(session: Session, org: str, slug: str, login: str) -> bool:
    """Whether ``login`` is an active member of team ``org/slug`` (404 means not a member)."""
    team = session.gh.get_organization(org).get_team_by_slug(slug)
    op = Op(f"read {login}'s membership of team {org}/{slug}", f"team {org}/{slug}",
            "members: read (organization; GITHUB_TOKEN cannot, use an App or PAT token with read:org)")
    state = session.retrier.call(op, none_on_404(lambda: raw(team.get_team_membership(login)).get("state")))
    return state == "active"


def team_members(session: Session, org: str, slug: str) -> tuple[str, ...]:
    team = session.gh.get_organization(org).get_team_by_slug(slug)
    op = Op(f"list the members of team {org}/{slug}", f"team {org}/{slug}",
            "members: read (organization; GITHUB_TOKEN cannot, use an App or PAT token with read:org)")
    return session.retrier.call(op, lambda: tuple(sorted(str(raw(m)["login"]) for m in team.get_members())))


def codeowners(session: Session, ref: str) -> CodeOwners | None:
    """The CODEOWNERS file GitHub would use at ``ref``: .github/, then the root, then docs/."""
    for path in CODEOWNERS_PATHS:
        op = Op(f"read {path} at {ref}", f"{path} at {ref}", "contents: read")
        text = session.retrier.call(op, none_on_404(functools.partial(_file_text, session, path, ref)))
        if text is not None:
            return CodeOwners(path, text)
    return None


def _file_text(session: Session, path: str, ref: str) -> str | None:
    found = session.repo.get_contents(path, ref=ref)
    if isinstance(found, list):
        return None  # a directory
    data = raw(found)
    try:
        return base64.b64decode(str(data.get("content", ""))).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
