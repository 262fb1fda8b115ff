"""``mlops-actions plan``: which models need training, and why, as text, JSON (a matrix) or annotations.

Reads no data file: fingerprints come from git's object ids (see ``training.fingerprint``), and the specs
of the models to train are validated without the header checks (``validate`` and ``train`` do those).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.actions_runtime import ActionsRuntime, workflow_command
from mlops_actions.convention import semantic
from mlops_actions.convention.discovery import POLICY_FILE, ConventionFile, model_names, spec_relpath
from mlops_actions.convention.model import Policy
from mlops_actions.convention.problems import ERROR, Problem
from mlops_actions.convention.schemas import MODEL_SPEC, POLICY
from mlops_actions.convention.validation import load_valid, validate_file
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, GitError, InputError, UsageError
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git
from mlops_actions.registry.records import VersionRef, latest_versions
from mlops_actions.reporting import problems as render_problems
from mlops_actions.reporting.markdown import md_cell, md_code
from mlops_actions.training.batches import balance, batch_entries, data_costs
from mlops_actions.training.changes import REMOVED, TRAIN, Inputs, ModelPlan, needs_record_spec, plan_models
from mlops_actions.training.fingerprint import Snapshot, snapshots_at, snapshots_worktree

FORMATS = ("text", "json", "github")
MAX_NOTICES = 10
MAX_LISTED = 20
DEFAULT_BRANCH = "main"
DEFAULT_MAX_JOBS = 64
MAX_MATRIX_JOBS = 256


@dataclass(frozen=True)
class Base:
    """The commit a plan compares the work tree with, and how it was chosen."""

    label: str
    commit: str


def plan(root: Path, *, base: str | None, fmt: str, runtime: ActionsRuntime, models: Sequence[str] | None = None,
         base_branch: str | None = None, versions: Mapping[str, str] | None = None,
         max_jobs: int = DEFAULT_MAX_JOBS) -> int:
    """Print the plan; exit 1 when a model to train has an invalid spec. More models to train than
    ``max_jobs``: the matrix has ``max_jobs`` batches of balanced expected cost (see ``training.batches``)."""
    check_max_jobs(max_jobs)
    chosen = resolve_base(Git(root), base, base_branch)
    plans = compute_plan(root, chosen, models=models, versions=versions)
    problems = spec_problems(root, [p.model for p in plans if p.train])
    if problems:
        print(render_problems.as_text(problems, len({p.file for p in problems})))
        print("plan refused: fix the specs above (run `mlops-actions validate` for every check)")
        return EXIT_INVALID
    emit(plans, chosen, fmt=fmt, runtime=runtime, batches=batch_models(root, plans, max_jobs))
    return EXIT_OK


def check_max_jobs(max_jobs: int) -> None:
    if not 1 <= max_jobs <= MAX_MATRIX_JOBS:
        raise UsageError(f"max-jobs is {max_jobs}; it must be 1 to {MAX_MATRIX_JOBS} (GitHub runs at most "
                         f"{MAX_MATRIX_JOBS} jobs from one matrix)", hint=f"the default is {DEFAULT_MAX_JOBS}")


def batch_models(root: Path, plans: Sequence[ModelPlan], max_jobs: int) -> list[list[str]] | None:
    """None when every model to train gets its own job; else the batches (balanced by data size)."""
    train = [p.model for p in plans if p.train]
    if len(train) <= max_jobs:
        return None
    snaps = snapshots_worktree(root, train)
    return balance(data_costs(root, {n: snaps[n].raw if n in snaps else None for n in train}), max_jobs)


def compute_plan(root: Path, chosen: Base | None, *, models: Sequence[str] | None = None,
                 versions: Mapping[str, str] | None = None) -> list[ModelPlan]:
    """Fingerprints of the work tree and the base, the latest records, and the decision for each model."""
    _check_names(models)
    cache = RepoCache(Git(root))
    head = snapshots_worktree(root, models, versions=versions, cache=cache)
    base = snapshots_at(root, chosen.commit, models, versions=versions, cache=cache) if chosen else None
    _check_known(models, head, base)
    skipped: list[VersionRef] = []
    records = latest_versions(root, cache, skipped)
    specs = record_specs(root, head, base, records, versions)
    cache.save()
    label = chosen.label.split(" ", 1)[0] if chosen else "base"
    ignored: dict[str, list[str]] = {}
    for ref in reversed(skipped):
        ignored.setdefault(ref.model, []).append(f"{ref.tag} ignored: {ref.problem}")
    return plan_models(Inputs(head, base, records, label, specs, ignored))


def resolve_base(git: Git, ref: str | None, base_branch: str | None = None) -> Base | None:
    """``ref`` when given; else the merge-base with ``origin/<base_branch or main>`` (when that is not HEAD
    itself), else ``HEAD~1``, else None (a repository without history: no base)."""
    if ref is not None:
        commit = git.commit_of(ref)
        if commit is None:
            raise GitError(f"--base {ref!r} names no commit, branch or tag in this repository",
                           hint="fetch it first (actions/checkout with fetch-depth: 0), or pass another --base")
        return Base(ref, commit)
    head = git.commit_of("HEAD")
    if head is None:
        return None
    upstream = f"origin/{base_branch or DEFAULT_BRANCH}"
    merge_base = git.try_run("merge-base", "HEAD", upstream) if git.commit_of(upstream) else None
    if merge_base and merge_base.decode().strip() != head:
        commit = merge_base.decode().strip()
        return Base(f"{upstream} (merge-base {commit[:10]})", commit)
    parent = git.commit_of("HEAD~1")
    return Base(f"HEAD~1 ({parent[:10]})", parent) if parent else None


def _check_names(models: Sequence[str] | None) -> None:
    """A model name is one folder name under models/: no empty list, no path ('a/b', '..')."""
    if models is not None and not models:
        raise UsageError("--models names no model", hint="pass comma-separated model names, or leave --models out "
                         "to plan every model")
    bad = [n for n in models or () if not n or n in (".", "..") or "/" in n or "\\" in n]
    if bad:
        raise InputError(f"unknown model(s): {', '.join(map(repr, bad))} (a model name is a folder name under "
                         "models/, not a path)", hint="check --models; names are the folder names under models/")


def _check_known(models: Sequence[str] | None, head: Mapping[str, Snapshot],
                 base: Mapping[str, Snapshot] | None) -> None:
    unknown = sorted(set(models or ()) - set(head) - set(base or {}))
    if unknown:
        raise InputError(f"unknown model(s): {', '.join(unknown)} (no models/<name>/model.yaml in the work tree "
                         "or the base)", hint="check --models; names are the folder names under models/")


def record_specs(root: Path, head: Mapping[str, Snapshot], base: Mapping[str, Snapshot] | None,
                 records: Mapping[str, VersionRef], versions: Mapping[str, str] | None) -> dict[str, Any]:
    """Specs at the records' commits, only for models whose spec differs from the record's in a way the
    base comparison does not already show (so old → new values can be listed)."""
    by_commit: dict[str, list[str]] = {}
    for name, snap in head.items():
        record = records.get(name)
        if needs_record_spec(snap, (base or {}).get(name), record):
            assert record is not None and record.record is not None
            by_commit.setdefault(str(record.record["commit"]), []).append(name)
    found: dict[str, Any] = {}
    for commit, names in sorted(by_commit.items()):
        try:
            snaps = snapshots_at(root, commit, names, versions=versions)
        except GitError:
            continue  # the record's commit is not fetched: reasons stay generic
        found.update({n: s.raw for n, s in snaps.items() if s.raw is not None})
    return found


def spec_problems(root: Path, names: Sequence[str]) -> list[Problem]:
    """Validation errors of the specs of ``names`` (schema + rules, no data file read)."""
    if not names:
        return []
    policy = load_valid(root, POLICY_FILE, POLICY) if (root / POLICY_FILE).is_file() else None
    ctx = semantic.Context(root=root, policy=Policy.from_dict(policy), policy_loaded=policy is not None,
                           models=frozenset(model_names(root)), read_headers=False)
    problems: list[Problem] = []
    for name in names:
        problems += validate_file(root, ConventionFile(spec_relpath(name), MODEL_SPEC), ctx)
    return sorted(p for p in problems if p.severity == ERROR)


# -- output --------------------------------------------------------------------------------------------------

def matrix(plans: Sequence[ModelPlan],
           batches: Sequence[Sequence[str]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The GitHub Actions ``strategy.matrix``: one ``include`` entry per model to train, or with ``batches``
    one per batch (``model`` labels the job, ``models`` names its models; workflows pass
    ``matrix.models || matrix.model``)."""
    if batches:
        return {"include": batch_entries(batches)}
    return {"include": [{"model": p.model, "reasons": list(p.reasons)} for p in plans if p.train]}


def emit(plans: Sequence[ModelPlan], chosen: Base | None, *, fmt: str, runtime: ActionsRuntime,
         batches: Sequence[Sequence[str]] | None = None) -> None:
    doc = matrix(plans, batches)
    if fmt == "json":
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    elif fmt == "github":
        print("\n".join([*as_notices(plans), as_text(plans, chosen), *_batch_line(batches)]))
    else:
        print("\n".join([as_text(plans, chosen), *_batch_line(batches)]))
    runtime.set_output("matrix", json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
    runtime.set_output("count", str(sum(p.train for p in plans)))
    runtime.set_output("jobs", str(len(doc["include"])))
    runtime.append_summary(as_markdown(plans, chosen))


def _batch_line(batches: Sequence[Sequence[str]] | None) -> list[str]:
    if not batches:
        return []
    sizes = sorted(len(b) for b in batches)
    return [f"batched into {len(batches)} jobs of {sizes[0]} to {sizes[-1]} model(s), balanced by data size"]


def base_line(chosen: Base | None) -> str:
    if chosen is None:
        return "base: none (no origin/main and no parent commit); models are compared with their versions only"
    return f"base: {chosen.label}"


def as_text(plans: Sequence[ModelPlan], chosen: Base | None) -> str:
    train = [p for p in plans if p.train]
    lines = [base_line(chosen), headline(plans)]
    for p in train:
        lines += [f"  {p.model}", *(f"    - {r}" for r in p.reasons)]
    lines += _others(plans)
    return "\n".join(lines)


def headline(plans: Sequence[ModelPlan]) -> str:
    current = [p for p in plans if p.status != REMOVED]
    count = sum(p.train for p in plans)
    if count == 0:
        return (f"plan is empty: nothing to train ({len(current)} model(s), each matching its base "
                "and latest version)")
    return f"{count} of {len(current)} model(s) need training:"


def _others(plans: Sequence[ModelPlan]) -> list[str]:
    unchanged = [p for p in plans if p.status not in (TRAIN, REMOVED)]
    removed = [p for p in plans if p.status == REMOVED]
    lines = [f"unchanged: {len(unchanged)} model(s)"] if unchanged else []
    lines += [f"  {p.model}: {'; '.join(p.reasons)}" for p in unchanged[:MAX_LISTED]]
    if len(unchanged) > MAX_LISTED:
        lines.append(f"  ... and {len(unchanged) - MAX_LISTED} more")
    lines += [f"removed: {p.model} ({'; '.join(p.reasons)})" for p in removed]
    return lines


def as_notices(plans: Sequence[ModelPlan]) -> list[str]:
    train = [p for p in plans if p.train]
    if not train:
        return [workflow_command("notice", headline(plans), title="mlops-actions plan")]
    notices = [workflow_command("notice", f"{p.model} needs training: {'; '.join(p.reasons)}",
                                title="mlops-actions plan") for p in train[:MAX_NOTICES]]
    if len(train) > MAX_NOTICES:
        notices.append(workflow_command("notice", f"{len(train) - MAX_NOTICES} more model(s) need training; "
                                        "see the job summary", title="mlops-actions plan"))
    return notices


def as_markdown(plans: Sequence[ModelPlan], chosen: Base | None) -> str:
    lines = ["### mlops-actions plan", "", md_cell(base_line(chosen)), "", md_cell(headline(plans)), ""]
    train = [p for p in plans if p.train]
    if train:
        lines += ["| model | why |", "|---|---|"]
        lines += [f"| {md_code(p.model)} | {'<br>'.join(md_cell(r) for r in p.reasons)} |" for p in train]
    return "\n".join(lines) + "\n"
