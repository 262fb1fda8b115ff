"""Issues and issue comments (a pull request's conversation is its issue's comments)."""

from __future__ import annotations

from ..api import Call, Reply, invalid, not_found, paginate
from ..server import route
from ..state import Comment, Issue, now_iso

ISSUE_STATES = ("open", "closed")
STATE_REASONS = ("completed", "not_planned", "reopened", "duplicate", None)


def find_issue(call: Call) -> Issue:
    """The issue (or pull request) of the path's ``issue_number``."""
    found = call.state.issues.get((call.full_name, call.int_param("issue_number")))
    if found is None:
        raise not_found()
    return found


def timeline(call: Call) -> Reply:
    """The issue's timeline: the events the emulator knows (force pushes, ...), oldest first."""
    issue = find_issue(call)
    events = sorted((e for e in call.state.events.values() if (e.repo, e.issue_number) == (issue.repo, issue.number)),
                    key=lambda e: e.id)  # fmt: skip
    return paginate(call, events, call.render.issue_event)


def find_comment(call: Call) -> Comment:
    found = call.state.comments.get(call.int_param("comment_id"))
    if found is None or found.repo != call.full_name:
        raise not_found()
    return found


def list_comments(call: Call) -> Reply:
    issue = find_issue(call)
    since = call.query.get("since", "")
    comments = sorted((c for c in call.state.comments.values()
                       if (c.repo, c.issue_number) == (issue.repo, issue.number) and c.updated_at >= since),
                      key=lambda c: c.id)  # fmt: skip
    return paginate(call, comments, call.render.comment)


def create_comment(call: Call) -> Reply:
    issue = find_issue(call)
    body = call.text("body", resource="IssueComment")
    comment = Comment(issue.repo, issue.number, call.state.next_id(), call.login, body)
    call.state.comments[comment.id] = comment
    issue.comments += 1
    issue.updated_at = comment.created_at
    return Reply(201, call.render.comment(comment), {"Location": call.render.comment(comment)["url"]})


def get_comment(call: Call) -> Reply:
    return Reply(200, call.render.comment(find_comment(call)))


def update_comment(call: Call) -> Reply:
    comment = find_comment(call)
    comment.body = call.text("body", resource="IssueComment")
    comment.updated_at = now_iso()
    return Reply(200, call.render.comment(comment))


def create_issue(call: Call) -> Reply:
    assert call.repo is not None
    title = call.field("title", (str, int), resource="Issue")
    issue = Issue(call.full_name, call.state.next_number(call.repo), call.state.next_id(), str(title),
                  call.login, call.text("body", None, "Issue"), labels=_labels(call),
                  assignees=call.field("assignees", list, [], "Issue"))  # fmt: skip
    call.state.issues[(issue.repo, issue.number)] = issue
    return Reply(201, call.render.issue(issue), {"Location": call.render.issue(issue)["url"]})


def _labels(call: Call) -> list[str]:
    raw = call.field("labels", list, [], "Issue")
    return [item if isinstance(item, str) else str(item.get("name", "")) for item in raw]


def list_issues(call: Call) -> Reply:
    state = call.query.get("state", "open")
    if state not in (*ISSUE_STATES, "all"):
        raise invalid("Issue", "state")
    wanted = {name for name in call.query.get("labels", "").split(",") if name}
    issues = [i for i in call.state.issues.values() if i.repo == call.full_name and state in ("all", i.state)
              and wanted <= set(i.labels) and _creator_ok(call, i)]  # fmt: skip
    issues.sort(key=lambda i: i.number, reverse=call.query.get("direction", "desc") == "desc")
    return paginate(call, issues, call.render.issue)


def _creator_ok(call: Call, issue: Issue) -> bool:
    creator = call.query.get("creator")
    return creator is None or creator == issue.user


def get_issue(call: Call) -> Reply:
    return Reply(200, call.render.issue(find_issue(call)))


def update_issue(call: Call) -> Reply:
    issue = find_issue(call)
    if "title" in call.body():
        issue.title = str(call.field("title", (str, int), resource="Issue"))
    if "body" in call.body():
        issue.body = call.text("body", resource="Issue") if call.body()["body"] is not None else None
    if "labels" in call.body():
        issue.labels = _labels(call)
    _set_state(call, issue)
    issue.updated_at = now_iso()
    return Reply(200, call.render.issue(issue))


def _set_state(call: Call, issue: Issue) -> None:
    state = call.field("state", str, issue.state, "Issue")
    reason = call.body().get("state_reason", issue.state_reason)
    if state not in ISSUE_STATES or reason not in STATE_REASONS:
        raise invalid("Issue", "state" if state not in ISSUE_STATES else "state_reason")
    if state != issue.state:
        issue.closed_at = now_iso() if state == "closed" else None
        reason = reason if state == "closed" else "reopened"
    issue.state = state
    issue.state_reason = (reason or "completed") if state == "closed" else reason


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/issues", list_issues),
    route("POST", "/repos/{owner}/{repo}/issues", create_issue),
    route("GET", "/repos/{owner}/{repo}/issues/comments/{comment_id}", get_comment),
    route("PATCH", "/repos/{owner}/{repo}/issues/comments/{comment_id}", update_comment),
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}", get_issue),
    route("PATCH", "/repos/{owner}/{repo}/issues/{issue_number}", update_issue),
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/comments", list_comments),
    route("POST", "/repos/{owner}/{repo}/issues/{issue_number}/comments", create_comment),
    route("GET", "/repos/{owner}/{repo}/issues/{issue_number}/timeline", timeline),
]
