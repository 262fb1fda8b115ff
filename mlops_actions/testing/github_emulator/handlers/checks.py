"""Check runs (annotations at most 50 per request, like GitHub) and commit statuses."""

from __future__ import annotations

from typing import Any

from ..api import ApiError, Call, Reply, invalid, not_found, page_of
from ..server import route
from ..state import CheckRun, CommitStatus, now_iso

RUN_STATUSES = ("queued", "in_progress", "completed", "waiting", "requested", "pending")
CONCLUSIONS = ("action_required", "cancelled", "failure", "neutral", "success", "skipped", "stale", "timed_out")
LEVELS = ("notice", "warning", "failure")
STATUS_STATES = ("error", "failure", "pending", "success")
MAX_ANNOTATIONS = 50
MAX_SUMMARY = 65535


def create_check_run(call: Call) -> Reply:
    name = call.field("name", str, resource="CheckRun")
    head_sha = call.field("head_sha", str, resource="CheckRun")
    if call.state.git[call.full_name].object_type(head_sha) is None and not _pull_sha(call, head_sha):
        raise invalid("CheckRun", "head_sha", "invalid", "No commit found for SHA: " + head_sha)
    run = CheckRun(call.full_name, call.state.next_id(), name, head_sha, started_at=now_iso())
    _apply(call, run)
    call.state.check_runs[run.id] = run
    return Reply(201, call.render.check_run(run))


def runs_for_ref(call: Call) -> Reply:
    """A commit's check runs (``check_name``, ``status``, ``filter`` latest|all), newest first, paginated."""
    git = call.state.git[call.full_name]
    ref = call.params["ref"]
    sha = git.resolve(f"refs/heads/{ref}") or git.resolve(f"refs/tags/{ref}") or git.resolve(ref) or ref
    runs = sorted((r for r in call.state.check_runs.values() if r.repo == call.full_name and r.head_sha == sha
                   and call.query.get("check_name", r.name) == r.name
                   and call.query.get("status", r.status) == r.status), key=lambda r: -r.id)  # fmt: skip
    if call.query.get("filter", "latest") == "latest":
        runs = [r for i, r in enumerate(runs) if r.name not in {s.name for s in runs[:i]}]
    chunk, headers = page_of(call, runs)
    body = {"total_count": len(runs), "check_runs": [call.render.check_run(r) for r in chunk]}
    return Reply(200, body, headers)


def _pull_sha(call: Call, sha: str) -> bool:
    return any(sha in (p.head_sha, p.base_sha) for p in call.state.pulls.values() if p.repo == call.full_name)


def find_check_run(call: Call) -> CheckRun:
    run = call.state.check_runs.get(call.int_param("check_run_id"))
    if run is None or run.repo != call.full_name:
        raise not_found()
    return run


def get_check_run(call: Call) -> Reply:
    return Reply(200, call.render.check_run(find_check_run(call)))


def update_check_run(call: Call) -> Reply:
    run = find_check_run(call)
    if "name" in call.body():
        run.name = call.field("name", str, resource="CheckRun")
    _apply(call, run)
    return Reply(200, call.render.check_run(run))


def _apply(call: Call, run: CheckRun) -> None:
    status = call.field("status", str, run.status, "CheckRun")
    conclusion = call.field("conclusion", (str, type(None)), run.conclusion, "CheckRun")
    if status not in RUN_STATUSES or (conclusion is not None and conclusion not in CONCLUSIONS):
        raise invalid("CheckRun", "status" if status not in RUN_STATUSES else "conclusion")
    if conclusion is not None:
        status = "completed"
    if status == "completed" and conclusion is None:
        raise ApiError(422, "Invalid request.\n\n\"conclusion\" wasn't supplied.")
    run.status, run.conclusion = status, conclusion
    run.completed_at = call.field("completed_at", str, now_iso()) if status == "completed" else None
    for key in ("details_url", "external_id"):
        setattr(run, key, call.field(key, str, getattr(run, key), "CheckRun"))
    _output(call, run)


def _output(call: Call, run: CheckRun) -> None:
    output = call.field("output", dict, None, "CheckRun")
    if output is None:
        return
    if not isinstance(output.get("title"), str) or not isinstance(output.get("summary"), str):
        raise invalid("CheckRun", "output", "missing_field", "output needs title and summary")
    if len(output["summary"]) > MAX_SUMMARY or len(output.get("text") or "") > MAX_SUMMARY:
        raise invalid("CheckRun", "output", "custom", "Output summary and text are limited to 65535 characters")
    run.output = {key: output.get(key) for key in ("title", "summary", "text")}
    run.annotations += _annotations(output.get("annotations") or [])


def _annotations(items: list[Any]) -> list[dict[str, Any]]:
    if len(items) > MAX_ANNOTATIONS:
        raise invalid("CheckRun", "output.annotations", "custom",
                      f"Only {MAX_ANNOTATIONS} annotations are allowed per request")  # fmt: skip
    for item in items:
        needed = all(isinstance(item.get(k), str) for k in ("path", "message", "annotation_level"))
        lines = all(isinstance(item.get(k), int) for k in ("start_line", "end_line"))
        if not (needed and lines) or item["annotation_level"] not in LEVELS:
            raise invalid("CheckRun", "output.annotations", "invalid")
    return [dict(item) for item in items]


def create_status(call: Call) -> Reply:
    sha = call.params["sha"]
    state = call.field("state", str, resource="Status")
    if state not in STATUS_STATES:
        raise invalid("Status", "state")
    status = CommitStatus(call.full_name, sha, call.state.next_id(), state, call.login,
                          call.field("context", str, "default", "Status"),
                          call.field("description", (str, type(None)), None, "Status"),
                          call.field("target_url", (str, type(None)), None, "Status"))  # fmt: skip
    call.state.statuses[status.id] = status
    return Reply(201, call.render.status(status))


def combined_status(call: Call) -> Reply:
    ref = call.params["ref"]
    git = call.state.git[call.full_name]
    sha = git.resolve(f"refs/heads/{ref}") or git.resolve(ref) or ref
    latest: dict[str, CommitStatus] = {}
    for status in sorted(call.state.statuses.values(), key=lambda s: s.id):
        if status.repo == call.full_name and status.sha == sha:
            latest[status.context] = status
    statuses = sorted(latest.values(), key=lambda s: -s.id)
    repo = call.state.repos[call.full_name]
    return Reply(200, {
        "state": _combined(statuses), "statuses": [call.render.status(s, "simple-commit-status") for s in statuses],
        "sha": sha, "total_count": len(statuses), "repository": call.render.repository(repo, "minimal-repository"),
        "commit_url": f"{call.render.api(call.full_name)}/commits/{sha}",
        "url": f"{call.render.api(call.full_name)}/commits/{sha}/status",
    })  # fmt: skip


def _combined(statuses: list[CommitStatus]) -> str:
    states = {s.state for s in statuses}
    if states & {"error", "failure"}:
        return "failure"
    return "pending" if not states or "pending" in states else "success"


ROUTES = [
    route("POST", "/repos/{owner}/{repo}/check-runs", create_check_run),
    route("GET", "/repos/{owner}/{repo}/check-runs/{check_run_id}", get_check_run),
    route("PATCH", "/repos/{owner}/{repo}/check-runs/{check_run_id}", update_check_run),
    route("POST", "/repos/{owner}/{repo}/statuses/{sha}", create_status),
    route("GET", "/repos/{owner}/{repo}/commits/{ref}/status", combined_status),
    route("GET", "/repos/{owner}/{repo}/commits/{ref}/check-runs", runs_for_ref),
]
