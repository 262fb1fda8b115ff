"""``mlops-actions validate``: schema and semantic checks of every convention file."""

from __future__ import annotations

from pathlib import Path

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import resolve_targets
from mlops_actions.convention.validation import validate as validate_files
from mlops_actions.errors import EXIT_INVALID, EXIT_OK
from mlops_actions.reporting import problems as render

FORMATS = ("text", "json", "github")


def validate(root: Path, paths: list[str], *, fmt: str, schema: str | None, runtime: ActionsRuntime) -> int:
    files = resolve_targets(root, paths, schema)
    result = validate_files(root, files)
    problems = result.sorted()
    if fmt == "json":
        print(render.as_json(problems))
    elif fmt == "github":
        print(render.as_github(problems, result.files_checked))
    else:
        print(render.as_text(problems, result.files_checked))
    runtime.append_summary(render.as_markdown(problems, result.files_checked))
    return EXIT_INVALID if result.errors else EXIT_OK
