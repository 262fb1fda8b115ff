"""``mlops-actions report``: the PR report (sticky comment + job summary) and a model card per model.

Reads the results folder ``train`` wrote, chooses each model's baseline, diffs, checks gates, renders. Runs
locally with no token and no network: a reviewer can preview the exact comment before pushing. Exit 1 when
the verdict is ``fail``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.model import Policy
from mlops_actions.convention.validation import load_policy
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, InputError
from mlops_actions.evaluation import results as res
from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.evaluation.baseline import BaselineSources, load_baseline
from mlops_actions.evaluation.diff import REMOVED
from mlops_actions.evaluation.gates import FAIL
from mlops_actions.registry.assessment import (
    NOTHING_FOUND,
    ReportFindings,
    ReportOptions,
    assess_folder,
    build_reports,
)
from mlops_actions.registry.assessment import load_spec as load_spec  # re-exported: the spec a report reads
from mlops_actions.registry.records import by_model, local_versions, reader
from mlops_actions.reporting.comment import (
    CHECK_TEXT_LIMIT,
    COMMENT_LIMIT,
    SUMMARY_LIMIT,
    RenderedReport,
    ReportContext,
    github_length,
    overall_verdict,
    render_check_text,
    render_comment,
    render_full,
    render_summary,
    utf8_length,
)
from mlops_actions.reporting.modelcard import model_card
from mlops_actions.writing import check_regular, probe, writing

REPORT_FILE = "report.md"
FULL_REPORT_FILE = "report-full.md"  # every model in full, when the job summary or the check run is shortened
FULL_REPORT_ARTIFACT = "mlops-report"  # the name mlops-pr.yml uploads it under
FULL_REPORT_WHERE = f"`{FULL_REPORT_FILE}` (this run's artifact `{FULL_REPORT_ARTIFACT}`)"
MODEL_CARD_FILE = "model-card.md"


Rendered = Callable[[RenderedReport], None]
EVIDENCE_ROOM_BASE, EVIDENCE_ROOM_PER_MODEL = 200, 900  # characters kept free for the hidden evidence line
EVIDENCE_ROOM_MAX = COMMENT_LIMIT // 2  # past ~70 models the evidence cannot fit anyway: keep the comment whole


def report(root: Path, options: ReportOptions, *, runtime: ActionsRuntime, found: ReportFindings = NOTHING_FOUND,
           on_rendered: Rendered | None = None) -> int:
    """Render the report; ``on_rendered(comment, summary, verdict)`` lets the CLI publish it on GitHub."""
    check_paths(options)
    if options.fork:
        return _report_fork(root, options, found, runtime=runtime, on_rendered=on_rendered)
    plan = plan_of(root, options)
    if found.reasons is None:
        found = replace(found, reasons=plan.reasons)
    if found.policy is None and plan.base_commit:  # a PR is judged by the rules before it, not its own
        found = with_base_policy(root, found, plan.base_commit, plan.base_label or plan.base_commit[:10])
    if found.deployed is None and plan.base_commit:  # offline, "what runs now" is the base's environment file
        found = replace(found, state_commit=plan.base_commit)
    if options.train_base and options.base_results is None and plan.base_commit:
        with tempfile.TemporaryDirectory(prefix="mlops-base-") as scratch:
            trained = with_base_training(root, options, found, plan.base_commit, Path(scratch))
            models = build_reports(root, options, trained)
    else:
        models = build_reports(root, options, found)
    return publish(models, context_of(root, models, plan, options, found), options, runtime, on_rendered)


def _report_fork(root: Path, options: ReportOptions, found: ReportFindings, *, runtime: ActionsRuntime,
                 on_rendered: Rendered | None) -> int:
    """The report of a fork's results, read from a checked copy of their JSON files only."""
    from mlops_actions.evaluation.fork_results import NOTE, checked_copy

    out = options.out or (options.results / REPORT_FILE if runtime.active else None)
    with tempfile.TemporaryDirectory(prefix="mlops-fork-") as scratch, \
            checked_copy(options.results, Path(scratch)) as checked:
        if checked.unread:
            more = f" and {len(checked.unread) - 20} more" if len(checked.unread) > 20 else ""
            print(f"not read (a fork's results are read as JSON only): {', '.join(checked.unread[:20])}{more}",
                  file=sys.stderr)
        safe = replace(options, results=checked.folder, out=out, fork=False)
        return report(root, safe, runtime=runtime, found=replace(found, notes=(*found.notes, NOTE), full_report=False),
                      on_rendered=on_rendered)


def check_paths(options: ReportOptions) -> None:
    """Refuse, before any work, an --out that cannot be a file and a --base-results that is no folder."""
    if options.out is not None:
        blocker = next((p for p in (options.out, *options.out.parents) if p.exists()), None)
        if options.out.is_dir() or (blocker is not None and blocker != options.out and not blocker.is_dir()):
            raise InputError(f"--out {options.out}: {blocker} is {'a folder' if options.out.is_dir() else 'a file'}",
                             hint="pass the path of the report file to write, e.g. --out report.md")
        check_regular(options.out)
        probe(options.out, "the report")
    if options.base_results is not None and not options.base_results.is_dir():
        raise InputError(f"--base-results {options.base_results}: no such folder",
                         hint="pass the results folder `train` wrote at the base ref, or use --train-base")


def with_base_policy(root: Path, found: ReportFindings, commit: str, label: str) -> ReportFindings:
    """Gates, the baseline, group sizes and the promotion preview by the policy at the base commit: a PR that
    edits mlops.yaml is shown the verdict register will give it, and a note says whose rules these are."""
    from mlops_actions.convention.discovery import POLICY_FILE
    from mlops_actions.registry.policy_history import governance_at, parse_policy

    load_policy(root)  # the PR's own file must still be valid: refused with its place otherwise
    governance = governance_at(root, commit)
    policy, problem = parse_policy(governance)
    head = root / POLICY_FILE
    head_text = head.read_bytes().decode("utf-8", "replace") if head.is_file() else None
    notes: list[str] = []
    if policy is None:
        notes.append(f"{POLICY_FILE} at {label} is not valid ({problem}): this report applies the default rules")
    elif head_text != governance.policy_text:
        notes.append(f"this pull request changes {POLICY_FILE}: gates, group sizes, baselines and promotions are "
                     f"judged here by the rules at {label}, as register and deploy will judge them; the new rules "
                     "take effect after the merge only with the approvals `approvals.governance` requires "
                     "(docs/threat-model.md)")
    return replace(found, policy=policy or Policy(), notes=(*found.notes, *notes))


def with_base_training(root: Path, options: ReportOptions, found: ReportFindings, commit: str,
                       scratch: Path) -> ReportFindings:
    """Train at the base commit the models that have neither a deployed nor a registered version."""
    from mlops_actions.convention.loading import load_model
    from mlops_actions.evaluation.base_training import train_at_base
    from mlops_actions.training.train import train_model

    environment = (found.policy or load_policy(root)).baseline
    sources = BaselineSources(deployed=found.deployed, state_commit=found.state_commit)
    read_versions = reader(by_model(local_versions(root)) if found.versions is None else found.versions)
    names = [f.name for f in res.result_folders(options.results, missing_ok=True)
             if not load_baseline(root, f.name, environment, read_versions=read_versions, sources=sources).exists]
    if not names:
        return found
    done = train_at_base(root, commit, names, scratch, load_model=load_model, train_model=train_model)
    return replace(found, base_results=done.results, base_problems=done.problems)


def context_of(root: Path, models: Sequence[ModelReport], plan: PlanSummary, options: ReportOptions,
               found: ReportFindings) -> ReportContext:
    """What the report says about the run as a whole: the refs, notes, unchanged models, missing results and
    the promotion preview."""
    from mlops_actions.registry.preview_inputs import promotion_preview

    trained = {m.name for m in models}
    policy = found.policy or load_policy(root)
    return ReportContext(base_ref=plan.base_label, head_ref=options.head_ref or current_branch(root),
                         notes=found.notes, full_report=FULL_REPORT_WHERE if found.full_report else None,
                         unchanged=tuple(n for n in plan.unchanged if n not in trained),
                         problems=missing_results(plan, trained, _rel(options.results, root)),
                         promotions=promotion_preview(root, policy, plan.base_commit, plan.base_label,
                                                      found.deployments, candidates(models)))


def publish(models: Sequence[ModelReport], ctx: ReportContext, options: ReportOptions, runtime: ActionsRuntime,
            on_rendered: Rendered | None = None) -> int:
    """Render, write the report and the model cards, set the Actions outputs; the exit code of the verdict."""
    room = min(EVIDENCE_ROOM_BASE + EVIDENCE_ROOM_PER_MODEL * len(models), EVIDENCE_ROOM_MAX)
    comment, summary = render_comment(models, ctx, COMMENT_LIMIT - room), render_summary(models, ctx)
    check_text = render_check_text(models, ctx)
    for m in models:
        write_atomic(options.results / m.name / MODEL_CARD_FILE, model_card(m))
    if models and ctx.full_report:  # None when no full report is written (a fork's comment job)
        write_full_report(options.results / FULL_REPORT_FILE, models, ctx)
    text = summary if options.summary else comment
    path = options.out or (options.results / REPORT_FILE if runtime.active else None)
    if path is not None:
        write_atomic(path, text)
    if options.out is None:
        print(text, end="")
    verdict = overall_verdict(models, ctx.problems, ctx.promotions)
    runtime.append_summary(summary)
    if path is not None:
        runtime.set_output("report-path", str(path))
    runtime.set_output("verdict", verdict)
    if on_rendered is not None:
        on_rendered(RenderedReport(comment, summary, check_text, verdict, models))
    return EXIT_INVALID if verdict == FAIL else EXIT_OK


def write_full_report(path: Path, models: Sequence[ModelReport], ctx: ReportContext) -> None:
    """Every model in full, written when the job summary or the check run's text cannot hold it (the
    workflow uploads it as an artifact and the shortened parts say so); a stale copy is removed otherwise."""
    full = render_full(models, ctx)
    checked = render_check_text(models, ctx, limit=10**12)  # unshortened
    if utf8_length(full) > SUMMARY_LIMIT or github_length(checked) > CHECK_TEXT_LIMIT:
        write_atomic(path, full)
    elif path.is_file():
        path.unlink()


def candidates(models: Sequence[ModelReport]) -> dict[str, dict[str, Any]]:
    """What this PR's retrained models would be registered with: the promotion preview's pending versions."""
    return {m.name: {"metrics": {d.name: d.new for d in m.metrics if d.change != REMOVED},
                     "metric_directions": {d.name: d.direction for d in m.metrics if d.change != REMOVED},
                     "gates": {"verdict": m.verdict}} for m in models}


def missing_results(plan: PlanSummary, trained: set[str], results: str) -> tuple[str, ...]:
    """A model the plan says needs training but without results fails the report: never a silent pass."""
    return tuple(f"{name} needs training ({'; '.join(plan.reasons.get(name, ()))}) but {results}/{name}/ "
                 f"holds no results: did its training fail? Run `mlops-actions train {name}`."
                 for name in plan.to_train if name not in trained)


def model_card_for(root: Path, folder: Path, *, deployed: Mapping[str, str] | None = None) -> str:
    """The model card of one results folder (``mlops-out/<model>/``), e.g. for a release."""
    return model_card(assess_folder(root, folder, load_policy(root), ReportOptions(results=folder.parent),
                                    ReportFindings(deployed=deployed), ()))


@dataclass(frozen=True)
class PlanSummary:
    """What the plan says: the base it compared with, why each model needs training, which did not change."""

    base_label: str | None
    reasons: Mapping[str, Sequence[str]]
    unchanged: tuple[str, ...] = ()
    base_commit: str | None = None
    to_train: tuple[str, ...] = ()


def plan_of(root: Path, options: ReportOptions) -> PlanSummary:
    """The plan against ``--base`` (default: as ``plan`` chooses it), read from fingerprints, no data."""
    from mlops_actions.gitio import Git
    from mlops_actions.registry.planning import compute_plan, resolve_base
    from mlops_actions.training.changes import UNCHANGED

    chosen = resolve_base(Git(root), options.base, options.base_branch)
    plans = compute_plan(root, chosen)
    return PlanSummary(options.base if options.base else (chosen.label if chosen else None),
                       {p.model: p.reasons for p in plans},
                       tuple(p.model for p in plans if p.status == UNCHANGED), chosen.commit if chosen else None,
                       tuple(p.model for p in plans if p.train))


def current_branch(root: Path) -> str | None:
    """The checked-out branch, for the report header; None outside git or on a detached HEAD."""
    try:
        out = subprocess.run(["git", "rev-parse", "--abbrev-ref", "HEAD"], cwd=root, capture_output=True,
                             text=True, check=False, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    name = out.stdout.strip()
    return name if out.returncode == 0 and name and name != "HEAD" else None


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename: never half-written; a failed write
    (disk full, read-only folder) is an ``InputError`` and leaves ``path`` as it was."""
    with writing(path, path.name):
        _write_atomic(path, text)


def _write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _rel(folder: Path, root: Path) -> str:
    try:
        return folder.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return folder.as_posix()
