"""A change proposed as a pull request from a branch we own: one file, one commit, one open pull request.

``propose_file`` makes sure that branch ``B`` holds ``content`` at ``path`` and that an open pull request
from ``B`` exists, without duplicates however often it runs:

1. the branch: created at ``base_sha`` when absent (``POST git/refs``; "already exists" is success);
2. the file: read on the branch (``GET contents?ref=B``); when it already holds ``content`` nothing is
   written. Otherwise a branch left by an earlier run is first moved back to ``base_sha`` (it is ours:
   the proposal is always one commit on top of the base), then the file is written with ``PUT contents``
   and the SHA of the blob it replaces, which is a real commit on the branch;
3. the pull request: found by head (``GET pulls?head=owner:B&state=open``); opened when absent
   (``POST pulls``), else its title and body brought up to date (``PATCH pulls/{n}``).

Every write that may have been applied before its response was lost is re-read before it is repeated
(the file holds ``content``; the branch exists; an open pull request from ``B`` exists), so a retry never
writes twice. The permissions: ``contents: write`` for the branch and the file, ``pull-requests: write``
for the pull request.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from github import GithubException

from mlops_actions.github.client import Session
from mlops_actions.github.comments import check_size
from mlops_actions.github.errors import Op
from mlops_actions.github.guards import none_on_404
from mlops_actions.github.pulls import pr_from_json
from mlops_actions.github.tags import check_tag_name
from mlops_actions.github.values import PullRequest


@dataclass(frozen=True)
class Proposal:
    """What to propose: ``path`` holding ``content`` on ``branch``, as a pull request into ``base``."""

    branch: str
    base_sha: str  # the commit the branch starts from (the one the change was computed on)
    path: str
    content: bytes
    message: str  # the commit message
    title: str
    body: str
    base: str | None = None  # the branch to merge into (default: the repository's default branch)


@dataclass(frozen=True)
class ProposalResult:
    pull: PullRequest
    action: str  # "created" (new pull request), "updated" (new commit or new title/body), "unchanged"
    commit: str | None  # the commit written by this run, if any


@dataclass(frozen=True)
class _File:
    content: bytes
    sha: str


def propose_file(session: Session, proposal: Proposal) -> ProposalResult:
    """Branch, commit and pull request of ``proposal``, idempotently (see the module doc)."""
    check_branch_name(proposal.branch)
    check_size(proposal.body, f"body of the pull request {proposal.title!r}")
    base = proposal.base or default_branch(session)
    was_at = _ensure_branch(session, proposal.branch, proposal.base_sha)
    commit = _write_file(session, proposal, was_at)
    found = _find_open(session, proposal.branch)
    if found is None:
        return ProposalResult(_open_pull(session, proposal, base), "created", commit)
    pull = pr_from_json(found)
    if (found.get("title"), found.get("body") or "") != (proposal.title, proposal.body):
        return ProposalResult(_edit_pull(session, pull, proposal), "updated", commit)
    return ProposalResult(pull, "updated" if commit else "unchanged", commit)


def check_branch_name(name: str) -> None:
    """Refuse names git would refuse (the ``git check-ref-format`` rules tags follow too)."""
    try:
        check_tag_name(name)
    except ValueError:
        raise ValueError(f"{name!r} is not a valid branch name") from None


def default_branch(session: Session) -> str:
    op = Op("read the repository's default branch", f"repository {session.full_name}", "contents: read")
    return str(session.retrier.call(op, lambda: session.request("GET", ""))["default_branch"])


# -- the branch ------------------------------------------------------------------------------------------

def _ref_path(branch: str) -> str:
    return quote(branch, safe="/@")


def branch_sha(session: Session, branch: str) -> str | None:
    """The commit branch ``branch`` points at, None when there is no such branch."""
    op = Op(f"read the branch {branch}", f"branch {branch}", "contents: read")
    data = session.retrier.call(op, none_on_404(lambda: session.request("GET", f"/git/ref/heads/{_ref_path(branch)}")))
    if isinstance(data, list):  # a prefix match on old GitHub versions
        data = next((d for d in data if d.get("ref") == f"refs/heads/{branch}"), None)
    return None if data is None else str(data["object"]["sha"])


def _ensure_branch(session: Session, branch: str, sha: str) -> str:
    """Create ``branch`` at ``sha`` unless it exists; the commit the branch is at now."""
    existing = branch_sha(session, branch)
    if existing is not None:
        return existing
    op = Op(f"create the branch {branch} at {sha[:12]}", f"branch {branch}", "contents: write", write=True)
    return session.retrier.call(op, lambda: _create_ref(session, branch, sha),
                                recover=lambda: branch_sha(session, branch))


def _create_ref(session: Session, branch: str, sha: str) -> str:
    try:
        session.request("POST", "/git/refs", body={"ref": f"refs/heads/{branch}", "sha": sha})
    except GithubException as exc:
        if exc.status == 422 and branch_sha(session, branch) is not None:
            return str(branch_sha(session, branch))  # "Reference already exists": another run was first
        raise
    return sha


def _reset_branch(session: Session, branch: str, sha: str) -> None:
    op = Op(f"move the branch {branch} to {sha[:12]}", f"branch {branch}", "contents: write", write=True)
    session.retrier.call(op, lambda: session.request("PATCH", f"/git/refs/heads/{_ref_path(branch)}",
                                                     body={"sha": sha, "force": True}))


# -- the file --------------------------------------------------------------------------------------------

def read_file(session: Session, path: str, ref: str) -> _File | None:
    """``path`` at ``ref`` with its blob SHA; None when absent."""
    op = Op(f"read {path} at {ref}", f"{path} at {ref}", "contents: read")
    data = session.retrier.call(op, none_on_404(lambda: session.request(
        "GET", f"/contents/{quote(path, safe='/')}", params={"ref": ref})))
    if not isinstance(data, dict) or data.get("type") != "file":
        return None
    try:
        return _File(base64.b64decode(str(data.get("content") or "")), str(data["sha"]))
    except (binascii.Error, ValueError):
        return None


def _write_file(session: Session, proposal: Proposal, was_at: str) -> str | None:
    """Make the branch hold the content; the new commit's SHA, None when it already did."""
    current = read_file(session, proposal.path, proposal.branch)
    if current is not None and current.content == proposal.content:
        return None
    if was_at != proposal.base_sha:  # an earlier proposal: start again from the base
        _reset_branch(session, proposal.branch, proposal.base_sha)
        current = read_file(session, proposal.path, proposal.branch)
    body: dict[str, Any] = {"message": proposal.message, "branch": proposal.branch,
                            "content": base64.b64encode(proposal.content).decode("ascii")}
    if current is not None:
        body["sha"] = current.sha
    op = Op(f"commit {proposal.path} on the branch {proposal.branch}", f"{proposal.path} on {proposal.branch}",
            "contents: write", write=True)

    def recover() -> str | None:
        found = read_file(session, proposal.path, proposal.branch)
        return branch_sha(session, proposal.branch) if found and found.content == proposal.content else None

    answer = session.retrier.call(op, lambda: session.request(
        "PUT", f"/contents/{quote(proposal.path, safe='/')}", body=body), recover=recover)
    return str(answer["commit"]["sha"]) if isinstance(answer, dict) else str(answer)


# -- the pull request ------------------------------------------------------------------------------------

def find_pull(session: Session, branch: str) -> PullRequest | None:
    """The open pull request from ``branch`` of this repository, if any."""
    found = _find_open(session, branch)
    return None if found is None else pr_from_json(found)


def _find_open(session: Session, branch: str) -> dict[str, Any] | None:
    owner = session.full_name.split("/", 1)[0]
    op = Op(f"look for the open pull request from {branch}", f"pull requests from {branch}", "pull-requests: read")
    found = session.retrier.call(op, lambda: session.request(
        "GET", "/pulls", params={"head": f"{owner}:{branch}", "state": "open", "per_page": 100}))
    mine = [p for p in found or [] if (p.get("head") or {}).get("ref") == branch]
    return dict(mine[0]) if mine else None


def _open_pull(session: Session, proposal: Proposal, base: str) -> PullRequest:
    op = Op(f"open the pull request {proposal.title!r}", f"pull requests from {proposal.branch}",
            "pull-requests: write", write=True)
    payload = {"title": proposal.title, "head": proposal.branch, "base": base, "body": proposal.body}
    return session.retrier.call(op, lambda: pr_from_json(session.request("POST", "/pulls", body=payload)),
                                recover=lambda: find_pull(session, proposal.branch))


def _edit_pull(session: Session, pull: PullRequest, proposal: Proposal) -> PullRequest:
    op = Op(f"update pull request #{pull.number}", f"pull request #{pull.number}", "pull-requests: write",
            write=True)
    return session.retrier.call(op, lambda: pr_from_json(session.request(
        "PATCH", f"/pulls/{pull.number}", body={"title": proposal.title, "body": proposal.body})))
