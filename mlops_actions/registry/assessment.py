"""The assessed ``ModelReport`` of each results folder: what the PR's report shows, and what ``register``
rebuilds on main to check that what ships is what was reviewed (so both compute it here, once).

Each folder's candidate, its spec, fairness and held-out evidence, and its baseline (deployed, registered or
trained at the base ref) go to ``evaluation.assess``; nothing here renders.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlops_actions.convention.discovery import spec_relpath
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.schemas import MODEL_SPEC
from mlops_actions.convention.validation import load_policy, load_valid
from mlops_actions.errors import InputError, Place
from mlops_actions.evaluation import results as res
from mlops_actions.evaluation.assess import Evidence, ModelReport, Rules, assess
from mlops_actions.evaluation.baseline import BASE_REF, BaselineSources, load_baseline
from mlops_actions.registry.promotion import Deployed
from mlops_actions.registry.records import VersionRef, by_model, local_versions, reader
from mlops_actions.training.artifact import artifact_sha256


@dataclass(frozen=True)
class ReportOptions:
    """What the user said: the ``report`` command line's flags (typed) and the branches the Actions run is for
    (``register`` asks for the verdict only)."""

    results: Path
    base: str | None = None
    out: Path | None = None
    summary: bool = False
    head_ref: str | None = None  # GITHUB_HEAD_REF, for the report's header
    base_branch: str | None = None  # GITHUB_BASE_REF: plan's base is the merge-base with origin/<it>
    base_results: Path | None = None
    train_base: bool = False
    fork: bool = False  # the results are a fork's artifact: read its JSON files only (evaluation.fork_results)
    # False: the verdict only (register): the disparities' bootstrap draws the comment's interval columns and
    # decides nothing (gates and the evidence digest read the estimates), so register skips its 1,000 replicates
    disparity_intervals: bool = True


@dataclass(frozen=True)
class ReportFindings:
    """What the run found before the report: what is deployed (read from GitHub by the composition root, or
    by ``register``), the plan's reasons and base commit, the rules in force, the models trained at the base,
    and notes."""

    deployed: Mapping[str, str] | None = None  # model -> version deployed to the baseline environment
    deployments: Mapping[str, Sequence[Deployed]] | None = None  # env -> successful deployments, newest first
    state_commit: str | None = None  # offline: read environments/*.yaml at this commit (the PR's base)
    reasons: Mapping[str, Sequence[str]] | None = None  # the plan's, per model
    base_results: Path | None = None  # the models trained at the base commit (--train-base)
    base_problems: Mapping[str, str] | None = None  # why a model could not be trained at the base
    notes: tuple[str, ...] = ()
    versions: Mapping[str, Sequence[VersionRef]] | None = None  # model -> its version tags, read once for all
    policy: Policy | None = None  # the rules in force: the base commit's (report) or the merge's (register)
    full_report: bool = True  # write report-full.md when shortened (the fork's comment job uploads none)


NOTHING_FOUND = ReportFindings()


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
    if folders and found.versions is None:
        found = replace(found, versions=by_model(local_versions(root)))

    def one(folder: Path) -> ModelReport:
        return assess_folder(root, folder, policy, options, found, reasons.get(folder.name, ()))

    with threadpool_limits(limits=1, user_api="blas"):
        if len(folders) < 2:
            return [one(folder) for folder in folders]
        with ThreadPoolExecutor(max_workers=min(len(folders), os.cpu_count() or 1, 4)) as pool:
            return list(pool.map(one, folders))


def assess_folder(root: Path, folder: Path, policy: Policy, options: ReportOptions, found: ReportFindings,
                  reasons: Sequence[str]) -> ModelReport:
    """One results folder assessed against its baseline, with the policy's gates."""
    candidate = res.load_candidate(folder, root, artifact_sha256=artifact_sha256)
    spec = load_spec(root, candidate.name)
    frame = res.load_predictions(folder, root)  # read once: fairness, intervals and pictures all need it
    request = res.FairnessRequest(spec, candidate.task, policy.min_group_size, intervals=options.disparity_intervals)
    view, balance, notes = res.fairness_for(folder, request, root, frame)
    problem = (found.base_problems or {}).get(candidate.name)
    base_results = options.base_results or found.base_results
    sources = BaselineSources(deployed=found.deployed, base_results=base_results, base_ref=options.base,
                              state_commit=found.state_commit)
    read_versions = local_versions if found.versions is None else reader(found.versions)
    baseline = load_baseline(root, candidate.name, policy.baseline, read_versions=read_versions, sources=sources)
    base_groups, base_heldout = None, None
    if baseline.kind == BASE_REF and base_results is not None:
        base_folder = base_results / candidate.name
        base_frame = res.load_predictions(base_folder)
        base_groups, base_balance = _base_extras(base_folder, spec, policy.min_group_size, base_frame)
        base_heldout = res.heldout_for(base_folder, spec, candidate.task, candidate.metrics, frame=base_frame)
        baseline = replace(baseline, class_balance=base_balance)
    evidence = Evidence(res.heldout_for(folder, spec, candidate.task, candidate.metrics, root, frame), base_heldout,
                        next((n.split(": ", 1)[1] for n in notes if n.startswith(res.NOT_MEASURED)), None),
                        res.threshold_of(spec), fairness=view, baseline_groups=base_groups)
    return assess(replace(candidate, class_balance=balance), Rules(spec, policy), baseline=baseline,
                  reasons=reasons,
                  notes=(*notes, *([problem] if problem else []), *other_spec_note(candidate.record, spec,
                                                                                  spec_relpath(candidate.name))),
                  evidence=evidence)


def _base_extras(folder: Path, spec: ModelSpec | None, min_group_size: int | None, frame: Any,
                 ) -> tuple[Mapping[str, float | None] | None, Mapping[str, float] | None]:
    """Per-group chart values and class balance of the model trained at the base ref."""
    from mlops_actions.evaluation.fairness_view import chart_values

    task = str((res.read_json(folder / res.METRICS_FILE) or {}).get("task", "classification"))
    request = res.FairnessRequest(spec, task, min_group_size, intervals=False)  # drawn as a line: no bootstrap
    view, balance, _ = res.fairness_for(folder, request, frame=frame)
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
