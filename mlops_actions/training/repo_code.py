"""The repository's own Python code a training imports: a pipeline factory and repository metrics.

This is the team's code, run in the job that already runs the pull request's code (docs/convention.md says so). What
we guarantee: it is imported only after its imports were read (``imports.trace``) and every module outside the
repository is the standard library (minus pickle loaders), a core library or under the policy's allowed
prefixes; errors name the file and line; the repository's modules are importable only inside ``repo_imports``
and never leak into another training in the same process.
"""

from __future__ import annotations

import importlib
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.convention.build_checks import is_repo_metric
from mlops_actions.convention.imports import (
    PICKLE_MODULES,
    Traced,
    missing_module_file,
    module_name,
    refused_modules,
    trace,
)
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.paths import repo_path_problem
from mlops_actions.errors import InputError, Place
from mlops_actions.training.dependencies import worktree_reader
from mlops_actions.training.spec_places import SpecPlaces


@dataclass(frozen=True)
class RepoCode:
    """The repository modules a training may import (checked), by entry file."""

    modules: tuple[str, ...] = ()
    traced: tuple[Traced, ...] = ()


@dataclass(frozen=True)
class CheckedRepo:
    """The repository a model is trained from, as the checks before training left it: its ``root``, where
    the spec's keys are written (``places``: errors name them) and the repository code the build may
    import (``code``)."""

    root: Path
    places: SpecPlaces
    code: RepoCode


def check_repo_code(root: Path, spec: ModelSpec, policy: Policy, places: SpecPlaces) -> RepoCode:
    """Trace the factory's and the repository metrics' imports; refuse a module outside the repository and the
    allow-list, naming the file and line, before anything is imported."""
    entries: list[tuple[str, tuple[str | int, ...]]] = []
    if spec.build.kind == "pipeline":
        entries.append((spec.build.factory_file, _factory_key(spec)))
    entries += [(name.rpartition(":")[0], ("metrics", name)) for name in spec.metrics if is_repo_metric(name)]
    read = worktree_reader(root)
    traced = []
    for path, key in entries:
        reason = repo_path_problem(root, path, must_exist=True)
        if reason:
            raise InputError(f"{path!r}: {reason}", place=places.at(*key), hint="name a Python file of the repository")
        one = trace(path, read)
        _check_traced(one, policy)
        traced.append(one)
    modules = tuple(sorted({m for t in traced for m in t.modules}))
    return RepoCode(modules, tuple(traced))


def _factory_key(spec: ModelSpec) -> tuple[str, ...]:
    return ("pipeline", "factory") if isinstance(spec.raw.get("pipeline"), dict) else ("pipeline",)


def _check_traced(traced: Traced, policy: Policy) -> None:
    for path, reason in traced.broken.items():
        line = _syntax_line(reason)
        raise InputError(f"cannot read the Python code: {reason}", place=Place(path, line),
                         hint="fix the syntax error; nothing was imported")
    for module, (path, line) in traced.missing.items():
        raise InputError(f"imports '{module}', a module of the repository with no file "
                         f"({missing_module_file(module)} does not exist); nothing was imported",
                         place=Place(path, line), hint="add the module's file, or fix the import's spelling")
    refused = refused_modules(traced, policy.allowed_prefixes)
    if refused:
        module, path, line = refused[0]
        others = ", ".join(m for m, _, _ in refused[1:])
        hint = (f"add '{module}.' to estimators.allowed_prefixes in mlops.yaml if you trust it (and install it, "
                "e.g. with requirements:), or use a train: command for other frameworks")
        if module in PICKLE_MODULES:
            hint = "modules that load pickles (code hidden in data) are never allowed; save and load plain data"
        raise InputError(f"imports module '{module}', which is neither in the repository nor allowed"
                         + (f" (also: {others})" if others else "") + "; nothing was imported",
                         place=Place(path, line), hint=hint)


def _syntax_line(reason: str) -> int | None:
    marker = "line "
    if marker not in reason:
        return None
    digits = reason.split(marker, 1)[1].split(")", 1)[0].split(",", 1)[0]
    return int(digits) if digits.isdigit() else None


@contextmanager
def repo_imports(root: Path, modules: tuple[str, ...]) -> Iterator[None]:
    """The repository root first on ``sys.path`` and ``modules`` (and their packages) fresh in ``sys.modules``:
    they are imported from this repository, and forgotten afterwards."""
    if not modules:
        yield
        return
    entry = str(root.resolve())
    _forget(modules)
    sys.path.insert(0, entry)
    importlib.invalidate_caches()
    try:
        yield
    finally:
        if entry in sys.path:
            sys.path.remove(entry)
        _forget(modules)


def _forget(modules: tuple[str, ...]) -> None:
    names = {".".join(m.split(".")[:i]) for m in modules for i in range(1, m.count(".") + 2)}
    for name in names:
        sys.modules.pop(name, None)


def import_function(root: Path, path: str, name: str, place: Place) -> Any:
    """Function ``name`` of repository file ``path`` (inside ``repo_imports``); errors at the failing line."""
    module_path = module_name(path)
    try:
        module = importlib.import_module(module_path)
    except Exception as exc:  # the team's code: any failure is theirs to fix, at its own line
        raise code_error(exc, root, f"importing {path} failed", place) from exc
    func = getattr(module, name, None)
    if not callable(func):
        raise InputError(f"{path} has no function '{name}'", place=place,
                         hint="name a function defined at the top level of that file")
    return func


def code_error(exc: BaseException, root: Path, what: str, fallback: Place) -> InputError:
    """``what``, the exception, and the place: the deepest frame in a repository file, else ``fallback``."""
    return InputError(f"{what}: {type(exc).__name__}: {_one_line(exc)}", place=repo_frame(exc, root) or fallback,
                      hint="the message is your code's own; fix it there (nothing was written)")


def repo_frame(exc: BaseException, root: Path) -> Place | None:
    base = root.resolve()
    found = None
    for frame in traceback.extract_tb(exc.__traceback__):
        try:
            rel = Path(frame.filename).resolve().relative_to(base)
        except (ValueError, OSError):
            continue
        found = Place(rel.as_posix(), frame.lineno)
    if found is None and isinstance(exc, SyntaxError) and exc.filename:
        with suppress(ValueError, OSError):
            found = Place(Path(exc.filename).resolve().relative_to(base).as_posix(), exc.lineno)
    return found


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 400 else text[:397] + "..."
