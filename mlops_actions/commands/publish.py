"""Publishing the PR report on GitHub: the sticky comment (with the artifact evidence) and a check run.

``report`` renders locally (no token needed); with ``--publish`` the CLI hands the rendered comment here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.errors import InputError
from mlops_actions.evaluation import results as res
from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.registry import evidence as ev
from mlops_actions.registry.promotion import Deployed, current_state, read_deployments
from mlops_actions.reporting.comment import RenderedReport
from mlops_actions.training import reproducibility as repro

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

REPORT_MARKER = "mlops-actions:report"
CHECK_NAME = "mlops-actions report"
COMMENT_LIMIT = 65_536
CHECK_SUMMARY_LIMIT = 65_535
CONCLUSIONS: Mapping[str, str] = {"pass": "success", "warn": "neutral", "fail": "failure"}


def deployment_history(root: Path, gh: GitHubPort) -> dict[str, tuple[Deployed, ...]]:
    """environment → its deployments of our models that ran, newest first, for every policy environment:
    what runs now, for the report's baseline and promotion preview (and its environment-order check)."""
    from mlops_actions.convention.validation import load_policy

    found = read_deployments(gh, [env.name for env in load_policy(root).environments])
    return {env: tuple(deployed) for env, deployed in found.items()}


def deployed_versions(root: Path, history: Mapping[str, Sequence[Deployed]]) -> dict[str, str]:
    """model → version now deployed (newest GitHub Deployment that ran) to the policy's baseline environment:
    the report's baseline, as the product promises, rather than the desired state in the environment file."""
    from mlops_actions.convention.validation import load_policy

    return current_state(history.get(load_policy(root).baseline, ()))


def shown_models(results: Path, models: Sequence[ModelReport] = ()) -> dict[str, ev.Shown]:
    """Artifact sha256, fingerprint and the digest of the numbers shown, of every model the report rendered
    (``models``); a model without a rendered report gets its artifact and fingerprint from its record."""
    shown = {m.name: ev.shown(m) for m in models}
    for folder in res.result_folders(results, missing_ok=True):  # a PR editing only environments/ has none
        record = res.load_record(folder, folder.name)
        if folder.name not in shown:
            shown[folder.name] = ev.Shown(str(record["artifact"]["sha256"]), str(record["fingerprint"]),
                                          parts=repro.part_digests(record))
        if repro.rule_of(record)[0] == repro.METRICS:  # judged within a tolerance: the numbers themselves
            shown[folder.name] = replace(shown[folder.name], numbers=repro.numbers_of(record))
    return shown


def with_evidence(comment: str, head_sha: str, shown: Mapping[str, ev.Shown]) -> str:
    """The comment with the evidence line at its end; refused (never cut) when it would not fit."""
    body = comment.rstrip("\n") + "\n\n" + ev.render(head_sha, shown) + "\n"
    if len(body) > COMMENT_LIMIT:
        raise InputError(f"the report with its evidence is {len(body):,} characters; GitHub allows "
                         f"{COMMENT_LIMIT:,}", hint="report fewer models per pull request")
    return body


EVIDENCE_PART_NOTE = ("_What reviewers saw, continued (the hidden evidence of the report above, for `register`; "
                      "there is nothing to read here)._\n\n")


def evidence_comments(comment: str, head_sha: str, shown: Mapping[str, ev.Shown]) -> tuple[str, list[str]]:
    """The comment with its evidence line and, when the evidence of every model does not fit in it (more
    than a few dozen models), the lines of the continuation comments that hold it."""
    body = comment.rstrip("\n") + "\n\n"
    room = COMMENT_LIMIT - len(body) - 1
    limit = COMMENT_LIMIT - len(EVIDENCE_PART_NOTE) - 200  # the marker line the GitHub layer adds
    line, parts = ev.split(head_sha, shown, room, limit)
    if len(body) + len(line) + 1 > COMMENT_LIMIT:
        raise InputError(f"the report with its evidence is {len(body) + len(line) + 1:,} characters; GitHub "
                         f"allows {COMMENT_LIMIT:,}", hint="report fewer models per pull request")
    return body + line + "\n", parts


def publish(gh: GitHubPort, rendered: RenderedReport, *, results: Path, sha: str | None) -> int | None:
    """Upsert the sticky comment on the event's PR and record a check run (its summary: the comment; its
    text: each model in detail, as much as fits); the PR number, or None."""
    from mlops_actions.github.values import CheckRun

    comment, verdict = rendered.comment, rendered.verdict
    pr = gh.pr_for_event() or (gh.pr_for_commit(sha) if sha else None)
    head = pr.head_sha if pr is not None else sha
    if head is None:
        raise InputError("cannot tell which commit the report is for", hint="run it on a pull_request event")
    if pr is not None:
        body, parts = evidence_comments(comment, head, shown_models(results, rendered.models))
        result = gh.upsert_comment(pr.number, body, REPORT_MARKER)
        print(f"report comment {result.action} on pull request #{pr.number}: {result.comment.url}")
        for index, part in enumerate(parts, 1):  # register reads exactly as many as the report names
            gh.upsert_comment(pr.number, EVIDENCE_PART_NOTE + part + "\n", ev.part_marker(index))
    gh.check_run(CheckRun(CHECK_NAME, head, conclusion=CONCLUSIONS.get(verdict, "neutral"),
                          title=f"verdict: {verdict}", summary=check_summary(comment),
                          text=rendered.check_text or None))
    return pr.number if pr is not None else None


def check_summary(comment: str) -> str:
    """The comment without its hidden marker line, as the check run's summary (at most 65,535 characters)."""
    body = comment.split("\n", 1)[1] if comment.startswith("<!--") and "\n" in comment else comment
    return body if len(body) <= CHECK_SUMMARY_LIMIT else body[:CHECK_SUMMARY_LIMIT - 1] + "…"
