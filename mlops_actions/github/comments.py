"""The sticky comment: one comment per pull request and marker, edited in place, never duplicated.

Ours is the comment that carries the hidden marker line AND was written by the token's identity (another
user quoting the marker is left alone). Updating it on a pull request with fewer than 100 comments costs
three requests: GET /user, GET the comments (100 per page), PATCH; one more GET per further page.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from typing import Any

from github.IssueComment import IssueComment

from mlops_actions.errors import GitHubError
from mlops_actions.github.client import Session, raw
from mlops_actions.github.errors import Op
from mlops_actions.github.values import COMMENT_LIMIT, Comment, CommentResult

_MARKER = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 _.:@/+=#-]{0,199}$")


def marker_line(marker: str) -> str:
    """The hidden HTML comment line that identifies our comment or issue, e.g. ``<!-- mlops-report -->``."""
    if not _MARKER.match(marker) or "--" in marker:
        raise ValueError(f"invalid marker {marker!r}: letters, digits and ' _.:@/+=#-', no '--'")
    return f"<!-- {marker} -->"


def has_marker(body: str | None, marker: str) -> bool:
    line = marker_line(marker)
    return any(text.strip() == line for text in (body or "").splitlines())


def with_marker(body: str, marker: str) -> str:
    """``body`` with the marker line first (unless it already carries it)."""
    return body if has_marker(body, marker) else f"{marker_line(marker)}\n{body}"


def check_size(body: str, what: str) -> None:
    """Refuse, before any request, a body GitHub would reject (over 65,536 characters)."""
    if len(body) > COMMENT_LIMIT:
        raise GitHubError(
            f"the {what} is {len(body):,} characters long; GitHub accepts at most {COMMENT_LIMIT:,}, so it "
            "was not sent", hint="shorten the report (the full version belongs in the job summary).")


def to_comment(data: dict[str, Any]) -> Comment:
    return Comment(id=int(data["id"]), author=str((data.get("user") or {}).get("login", "")),
                   body=str(data.get("body") or ""), url=str(data.get("html_url", "")))


def find_ours(comments: Iterable[IssueComment], marker: str, me: str) -> IssueComment | None:
    """The first comment with the marker written by ``me``, reading every page."""
    for item in comments:
        data = raw(item)
        if (data.get("user") or {}).get("login") == me and has_marker(data.get("body"), marker):
            return item
    return None


def upsert_comment(session: Session, number: int, body: str, marker: str) -> CommentResult:
    """Create or edit in place our marked comment on issue / pull request ``number``."""
    full = with_marker(body, marker)
    check_size(full, f"comment for pull request #{number}")
    me = session.identity()
    issue = session.repo.get_issue(number)
    where = f"pull request #{number}"
    read = Op(f"read the comments of {where}", where, "pull-requests: read")
    existing = session.retrier.call(read, lambda: find_ours(issue.get_comments(), marker, me))
    if existing is None:
        return _create(session, number, full, marker, me)
    return _update(session, existing, full, where)


def find_comment(session: Session, number: int, marker: str) -> Comment | None:
    """Our marked comment on issue / pull request ``number`` (marker AND author = the token's identity:
    a comment anyone else wrote with the same marker is not ours, so it cannot pose as our evidence)."""
    me = session.identity()
    issue = session.repo.get_issue(number)
    where = f"pull request #{number}"
    op = Op(f"read the comments of {where}", where, "pull-requests: read")
    found = session.retrier.call(op, lambda: find_ours(issue.get_comments(), marker, me))
    return None if found is None else to_comment(raw(found))


def _create(session: Session, number: int, full: str, marker: str, me: str) -> CommentResult:
    issue = session.repo.get_issue(number)
    where = f"pull request #{number}"
    op = Op(f"create the comment on {where}", where, "pull-requests: write", write=True)

    def recover() -> IssueComment | None:
        return find_ours(issue.get_comments(), marker, me)

    made = session.retrier.call(op, lambda: issue.create_comment(full), recover=recover)
    comment = to_comment(raw(made))
    if comment.body != full:  # found by recover() holding an older body: bring it up to date
        return _update(session, made, full, where)
    return CommentResult(comment, "created")


def _update(session: Session, existing: IssueComment, full: str, where: str) -> CommentResult:
    current = to_comment(raw(existing))
    if current.body == full:
        return CommentResult(current, "unchanged")
    op = Op(f"update comment {current.id} on {where}", f"comment {current.id} on {where}",
            "pull-requests: write", write=True)
    session.retrier.call(op, lambda: existing.edit(full))
    return CommentResult(replace(current, body=full), "updated")
