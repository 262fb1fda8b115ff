"""``mlops-actions validate``: schema and semantic checks of every convention file."""

from __future__ import annotations

from pathlib import Path, PurePosixPath

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import (
    ENVIRONMENTS_DIR,
    MODELS_DIR,
    POLICY_FILE,
    SPEC_FILE,
    misplaced_specs,
    resolve_targets,
)
from mlops_actions.convention.problems import WARNING, Problem
from mlops_actions.convention.validation import validate as validate_files
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, InputError
from mlops_actions.reporting.problems import RENDERERS
from mlops_actions.reporting.render import Format, renderer


def validate(root: Path, paths: list[str], *, fmt: Format, schema: str | None, runtime: ActionsRuntime) -> int:
    _check_given(paths)
    files = resolve_targets(root, paths, schema)
    if not paths and not files:
        raise InputError(f"no convention files in {root}: no {POLICY_FILE}, {MODELS_DIR}/<name>/{SPEC_FILE} or "
                         f"{ENVIRONMENTS_DIR}/<env>.yaml",
                         hint="run it from the repository root (or pass -C DIR; in the action, the "
                              "working-directory input), or scaffold one with `mlops-actions init`")
    result = validate_files(root, files)
    if not paths:
        result.extend(_misplaced(root))
    print(renderer(RENDERERS, fmt)(result))
    runtime.append_summary(RENDERERS["markdown"](result))
    return EXIT_INVALID if result.errors else EXIT_OK


def _misplaced(root: Path) -> list[Problem]:
    """A spec nested deeper than models/<name>/ is never trained: said, rather than silently skipped."""
    return [Problem(path, 1, 1, "", f"this spec is never read: a model's spec is {MODELS_DIR}/<name>/{SPEC_FILE} "
                    f"(one folder per model, not nested); move it to {MODELS_DIR}/"
                    f"{PurePosixPath(path).parent.name}/{SPEC_FILE}", WARNING) for path in misplaced_specs(root)]


def _check_given(paths: list[str]) -> None:
    """A path on the command line that does not exist is named as such (not as a file of unknown kind)."""
    missing = [p for p in paths if not Path(p).exists() and not Path(p).is_symlink()]
    if missing:
        raise InputError(f"no such file or folder: {', '.join(missing)}",
                         hint="paths are relative to the current directory; with no path, validate checks "
                              "every convention file of the repository")
