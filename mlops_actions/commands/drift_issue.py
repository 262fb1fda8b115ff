"""``monitor --publish``: one GitHub issue per model and environment, opened on drift, closed when it resolves.

The issue is found by a hidden marker on the model and environment (``mlops-actions:drift:<model>:<env>``),
never by its title, which names the deployed version and so changes: a later run updates the same issue
(title and body) instead of opening another. It is open while the monitor asks for retraining (a column
drifted beyond the fail thresholds, a metric regressed, or a fairness gate failed on current data) and is
closed with a short comment on the first run that finds none of these. The body is the Markdown report
(escaped by the report itself), cut at a line with a note when it would pass GitHub's 65,536 characters
(``reporting.monitor.issue_body``).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, TextIO

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.monitoring.engine import MonitorResult
from mlops_actions.reporting.monitor import MARKER_PREFIX, issue_body, issue_title, resolved_comment

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

LABELS = ("drift",)


def drift_marker(model: str, environment: str | None) -> str:
    """The hidden marker of the drift issue of ``model`` in ``environment``."""
    return f"{MARKER_PREFIX}:{model}:{environment}" if environment else f"{MARKER_PREFIX}:{model}"


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
