"""The plan as text (the ``plan`` and ``run`` commands print it), as GitHub notices and as the job summary's
Markdown: which models need training and why, and which did not change."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from mlops_actions.actions_runtime import workflow_command
from mlops_actions.reporting.markdown import md_cell, md_code
from mlops_actions.training.changes import REMOVED, TRAIN, ModelPlan

if TYPE_CHECKING:
    from mlops_actions.registry.planning import Base

MAX_NOTICES = 10
MAX_LISTED = 20


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
