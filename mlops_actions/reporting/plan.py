"""What ``mlops-actions plan`` found (a ``PlanResult``): text, the JSON matrix, GitHub notices, and the job
summary's Markdown (``RENDERERS``). Model names and reasons are escaped before they reach Markdown."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from mlops_actions.actions_runtime import workflow_command
from mlops_actions.reporting.markdown import md_cell, md_code
from mlops_actions.reporting.render import Renderers
from mlops_actions.reporting.tables import table
from mlops_actions.training.batches import batch_entries
from mlops_actions.training.changes import REMOVED, TRAIN, ModelPlan, PlanResult

MAX_NOTICES = 10
MAX_LISTED = 20


def matrix(plans: Sequence[ModelPlan],
           batches: Sequence[Sequence[str]] | None = None) -> dict[str, list[dict[str, Any]]]:
    """The GitHub Actions ``strategy.matrix``: one ``include`` entry per model to train, or with ``batches``
    one per batch (``model`` labels the job, ``models`` names its models; workflows pass
    ``matrix.models || matrix.model``)."""
    if batches:
        return {"include": batch_entries(batches)}
    return {"include": [{"model": p.model, "reasons": list(p.reasons)} for p in plans if p.train]}


def as_json(result: PlanResult) -> str:
    return json.dumps(matrix(result.models, result.batches), indent=2, ensure_ascii=False)


def as_github(result: PlanResult) -> str:
    return "\n".join([*as_notices(result.models), as_text(result), *_batch_line(result.batches)])


def as_plain(result: PlanResult) -> str:
    return "\n".join([as_text(result), *_batch_line(result.batches)])


def _batch_line(batches: Sequence[Sequence[str]] | None) -> list[str]:
    if not batches:
        return []
    sizes = sorted(len(b) for b in batches)
    return [f"batched into {len(batches)} jobs of {sizes[0]} to {sizes[-1]} model(s), balanced by data size"]


def base_line(base: str | None) -> str:
    if base is None:
        return "base: none (no origin/main and no parent commit); models are compared with their versions only"
    return f"base: {base}"


def as_text(result: PlanResult) -> str:
    """The decision per model: those to train with their reasons, then the others (no batches)."""
    train = [p for p in result.models if p.train]
    lines = [base_line(result.base), headline(result.models)]
    for p in train:
        lines += [f"  {p.model}", *(f"    - {r}" for r in p.reasons)]
    lines += _others(result.models)
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


def as_markdown(result: PlanResult) -> str:
    plans = result.models
    lines = ["### mlops-actions plan", "", md_cell(base_line(result.base)), "", md_cell(headline(plans)), ""]
    train = [p for p in plans if p.train]
    if train:
        rows = [[md_code(p.model), "<br>".join(md_cell(r) for r in p.reasons)] for p in train]
        lines.append(table(["model", "why"], rows, compact=True))
    return "\n".join(lines) + "\n"


RENDERERS: Renderers[PlanResult] = {"text": as_plain, "json": as_json, "github": as_github, "markdown": as_markdown}
