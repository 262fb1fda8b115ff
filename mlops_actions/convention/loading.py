"""A model's spec and the repository policy, loaded only when valid: what ``train`` and the base-ref training of
``report --train-base`` start from."""

from __future__ import annotations

from pathlib import Path

from mlops_actions.convention.discovery import POLICY_FILE, ConventionFile, model_names, spec_relpath
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.problems import Problem
from mlops_actions.convention.schemas import MODEL_SPEC, POLICY
from mlops_actions.convention.validation import load_valid, validate
from mlops_actions.errors import InputError, Place


def load_model(root: Path, name: str) -> tuple[ModelSpec, Policy]:
    """The spec of model ``name`` and the repository policy, both valid, or ``InputError`` with problems."""
    relpath = spec_relpath(name)
    if name not in model_names(root):  # also refuses names with path characters: models/a/../b is no model
        known = ", ".join(model_names(root)) or "none"
        raise InputError(f"there is no model '{name}' ({relpath} does not exist)", hint=f"models: {known}")
    files = [ConventionFile(relpath, MODEL_SPEC)]
    if (root / POLICY_FILE).exists() or (root / POLICY_FILE).is_symlink():  # a folder or a loop: refused
        files.insert(0, ConventionFile(POLICY_FILE, POLICY))
    errors = validate(root, files).errors
    if errors:
        raise _invalid(errors)
    raw = load_valid(root, relpath, MODEL_SPEC)
    policy_raw = load_valid(root, POLICY_FILE, POLICY) if (root / POLICY_FILE).is_file() else None
    if raw is None:  # validation passed, so this cannot happen; a guard, not a user path
        raise InputError(f"{relpath} could not be loaded", place=Place(relpath))
    return ModelSpec.from_dict(raw, relpath), Policy.from_dict(policy_raw)


def _invalid(errors: list[Problem]) -> InputError:
    first, rest = errors[0], errors[1:]
    message = f"{first.json_path}: {first.message}"
    for p in rest:
        place = p.file if p.line is None else f"{p.file}:{p.line}:{p.column}"
        message += f"\n  also {place}: {p.json_path}: {p.message}"
    return InputError(message, place=Place(first.file, first.line, first.column, first.pointer),
                      hint="fix the spec or its data first (`mlops-actions validate` lists every problem); "
                           "nothing was trained")
