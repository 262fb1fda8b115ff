"""``monitor --publish``: one GitHub issue per model and environment, opened on drift, closed when it resolves.

The issue is found by a hidden marker on the model and environment (``mlops-actions:drift:<model>:<env>``),
never by its title, which names the deployed version and so changes: a later run updates the same issue
(title and body) instead of opening another. It is open while the monitor asks for retraining (a column
drifted beyond the fail thresholds, a metric regressed, or a fairness gate failed on current data) and is
closed with a short comment on the first run that finds none of these. The body is the Markdown report
(escaped by the report itself), cut at a line with a note when it would pass GitHub's 65,536 characters.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.monitoring.engine import MonitorResult
from mlops_actions.monitoring.report import issue_title
from mlops_actions.reporting.markdown import md_code, md_text

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

BODY_LIMIT = 65_536  # characters GitHub accepts in an issue body (the marker line included)
MARKER_PREFIX = "mlops-actions:drift"
LABELS = ("drift",)
CUT_NOTE = "_… the report was cut here to fit GitHub's 65,536-character limit; the run's job summary has all of it._"
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.:/_-]+$")


def drift_marker(model: str, environment: str | None) -> str:
    """The hidden marker of the drift issue of ``model`` in ``environment``."""
    return f"{MARKER_PREFIX}:{model}:{environment}" if environment else f"{MARKER_PREFIX}:{model}"


def issue_body(report: str, run_url: str | None = None, limit: int = BODY_LIMIT) -> str:
    """The report with a line linking the run, cut at a line (closing an open code block) to fit ``limit``."""
    footer = f"\n_Last checked by [this run]({run_url})._\n" if run_url and _SAFE_URL.match(run_url) else ""
    body = report.rstrip("\n") + "\n" + footer
    reserve = len(MARKER_PREFIX) + 200  # the marker line the GitHub layer puts first
    return body if len(body) <= limit - reserve else _cut(body, limit - reserve)


def _cut(text: str, budget: int) -> str:
    tail = "\n\n" + CUT_NOTE + "\n"
    kept: list[str] = []
    used, fenced = 0, False
    for line in text.split("\n"):
        closing = 4 if fenced else 0  # room to close an open ``` block
        if used + len(line) + 1 + closing + len(tail) + 4 > budget:
            break
        kept.append(line)
        used += len(line) + 1
        fenced ^= line.lstrip().startswith("```")
    if fenced:
        kept.append("```")
    return "\n".join(kept) + tail


def resolved_comment(result: MonitorResult, run_url: str | None = None) -> str:
    where = f" in {md_text(result.environment)}" if result.environment else ""
    subject = f"{result.model}@{result.version}" if result.version else result.model
    run = f" ([run]({run_url}))" if run_url and _SAFE_URL.match(run_url) else ""
    return (f"Drift resolved: the latest check of {md_code(subject)}{where} found no failing column, metric or "
            f"fairness gate{run}. Closing.")


def publish_drift(gh: GitHubPort, result: MonitorResult, report: str, *, runtime: ActionsRuntime,
                  err: TextIO | None = None) -> str:
    """Open, update or close the drift issue of ``result``; returns what was done (created, updated, ...)."""
    out = err or sys.stderr
    marker = drift_marker(result.model, result.environment)
    run_url = gh.context.run_url
    if result.retrain:
        done = gh.upsert_issue(marker, issue_title(result), issue_body(report, run_url), LABELS)
    else:
        done = gh.close_issue(marker, resolved_comment(result, run_url))
    if done.issue is not None:
        runtime.set_output("issue", str(done.issue.number))
        print(f"drift issue #{done.issue.number} {done.action}: {done.issue.url}", file=out)
    else:
        print(f"no open drift issue for {marker.removeprefix(MARKER_PREFIX + ':')}: nothing to close", file=out)
    return str(done.action)


def drift_publisher(gh: GitHubPort, runtime: ActionsRuntime) -> Callable[[MonitorResult, str], None]:
    """The ``publisher`` ``monitor`` calls after printing its report."""
    def publish(result: MonitorResult, report: str) -> None:
        publish_drift(gh, result, report, runtime=runtime)
    return publish
