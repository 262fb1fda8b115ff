"""Check runs with annotations in batches of 50, and a commit status when checks are not permitted.

The first 50 annotations go with the create; GitHub appends each further batch sent by PATCH. A token
without ``checks: write`` (403) gets a commit status with the same name as its context instead.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from mlops_actions.errors import GitHubError
from mlops_actions.github.client import Session, raw
from mlops_actions.github.errors import Op
from mlops_actions.github.guards import none_on_forbidden
from mlops_actions.github.values import (
    ANNOTATION_BATCH,
    CHECK_SUMMARY_LIMIT,
    STATUS_DESCRIPTION_LIMIT,
    Annotation,
    CheckResult,
    CheckRun,
)

CONCLUSIONS = ("success", "failure", "neutral", "cancelled", "skipped", "timed_out", "action_required")
STATUS_OF = {"success": "success", "neutral": "success", "skipped": "success", "failure": "failure",
             "cancelled": "error", "timed_out": "error", "action_required": "failure"}


def batches(annotations: Sequence[Annotation]) -> list[list[dict[str, Any]]]:
    """Annotations as JSON, 50 per request; one empty batch when there are none."""
    items = [a.as_json() for a in annotations]
    return [items[i:i + ANNOTATION_BATCH] for i in range(0, len(items), ANNOTATION_BATCH)] or [[]]


def check_output(title: str, summary: str, text: str | None = None) -> None:
    for part, value in (("summary", summary), ("text", text or "")):
        if len(value) > CHECK_SUMMARY_LIMIT:
            raise GitHubError(f"the check run {part} is {len(value):,} characters; GitHub accepts at most "
                              f"{CHECK_SUMMARY_LIMIT:,}, so it was not sent", hint=f"shorten the {part}.")
    if not title:
        raise ValueError("a check run needs a title")


def check_run(session: Session, run: CheckRun, *, run_id: int | None = None) -> CheckResult:
    """Create (or, given ``run_id``, update) a completed check run; fall back to a status on 403."""
    if run.conclusion not in CONCLUSIONS:
        raise ValueError(f"conclusion {run.conclusion!r} is not one of {', '.join(CONCLUSIONS)}")
    check_output(run.title, run.summary, run.text)
    parts = batches(run.annotations)
    if run_id is None:
        made = _create(session, run, parts[0])
        if made is None:
            return commit_status(session, run.head_sha, run.name, run.conclusion, run.title, run.details_url)
        run_id, url = made
        rest = parts[1:]
    else:
        url, rest = None, parts
    for batch in rest:
        url = _patch(session, run_id, run, batch) or url
    return CheckResult("check_run", run_id, url, run.conclusion)


def _output(run: CheckRun, batch: list[dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {"title": run.title, "summary": run.summary}
    if run.text:
        out["text"] = run.text
    if batch:
        out["annotations"] = batch
    return out


def _create(session: Session, run: CheckRun, batch: list[dict[str, Any]]) -> tuple[int, str] | None:
    name, head_sha = run.name, run.head_sha
    external_id = f"mlops-actions-{uuid.uuid4().hex}"  # lets a lost create be found again
    body: dict[str, Any] = {"name": name, "head_sha": head_sha, "status": "completed", "conclusion": run.conclusion,
                            "external_id": external_id, "output": _output(run, batch)}
    if run.details_url:
        body["details_url"] = run.details_url
    op = Op(f"create the check run {name!r} on {head_sha[:12]}", f"commit {head_sha[:12]}", "checks: write",
            write=True)

    def recover() -> dict[str, Any] | None:
        runs = session.repo.get_commit(head_sha).get_check_runs(check_name=name)
        return next((d for d in (raw(r) for r in runs) if d.get("external_id") == external_id), None)

    data = session.retrier.call(op, none_on_forbidden(lambda: session.request("POST", "/check-runs", body=body)),
                                recover=recover)
    return None if data is None else (int(data["id"]), str(data.get("html_url") or ""))


def _patch(session: Session, run_id: int, run: CheckRun, batch: list[dict[str, Any]]) -> str | None:
    body = {"status": "completed", "conclusion": run.conclusion, "output": _output(run, batch)}
    op = Op(f"update check run {run_id}", f"check run {run_id}", "checks: write", write=True)
    data = session.retrier.call(op, lambda: session.request("PATCH", f"/check-runs/{run_id}", body=body))
    return str(data.get("html_url") or "") or None


def commit_status(session: Session, sha: str, context: str, conclusion: str, description: str,
                  target_url: str | None = None) -> CheckResult:
    """A commit status standing in for a check run (``statuses: write``)."""
    body: dict[str, Any] = {"state": STATUS_OF[conclusion], "context": context,
                            "description": _shorten(description, STATUS_DESCRIPTION_LIMIT)}
    if target_url:
        body["target_url"] = target_url
    op = Op(f"set the commit status {context!r} on {sha[:12]} (checks were not permitted either)",
            f"commit {sha[:12]}", "checks: write (or at least statuses: write)", write=True)
    data = session.retrier.call(op, lambda: session.request("POST", f"/statuses/{sha}", body=body))
    return CheckResult("status", int(data["id"]), str(data.get("url") or ""), conclusion)


def _shorten(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit - 1] + "…"
