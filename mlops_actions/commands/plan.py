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

from mlops_actions.actions_runtime import ActionsRuntime
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
from mlops_actions.reporting.plan import RENDERERS, matrix
from mlops_actions.reporting.render import Format, renderer
from mlops_actions.training.batches import balance, data_costs
from mlops_actions.training.changes import Inputs, ModelPlan, PlanResult, needs_record_spec, plan_models
from mlops_actions.training.fingerprint import Snapshot, snapshots_at, snapshots_worktree

DEFAULT_BRANCH = "main"
DEFAULT_MAX_JOBS = 64
MAX_MATRIX_JOBS = 256


@dataclass(frozen=True)
class Base:
    """The commit a plan compares the work tree with, and how it was chosen."""

    label: str
    commit: str


def plan(root: Path, *, base: str | None, fmt: Format, runtime: ActionsRuntime, models: Sequence[str] | None = None,
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

def emit(plans: Sequence[ModelPlan], chosen: Base | None, *, fmt: Format, runtime: ActionsRuntime,
         batches: Sequence[Sequence[str]] | None = None) -> None:
    result = PlanResult(tuple(plans), chosen.label if chosen else None,
                        tuple(tuple(b) for b in batches) if batches else None)
    print(renderer(RENDERERS, fmt)(result))
    doc = matrix(plans, batches)
    runtime.set_output("matrix", json.dumps(doc, separators=(",", ":"), ensure_ascii=False))
    runtime.set_output("count", str(sum(p.train for p in plans)))
    runtime.set_output("jobs", str(len(doc["include"])))
    runtime.append_summary(RENDERERS["markdown"](result))
