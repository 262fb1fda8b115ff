"""Opening and editing pull requests (``POST pulls``, ``PATCH pulls/{n}``); open pull requests follow their
head branch when it moves (a commit through ``contents``, or a ref update)."""

from __future__ import annotations

from ..api import ApiError, Call, Reply, invalid
from ..server import route
from ..state import Pull, State, now_iso
from .pulls import find_pull


def follow_branch(state: State, repo: str, branch: str, sha: str) -> None:
    """Open pull requests of ``repo`` whose head is ``branch`` (of ``repo`` itself) now point at ``sha``."""
    for pull in state.pulls.values():
        if pull.repo == repo and pull.head_repo is None and pull.head_ref == branch and pull.state == "open":
            pull.head_sha, pull.updated_at = sha, now_iso()


def create_pull(call: Call) -> Reply:
    assert call.repo is not None
    title = call.text("title", resource="PullRequest", limit=256)
    head_ref = _branch_name(call, call.field("head", str, resource="PullRequest"))
    base_ref = call.field("base", str, resource="PullRequest")
    head_sha, base_sha = _sha_of(call, head_ref, "head"), _sha_of(call, base_ref, "base")
    _refuse_duplicate(call, head_ref, base_ref)
    git = call.state.git[call.full_name]
    if head_sha == base_sha or git.is_ancestor(head_sha, base_sha):
        raise invalid("PullRequest", "base", "custom", f"No commits between {base_ref} and {head_ref}")
    pull = Pull(call.full_name, call.state.next_number(call.repo), call.state.next_id(), title, call.login, head_ref,
                head_sha, base_ref, base_sha, body=call.text("body", None, "PullRequest"),
                draft=call.field("draft", bool, False, "PullRequest"))  # fmt: skip
    call.state.pulls[(pull.repo, pull.number)] = pull
    from ..seed import _pull_issue

    _pull_issue(call.state, pull)
    body = call.render.pull(pull)
    return Reply(201, body, {"Location": body["url"]})


def _branch_name(call: Call, head: str) -> str:
    """``owner:branch`` or ``branch``; another owner's branch (a fork) is not emulated."""
    owner, colon, branch = head.rpartition(":")
    if colon and owner != call.repo.owner:  # type: ignore[union-attr]
        raise invalid("PullRequest", "head")
    return branch


def _sha_of(call: Call, branch: str, field_name: str) -> str:
    sha = call.state.git[call.full_name].resolve(f"refs/heads/{branch}")
    if sha is None:
        raise invalid("PullRequest", field_name)
    return sha


def _refuse_duplicate(call: Call, head_ref: str, base_ref: str) -> None:
    for pull in call.state.pulls.values():
        if (pull.repo, pull.head_ref, pull.base_ref, pull.state) == (call.full_name, head_ref, base_ref, "open") \
                and pull.head_repo is None:
            owner = call.repo.owner  # type: ignore[union-attr]
            raise invalid("PullRequest", "head", "custom", f"A pull request already exists for {owner}:{head_ref}.")


def update_pull(call: Call) -> Reply:
    pull = find_pull(call)
    issue = call.state.issues.get((pull.repo, pull.number))
    if "title" in call.body():
        pull.title = call.text("title", resource="PullRequest", limit=256)
    if "body" in call.body():
        pull.body = call.text("body", resource="PullRequest") if call.body()["body"] is not None else None
    if "base" in call.body():
        pull.base_ref = call.field("base", str, resource="PullRequest")
        pull.base_sha = _sha_of(call, pull.base_ref, "base")
    _set_state(call, pull)
    pull.updated_at = now_iso()
    if issue is not None:
        issue.title, issue.body, issue.state, issue.updated_at = pull.title, pull.body, pull.state, pull.updated_at
        issue.closed_at = pull.closed_at
    return Reply(200, call.render.pull(pull))


def _set_state(call: Call, pull: Pull) -> None:
    state = call.field("state", str, pull.state, "PullRequest")
    if state not in ("open", "closed"):
        raise invalid("PullRequest", "state")
    if state != pull.state and pull.merged:
        raise ApiError(422, "Cannot change the state of a merged pull request")
    if state != pull.state:
        pull.closed_at = now_iso() if state == "closed" else None
    pull.state = state


ROUTES = [
    route("POST", "/repos/{owner}/{repo}/pulls", create_pull),
    route("PATCH", "/repos/{owner}/{repo}/pulls/{pull_number}", update_pull),
]
