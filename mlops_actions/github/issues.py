"""Issues found by a hidden marker in their body (e.g. drift of churn@v4 in production): no duplicates.

Ours is the open issue (not pull request) whose body carries the marker line and whose author is the
token's identity. Opening again when one is open updates it; closing comments then closes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from github.Issue import Issue as GhIssue
from github.IssueComment import IssueComment

from mlops_actions.github.client import Session, raw
from mlops_actions.github.comments import check_size, to_comment, with_marker
from mlops_actions.github.comments import has_marker as _has_marker
from mlops_actions.github.errors import Op
from mlops_actions.github.values import Issue, IssueResult


def issue_from_json(data: Mapping[str, Any]) -> Issue:
    return Issue(number=int(data["number"]), title=str(data.get("title", "")), body=str(data.get("body") or ""),
                 state=str(data.get("state", "")), url=str(data.get("html_url", "")),
                 author=str((data.get("user") or {}).get("login", "")))


def find_issue(session: Session, marker: str) -> Issue | None:
    """Our open issue carrying ``marker``, reading every page of open issues."""
    me = session.identity()
    op = Op(f"look for the open issue marked {marker!r}", "the repository's issues", "issues: read")
    return session.retrier.call(op, lambda: _scan(session, marker, me))


def _scan(session: Session, marker: str, me: str) -> Issue | None:
    for item in session.paginate(GhIssue, "/issues", {"state": "open"}):
        data = raw(item)
        if ("pull_request" not in data and (data.get("user") or {}).get("login") == me
                and _has_marker(data.get("body"), marker)):
            return issue_from_json(data)
    return None


def upsert_issue(session: Session, marker: str, title: str, body: str,
                 labels: tuple[str, ...] = ()) -> IssueResult:
    """Open our marked issue, or bring the open one up to date (title and body)."""
    full = with_marker(body, marker)
    check_size(full, f"body of the issue {title!r}")
    found = find_issue(session, marker)
    if found is None:
        return _open(session, marker, title, full, labels)
    if found.title == title and found.body == full:
        return IssueResult(found, "unchanged")
    op = Op(f"update issue #{found.number}", f"issue #{found.number}", "issues: write", write=True)
    data = session.retrier.call(op, lambda: session.request(
        "PATCH", f"/issues/{found.number}", body={"title": title, "body": full}))
    return IssueResult(issue_from_json(data), "updated")


def _open(session: Session, marker: str, title: str, full: str, labels: tuple[str, ...]) -> IssueResult:
    payload: dict[str, Any] = {"title": title, "body": full}
    if labels:
        payload["labels"] = list(labels)
    op = Op(f"open the issue {title!r}", "the repository's issues", "issues: write", write=True)
    me = session.identity()
    made = session.retrier.call(op, lambda: issue_from_json(session.request("POST", "/issues", body=payload)),
                                recover=lambda: _scan(session, marker, me))
    return IssueResult(made, "created")


def close_issue(session: Session, marker: str, comment: str | None = None) -> IssueResult:
    """Comment on and close our open marked issue; "absent" when there is none."""
    found = find_issue(session, marker)
    if found is None:
        return IssueResult(None, "absent")
    if comment:
        _comment_once(session, found.number, comment)
    op = Op(f"close issue #{found.number}", f"issue #{found.number}", "issues: write", write=True)
    data = session.retrier.call(op, lambda: session.request(
        "PATCH", f"/issues/{found.number}", body={"state": "closed", "state_reason": "completed"}))
    return IssueResult(issue_from_json(data), "closed")


def _comment_once(session: Session, number: int, body: str) -> None:
    check_size(body, f"comment on issue #{number}")
    me = session.identity()
    op = Op(f"comment on issue #{number}", f"issue #{number}", "issues: write", write=True)

    def recover() -> IssueComment | None:
        comments = session.paginate(IssueComment, f"/issues/{number}/comments")
        return next((c for c in comments if to_comment(raw(c)).body == body
                     and to_comment(raw(c)).author == me), None)

    session.retrier.call(op, lambda: session.repo.get_issue(number).create_comment(body), recover=recover)
