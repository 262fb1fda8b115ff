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
from mlops_actions.convention.discovery import spec_relpath
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.schemas import MODEL_SPEC
from mlops_actions.convention.validation import load_policy, load_valid
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, InputError, Place
from mlops_actions.evaluation import results as res
from mlops_actions.evaluation.assess import Evidence, ModelReport, assess
from mlops_actions.evaluation.baseline import BASE_REF, load_baseline
from mlops_actions.evaluation.diff import REMOVED
from mlops_actions.evaluation.gates import FAIL
from mlops_actions.registry.promotion import Deployed
from mlops_actions.registry.records import local_versions
from mlops_actions.reporting.comment import (
    CHECK_TEXT_LIMIT,
    COMMENT_LIMIT,
    SUMMARY_LIMIT,
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
from mlops_actions.training.artifact import artifact_sha256
from mlops_actions.writing import check_regular, probe, writing

REPORT_FILE = "report.md"
FULL_REPORT_FILE = "report-full.md"  # every model in full, when the job summary or the check run is shortened
FULL_REPORT_ARTIFACT = "mlops-report"  # the name mlops-pr.yml uploads it under
FULL_REPORT_WHERE = f"`{FULL_REPORT_FILE}` (this run's artifact `{FULL_REPORT_ARTIFACT}`)"
MODEL_CARD_FILE = "model-card.md"


@dataclass(frozen=True)
class ReportOptions:
    """What the user said: the command line's flags (typed) and the branches the Actions run is for."""

    results: Path
    base: str | None = None
    out: Path | None = None
    summary: bool = False
    head_ref: str | None = None  # GITHUB_HEAD_REF, for the report's header
    base_branch: str | None = None  # GITHUB_BASE_REF: plan's base is the merge-base with origin/<it>
    base_results: Path | None = None
    train_base: bool = False
    fork: bool = False  # the results are a fork's artifact: read its JSON files only (evaluation.fork_results)


@dataclass(frozen=True)
class ReportFindings:
    """What the run found before the report: what is deployed (read from GitHub by the composition root, or
    by ``register``), the plan's reasons and base commit, the models trained at the base, and notes."""

    deployed: Mapping[str, str] | None = None  # model -> version deployed to the baseline environment
    deployments: Mapping[str, Sequence[Deployed]] | None = None  # env -> successful deployments, newest first
    state_commit: str | None = None  # offline: read environments/*.yaml at this commit (the PR's base)
    reasons: Mapping[str, Sequence[str]] | None = None  # the plan's, per model
    base_results: Path | None = None  # the models trained at the base commit (--train-base)
    base_problems: Mapping[str, str] | None = None  # why a model could not be trained at the base
    notes: tuple[str, ...] = ()
    policy: Policy | None = None  # register: the governance in force, not the checkout's mlops.yaml
    full_report: bool = True  # write report-full.md when shortened (the fork's comment job uploads none)


NOTHING_FOUND = ReportFindings()


@dataclass(frozen=True)
class RenderedReport:
    """What ``report`` rendered, for the CLI to publish: the comment, the job summary, the check run's text."""

    comment: str
    summary: str
    check_text: str
    verdict: str
    models: Sequence[ModelReport]


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
    if found.deployed is None and plan.base_commit:  # offline, "what runs now" is the base's environment file
        found = replace(found, state_commit=plan.base_commit)
    if options.train_base and options.base_results is None and plan.base_commit:
        with tempfile.TemporaryDirectory(prefix="mlops-base-") as scratch:
            trained = with_base_training(root, options, found, plan.base_commit, Path(scratch))
            models = build_reports(root, options, trained)
    else:
        models = build_reports(root, options, found)
    return publish(root, models, plan, options, found, runtime, on_rendered)


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


def with_base_training(root: Path, options: ReportOptions, found: ReportFindings, commit: str,
                       scratch: Path) -> ReportFindings:
    """Train at the base commit the models that have neither a deployed nor a registered version."""
    from mlops_actions.convention.loading import load_model
    from mlops_actions.evaluation.base_training import train_at_base
    from mlops_actions.training.train import train_model

    environment = load_policy(root).baseline
    names = [f.name for f in res.result_folders(options.results, missing_ok=True)
             if not load_baseline(root, f.name, environment, read_versions=local_versions, deployed=found.deployed,
                                  state_commit=found.state_commit).exists]
    if not names:
        return found
    done = train_at_base(root, commit, names, scratch, load_model=load_model, train_model=train_model)
    return replace(found, base_results=done.results, base_problems=done.problems)


def publish(root: Path, models: Sequence[ModelReport], plan: PlanSummary, options: ReportOptions,
            found: ReportFindings, runtime: ActionsRuntime, on_rendered: Rendered | None = None) -> int:
    """Render, write the report and the model cards, set the Actions outputs; the exit code of the verdict."""
    from mlops_actions.commands.report_promotions import promotion_preview

    trained = {m.name for m in models}
    ctx = ReportContext(base_ref=plan.base_label, head_ref=options.head_ref or current_branch(root),
                        notes=found.notes, full_report=FULL_REPORT_WHERE if found.full_report else None,
                        unchanged=tuple(n for n in plan.unchanged if n not in trained),
                        problems=missing_results(plan, trained, _rel(options.results, root)),
                        promotions=promotion_preview(root, load_policy(root), plan.base_commit, plan.base_label,
                                                     found.deployments, candidates(models)))
    room = min(EVIDENCE_ROOM_BASE + EVIDENCE_ROOM_PER_MODEL * len(models), EVIDENCE_ROOM_MAX)
    comment, summary = render_comment(models, ctx, COMMENT_LIMIT - room), render_summary(models, ctx)
    check_text = render_check_text(models, ctx)
    for m in models:
        write_atomic(options.results / m.name / MODEL_CARD_FILE, model_card(m))
    if models and found.full_report:
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


def build_reports(root: Path, options: ReportOptions, found: ReportFindings = NOTHING_FOUND) -> list[ModelReport]:
    """One report per results folder, in folder order; models are assessed in a small thread pool (numpy,
    pyarrow and pandas release the GIL in their heavy loops), and the order of the results never depends
    on the scheduling. BLAS runs one thread per call: the pool is the parallelism, and BLAS threads on top
    of it only spin (the bootstrap's matrix product took 7x the CPU with two of them on two cores)."""
    from concurrent.futures import ThreadPoolExecutor

    import numpy  # noqa: F401  (loaded first, so that the limit below reaches its BLAS)
    from threadpoolctl import threadpool_limits

    policy = found.policy or load_policy(root)
    reasons = found.reasons or {}
    folders = res.result_folders(options.results, missing_ok=True)
    with threadpool_limits(limits=1, user_api="blas"):
        if len(folders) < 2:
            return [_one(root, folder, policy, options, found, reasons.get(folder.name, ())) for folder in folders]
        with ThreadPoolExecutor(max_workers=min(len(folders), os.cpu_count() or 1, 4)) as pool:
            return list(pool.map(lambda f: _one(root, f, policy, options, found, reasons.get(f.name, ())), folders))


def _one(root: Path, folder: Path, policy: Policy, options: ReportOptions, found: ReportFindings,
         reasons: Sequence[str]) -> ModelReport:
    candidate = res.load_candidate(folder, root, artifact_sha256=artifact_sha256)
    spec = load_spec(root, candidate.name)
    frame = res.load_predictions(folder, root)  # read once: fairness, intervals and pictures all need it
    view, balance, notes = res.fairness_for(folder, spec, candidate.task, root, policy.min_group_size, frame)
    problem = (found.base_problems or {}).get(candidate.name)
    base_results = options.base_results or found.base_results
    baseline = load_baseline(root, candidate.name, policy.baseline, read_versions=local_versions,
                             deployed=found.deployed, base_results=base_results, base_ref=options.base,
                             state_commit=found.state_commit)
    base_groups, base_heldout = None, None
    if baseline.kind == BASE_REF and base_results is not None:
        base_folder = base_results / candidate.name
        base_frame = res.load_predictions(base_folder)
        base_groups, base_balance = _base_extras(base_folder, spec, policy.min_group_size, base_frame)
        base_heldout = res.heldout_for(base_folder, spec, candidate.task, candidate.metrics, frame=base_frame)
        baseline = replace(baseline, class_balance=base_balance)
    evidence = Evidence(res.heldout_for(folder, spec, candidate.task, candidate.metrics, root, frame), base_heldout,
                        next((n.split(": ", 1)[1] for n in notes if n.startswith(res.NOT_MEASURED)), None),
                        res.threshold_of(spec))
    return assess(replace(candidate, class_balance=balance), spec=spec, policy=policy, baseline=baseline,
                  fairness=view, reasons=reasons,
                  notes=(*notes, *([problem] if problem else []), *other_spec_note(candidate.record, spec,
                                                                                  spec_relpath(candidate.name))),
                  baseline_groups=base_groups, evidence=evidence)


def model_card_for(root: Path, folder: Path, *, deployed: Mapping[str, str] | None = None) -> str:
    """The model card of one results folder (``mlops-out/<model>/``), e.g. for a release."""
    return model_card(_one(root, folder, load_policy(root), ReportOptions(results=folder.parent),
                           ReportFindings(deployed=deployed), ()))


def _base_extras(folder: Path, spec: ModelSpec | None, min_group_size: int | None, frame: Any,
                 ) -> tuple[Mapping[str, float | None] | None, Mapping[str, float] | None]:
    """Per-group chart values and class balance of the model trained at the base ref."""
    from mlops_actions.evaluation.fairness_view import chart_values

    task = str((res.read_json(folder / res.METRICS_FILE) or {}).get("task", "classification"))
    view, balance, _ = res.fairness_for(folder, spec, task, min_group_size=min_group_size, frame=frame,
                                        intervals=False)  # drawn as a line: no bootstrap needed
    return (chart_values(view) if view is not None else None), balance


def other_spec_note(record: Mapping[str, Any], spec: ModelSpec | None, relpath: str) -> tuple[str, ...]:
    """A note when the results were trained from another spec than this checkout's: gates and reasons below
    follow the checkout (a fork's pull request rendered on the default branch, or results left from another
    commit), so the reader must know."""
    from mlops_actions.training.fingerprint import spec_sha256

    trained = record.get("spec_sha256")
    if not trained or (spec is not None and spec_sha256(spec.raw) == trained):
        return ()
    here = f"{relpath} in this checkout" if spec is not None else f"this checkout, which has no {relpath}"
    return (f"these results were trained from another spec than {here}: the gates and reasons shown follow "
            "this checkout (a fork's pull request, or results left from another commit?)",)


def load_spec(root: Path, name: str) -> ModelSpec | None:
    """The model's spec when it exists and is valid (a report of results without a spec still renders)."""
    relpath = spec_relpath(name)
    if not (root / relpath).is_file():
        return None
    data = load_valid(root, relpath, MODEL_SPEC)
    if data is None:
        raise InputError("the model spec is not valid", place=Place(relpath),
                         hint=f"run `mlops-actions validate {relpath}` to see the problems")
    return ModelSpec.from_dict(data, relpath)


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
    from mlops_actions.commands.plan import compute_plan, resolve_base
    from mlops_actions.gitio import Git
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
