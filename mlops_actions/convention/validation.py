"""Validate convention files: schema first, then semantic checks; every problem of every file is collected.

Fast path: the C-accelerated safe loader and one compiled validator per schema. Only files with problems
are parsed again with the round-trip loader, to find the line and column of each problem.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlops_actions.convention import semantic
from mlops_actions.convention.discovery import POLICY_FILE, ConventionFile, model_names
from mlops_actions.convention.locate import locate
from mlops_actions.convention.model import Policy
from mlops_actions.convention.problems import Problem, Problems, pointer
from mlops_actions.convention.schema_check import schema_errors, schema_problems
from mlops_actions.convention.schemas import ENVIRONMENT, MODEL_SPEC, POLICY
from mlops_actions.convention.yamlio import load, read_text, roundtrip


def validate(root: Path, files: Iterable[ConventionFile]) -> Problems:
    """Validate ``files`` of the repository at ``root``; returns all problems found."""
    ctx = _context(root)
    problems = Problems()
    for file in files:
        problems.files_checked += 1
        problems.extend(validate_file(root, file, ctx))
    return problems


def _context(root: Path) -> semantic.Context:
    policy_data = load_valid(root, POLICY_FILE, POLICY) if (root / POLICY_FILE).is_file() else None
    return semantic.Context(root=root, policy=Policy.from_dict(policy_data),
                            policy_loaded=policy_data is not None, models=frozenset(model_names(root)))


def load_valid(root: Path, relpath: str, schema: str) -> dict[str, Any] | None:
    """The file's data if it parses and is schema-valid, else None (its problems are reported elsewhere)."""
    loaded = load(root / relpath, relpath)
    if not loaded.ok or schema_errors(schema, loaded.data):
        return None
    data: dict[str, Any] = loaded.data
    return data


def validate_file(root: Path, file: ConventionFile, ctx: semantic.Context) -> list[Problem]:
    loaded = load(file.absolute(root), file.relpath)
    if not loaded.ok:
        return list(loaded.problems)
    errors = schema_errors(file.schema, loaded.data)
    findings = list(_semantic(file, loaded.data, ctx))
    if not errors and not findings:
        return []
    text, _ = read_text(file.absolute(root), file.relpath)
    rt_root = roundtrip(text or "")
    problems = schema_problems(file.relpath, errors, rt_root)
    for parts, at, message, severity in findings:
        line, col = locate(rt_root, parts, at=at)
        problems.append(Problem(file.relpath, line, col, pointer(parts), message, severity))
    return problems


def _semantic(file: ConventionFile, data: dict[str, Any], ctx: semantic.Context) -> Iterable[semantic.Finding]:
    if file.schema == MODEL_SPEC:
        return semantic.check_model_spec(file.relpath, data, ctx)
    if file.schema == POLICY:
        return semantic.check_policy(data)
    if file.schema == ENVIRONMENT:
        return semantic.check_environment(file.relpath, data, ctx)
    return ()
