"""Validate convention files: schema first, then semantic checks; every problem of every file is collected.

Fast path: the C-accelerated safe loader and one compiled validator per schema. Only files with problems
are parsed again with the round-trip loader, to find the line and column of each problem.
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from mlops_actions.convention import paths, semantic
from mlops_actions.convention.discovery import POLICY_FILE, ConventionFile, model_names, spec_relpath
from mlops_actions.convention.locate import locate_node
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.problems import ERROR, Problem, Problems, pointer
from mlops_actions.convention.schema_check import schema_errors, schema_problems
from mlops_actions.convention.schemas import ENVIRONMENT, MODEL_SPEC, POLICY
from mlops_actions.convention.yamlio import load
from mlops_actions.errors import InputError, Place

PARALLEL_MIN_FILES = 200


def validate(root: Path, files: Iterable[ConventionFile], *, jobs: int | None = None) -> Problems:
    """Validate ``files`` of the repository at ``root``; returns all problems found.

    Large sets are split across ``jobs`` forked workers (default: the CPUs), which send their problems
    back as JSON through a pipe; a worker that fails has its share redone here.
    """
    ctx = _context(root)
    todo = list(files)
    workers = min(jobs or os.cpu_count() or 1, 8)
    problems = Problems(files_checked=len(todo))
    if workers > 1 and len(todo) >= PARALLEL_MIN_FILES and _can_fork():
        problems.extend(_validate_forked(root, todo, ctx, workers))
    else:
        problems.extend(_validate_all(root, todo, ctx))
    return problems


def _validate_all(root: Path, files: list[ConventionFile], ctx: semantic.Context) -> list[Problem]:
    return [problem for file in files for problem in validate_file(root, file, ctx)]


def _can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


def _validate_forked(root: Path, files: list[ConventionFile], ctx: semantic.Context, workers: int) -> list[Problem]:
    shares = [files[i::workers] for i in range(workers)]
    children = [_fork_worker(root, share, ctx) for share in shares[1:]]
    found = _validate_all(root, shares[0], ctx)
    for (pid, fd), share in zip(children, shares[1:], strict=True):
        found.extend(_collect(pid, fd) or _validate_all(root, share, ctx))
    return found


def _fork_worker(root: Path, share: list[ConventionFile], ctx: semantic.Context) -> tuple[int, int]:
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the worker: validate its share, send JSON, never return into the caller's code
        os.close(read_fd)
        code = 1
        try:
            payload = json.dumps([p.to_dict() for p in _validate_all(root, share, ctx)]).encode()
            with os.fdopen(write_fd, "wb") as pipe:
                pipe.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def _collect(pid: int, fd: int) -> list[Problem] | None:
    with os.fdopen(fd, "rb") as pipe:
        payload = pipe.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        return None
    return [Problem(d["file"], d["line"], d["column"], d["pointer"], d["message"], d["severity"])
            for d in json.loads(payload)]


def _context(root: Path) -> semantic.Context:
    policy_data = load_valid(root, POLICY_FILE, POLICY) if (root / POLICY_FILE).is_file() else None
    return semantic.Context(root=root, policy=Policy.from_dict(policy_data),
                            policy_loaded=policy_data is not None, models=frozenset(model_names(root)))


def load_policy(root: Path) -> Policy:
    """The repository policy: the default one when there is no mlops.yaml, ``InputError`` when it is invalid."""
    if not (root / POLICY_FILE).is_file():
        return Policy()
    data = load_valid(root, POLICY_FILE, POLICY)
    if data is None:
        raise InputError("the policy is not valid", place=Place(POLICY_FILE),
                         hint=f"run `mlops-actions validate {POLICY_FILE}` to see the problems")
    return Policy.from_dict(data)


def load_spec(root: Path, model: str) -> ModelSpec:
    """The spec of ``model``: ``InputError`` naming the known models when it has none, or when it is invalid."""
    relpath = spec_relpath(model)
    known = model_names(root)
    if model not in known:
        raise InputError(f"unknown model '{model}': there is no {relpath}",
                         hint=f"models in this repository: {', '.join(known) or 'none'}")
    data = load_valid(root, relpath, MODEL_SPEC)
    if data is None:
        raise InputError(f"{relpath} is not a valid model spec", place=Place(relpath),
                         hint=f"run `mlops-actions validate {relpath}` to see why")
    return ModelSpec.from_dict(data, relpath)


def load_valid(root: Path, relpath: str, schema: str) -> dict[str, Any] | None:
    """The file's data if it parses and is schema-valid, else None (its problems are reported elsewhere)."""
    if escapes(root, relpath) is not None:
        return None
    loaded = load(root / relpath, relpath)
    if not loaded.ok or schema_errors(schema, loaded.data) or non_finite(loaded.data):
        return None
    data: dict[str, Any] = loaded.data
    return data


def escapes(root: Path, relpath: str) -> Problem | None:
    """A convention file reached through a symbolic link: never read. A link out of the repository (or into
    .git) would let a pull request make the checks quote files of the runner (a token in .git/config, say); a
    link inside it would be read here while git, and so ``plan`` and ``register``, see only the link's text."""
    if _plain(root, relpath):
        return None
    path = root / relpath
    if not path.is_symlink() and not any(p.is_symlink() for p in path.parents if root in p.parents):
        return None
    try:
        inside = path.resolve().relative_to(root.resolve())
    except (ValueError, OSError, RuntimeError):
        inside = None
    if inside is not None and inside.parts[:1] != (".git",):
        link = paths.first_link(root, relpath) or relpath
        return Problem(relpath, None, None, "", f"reached through the symbolic link {link!r} (-> "
                       f"{paths.link_target(root, link)!r}); convention files are read from git as committed, and "
                       "git stores a link's text, not the file (plan and register would miss edits of the target): "
                       "replace the link with the file")
    return Problem(relpath, None, None, "", "a symbolic link that leads outside the repository (or into .git, or "
                   "loops); convention files are read only from the repository: replace the link with the file")


def _plain(root: Path, relpath: str) -> bool:
    """A simple relative path (``a/b/c``) with no symbolic link on the way: ``escapes``'s common answer, by
    ``os.path`` (pathlib's ``parents`` walk cost a tenth of ``validate`` at 5,000 specs)."""
    parts = relpath.split("/")
    if relpath.startswith("/") or "\\" in relpath or any(p in ("", ".", "..") for p in parts):
        return False
    top = str(root)
    return not any(os.path.islink(os.path.join(top, *parts[:i])) for i in range(1, len(parts) + 1))


def validate_file(root: Path, file: ConventionFile, ctx: semantic.Context) -> list[Problem]:
    escaped = escapes(root, file.relpath)
    if escaped is not None:
        return [escaped]
    loaded = load(file.absolute(root), file.relpath)
    if not loaded.ok:
        return list(loaded.problems)
    errors = schema_errors(file.schema, loaded.data)
    findings = [*non_finite(loaded.data), *_semantic(file, loaded.data, ctx)]
    if not errors and not findings:
        return []
    tree = loaded.tree
    problems = schema_problems(file.relpath, errors, tree)
    for parts, at, message, severity in findings:
        line, col = locate_node(tree, parts, at=at)
        problems.append(Problem(file.relpath, line, col, pointer(parts), message, severity))
    return problems


def non_finite(data: Any, parts: tuple[Any, ...] = ()) -> list[semantic.Finding]:
    """Every ``.nan`` / ``.inf`` YAML number outside a build's ``params`` (``C: .inf`` is the estimator's to
    judge): no JSON Schema bound refuses NaN (every comparison with it is false), and the threshold, a gate or
    a tolerance of NaN or infinity would pass or refuse everything, or break the record's strict JSON."""
    if len(parts) == 2 and parts[1] == "params" and parts[0] in ("estimator", "pipeline", "train"):
        return []
    if isinstance(data, float) and not math.isfinite(data):
        return [(list(parts), "value", f"{data!r} ({'.nan' if math.isnan(data) else '.inf'} in YAML) is not a "
                 "finite number; write a number such as 0.5", ERROR)]
    if isinstance(data, dict):
        return [f for k, v in data.items() for f in non_finite(v, (*parts, k))]
    if isinstance(data, list):
        return [f for i, v in enumerate(data) for f in non_finite(v, (*parts, i))]
    return []


def _semantic(file: ConventionFile, data: dict[str, Any], ctx: semantic.Context) -> Iterable[semantic.Finding]:
    if file.schema == MODEL_SPEC:
        return semantic.check_model_spec(file.relpath, data, ctx)
    if file.schema == POLICY:
        return semantic.check_policy(data)
    if file.schema == ENVIRONMENT:
        return semantic.check_environment(file.relpath, data, ctx)
    return ()
