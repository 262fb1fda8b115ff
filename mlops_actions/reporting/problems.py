"""Validation problems (``mlops-actions validate``) as text, JSON, GitHub annotations, or a Markdown table.

``RENDERERS`` renders a whole ``Problems`` (sorted, with the count of files checked) in each format."""

from __future__ import annotations

import json
from collections.abc import Sequence

from mlops_actions.actions_runtime import workflow_command
from mlops_actions.convention.problems import ERROR, Problem, Problems
from mlops_actions.reporting.markdown import md_cell, md_code
from mlops_actions.reporting.render import Renderers
from mlops_actions.reporting.tables import table

MAX_ANNOTATIONS = 10


def as_text(problems: Sequence[Problem], files_checked: int) -> str:
    lines = [_text_line(p) for p in problems]
    lines.append(_tally(problems, files_checked))
    return "\n".join(lines)


def _text_line(p: Problem) -> str:
    place = p.file if p.line is None else f"{p.file}:{p.line}:{p.column}"
    prefix = "" if p.severity == ERROR else f"{p.severity}: "
    return f"{place}: {p.json_path}: {prefix}{p.message}"


def _tally(problems: Sequence[Problem], files_checked: int) -> str:
    errors = sum(p.severity == ERROR for p in problems)
    warnings = len(problems) - errors
    if not problems:
        return f"ok: {files_checked} file(s) valid"
    return f"{errors} error(s), {warnings} warning(s) in {files_checked} file(s) checked"


def as_json(problems: Sequence[Problem]) -> str:
    return json.dumps([p.to_dict() for p in problems], indent=2)


def as_github(problems: Sequence[Problem], files_checked: int) -> str:
    """At most ``MAX_ANNOTATIONS`` annotations (GitHub shows 10 per step); the rest summarized."""
    lines = [_annotation(p) for p in problems[:MAX_ANNOTATIONS]]
    rest = problems[MAX_ANNOTATIONS:]
    if rest:
        files = sorted({p.file for p in rest})
        lines.append(workflow_command(
            "notice", f"{len(rest)} more problem(s) not annotated, in {', '.join(files)}; "
                      "see the job summary or run `mlops-actions validate` locally",
            title="mlops-actions validate"))
    lines.extend(_text_line(p) for p in problems)
    lines.append(_tally(problems, files_checked))
    return "\n".join(lines)


def _annotation(p: Problem) -> str:
    return workflow_command(p.severity, f"{p.json_path}: {p.message}", file=p.file, line=p.line, col=p.column,
                            title=f"mlops-actions: invalid {p.file}")


def as_markdown(problems: Sequence[Problem], files_checked: int) -> str:
    head = f"### mlops-actions validate\n\n{_tally(problems, files_checked)}\n"
    if not problems:
        return head
    rows = [[md_code(p.file), str(p.line or ""), str(p.column or ""), md_code(p.json_path), md_cell(p.message)]
            for p in problems]
    return head + "\n" + table(["file", "line", "column", "path", "problem"], rows, compact=True, right={1, 2}) + "\n"


RENDERERS: Renderers[Problems] = {
    "text": lambda found: as_text(found.sorted(), found.files_checked),
    "json": lambda found: as_json(found.sorted()),
    "github": lambda found: as_github(found.sorted(), found.files_checked),
    "markdown": lambda found: as_markdown(found.sorted(), found.files_checked),
}
