"""``mlops-actions plan``: which models need training, and why, as text, JSON (a matrix) or annotations.

Reads no data file: fingerprints come from git's object ids (see ``training.fingerprint``), and the specs
of the models to train are validated without the header checks (``validate`` and ``train`` do those).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention import semantic
from mlops_actions.convention.discovery import POLICY_FILE, ConventionFile, model_names, spec_relpath
from mlops_actions.convention.model import Policy
from mlops_actions.convention.problems import ERROR, Problem
from mlops_actions.convention.schemas import MODEL_SPEC, POLICY
from mlops_actions.convention.validation import load_valid, validate_file
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, UsageError
from mlops_actions.gitio import Git
from mlops_actions.registry.planning import Base, compute_plan, resolve_base
from mlops_actions.reporting import problems as render_problems
from mlops_actions.reporting.plan import RENDERERS, matrix
from mlops_actions.reporting.render import Format, renderer
from mlops_actions.training.batches import balance, data_costs
from mlops_actions.training.changes import ModelPlan, PlanResult
from mlops_actions.training.fingerprint import snapshots_worktree

DEFAULT_MAX_JOBS = 64
MAX_MATRIX_JOBS = 256


@dataclass(frozen=True)
class PlanOptions:
    """What the user asked of ``plan``: the output format, the base to compare with (``--base``; else the
    merge-base with ``origin/<base_branch>``, GITHUB_BASE_REF), which models (all when None), and at most how
    many training jobs the matrix may hold."""

    fmt: Format
    base: str | None = None
    base_branch: str | None = None
    models: Sequence[str] | None = None
    max_jobs: int = DEFAULT_MAX_JOBS


def plan(root: Path, options: PlanOptions, *, runtime: ActionsRuntime) -> int:
    """Print the plan; exit 1 when a model to train has an invalid spec. More models to train than
    ``max_jobs``: the matrix has ``max_jobs`` batches of balanced expected cost (see ``training.batches``)."""
    check_max_jobs(options.max_jobs)
    chosen = resolve_base(Git(root), options.base, options.base_branch)
    plans = compute_plan(root, chosen, models=options.models)
    problems = spec_problems(root, [p.model for p in plans if p.train])
    if problems:
        print(render_problems.as_text(problems, len({p.file for p in problems})))
        print("plan refused: fix the specs above (run `mlops-actions validate` for every check)")
        return EXIT_INVALID
    emit(plans, chosen, fmt=options.fmt, runtime=runtime, batches=batch_models(root, plans, options.max_jobs))
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
