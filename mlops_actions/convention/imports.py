"""Which repository modules a Python file imports, found by reading its code (``ast``), never by running it.

``trace(entry, read)`` follows ``import a.b`` and ``from .c import d`` from ``entry`` through every repository
file they reach; ``read`` gives a repository file's bytes (work tree or a commit) or None when absent. Modules
not in the repository are reported with the first place that imports them, so that the caller can refuse those
outside the allow-list before anything runs. Imports done at run time (``importlib``, ``__import__``) are not
seen: docs/convention.md says so.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

Reader = Callable[[str], bytes | None]
# Standard-library modules that load pickles (run code from data): never allowed to a factory or a metric.
PICKLE_MODULES = frozenset({"pickle", "_pickle", "marshal", "shelve", "copyreg", "dill", "cloudpickle", "joblib"})
# Always allowed besides the standard library and the policy's prefixes: what the core itself installs.
BASE_MODULES = frozenset({"numpy", "pandas", "scipy", "sklearn", "pyarrow"})
MAX_FILES = 500


@dataclass(frozen=True)
class Traced:
    """Repository files reached (entry first), external top-level modules with where they are imported,
    files that could not be parsed (path -> reason), and imported repository modules that have no file
    (``from .helpers import x`` without ``helpers.py``; dotted name -> where)."""

    files: tuple[str, ...]
    external: Mapping[str, tuple[str, int]] = field(default_factory=dict)
    broken: Mapping[str, str] = field(default_factory=dict)
    missing: Mapping[str, tuple[str, int]] = field(default_factory=dict)

    @property
    def modules(self) -> tuple[str, ...]:
        """Dotted module names of the repository files (``models/x/pipeline.py`` -> ``models.x.pipeline``)."""
        return tuple(module_name(f) for f in self.files)


def module_name(relpath: str) -> str:
    parts = list(PurePosixPath(relpath).with_suffix("").parts)
    if parts and parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def trace(entry: str, read: Reader, *, script: bool = False) -> Traced:
    """Every repository file ``entry`` reaches through imports, breadth first, at most ``MAX_FILES``.

    ``script``: ``entry`` runs as ``python path/to/entry.py``, so Python looks up absolute imports in its
    folder first (``import helpers`` next to ``train.py`` is ``path/to/helpers.py``), then the repository root."""
    folder = str(PurePosixPath(entry).parent)
    bases = (f"{folder}/", "") if script and folder != "." else ("",)
    files: list[str] = []
    external: dict[str, tuple[str, int]] = {}
    broken: dict[str, str] = {}
    missing: dict[str, tuple[str, int]] = {}
    queue, seen = [entry], {entry}
    while queue and len(files) < MAX_FILES:
        path = queue.pop(0)
        source = read(path)
        if source is None:
            continue
        files.append(path)
        try:
            tree = ast.parse(source, filename=path)
        except (SyntaxError, ValueError) as exc:
            broken[path] = f"{type(exc).__name__}: {exc}"
            continue
        imports = _imports(tree, module_name(path), path.endswith("__init__.py"))
        resolved = {name: next((f for f in (_resolve(name, read, b) for b in bases) if f), [])
                    for name, _ in imports}
        for repo_file in (f for found in resolved.values() for f in found):
            if repo_file not in seen:
                seen.add(repo_file)
                queue.append(repo_file)
        for name, line in imports:
            if resolved[name] or _namespace_package(name, seen):
                continue
            if _in_repository_package(name, seen):
                missing.setdefault(name, (path, line))
            else:
                external.setdefault(name.split(".", 1)[0], (path, line))
    missing = {m: where for m, where in missing.items() if not any(m.startswith(f"{o}.") for o in missing)}
    return Traced(tuple(files), dict(sorted(external.items())), broken, dict(sorted(missing.items())))


def _namespace_package(name: str, files: set[str]) -> bool:
    """A folder of repository code without ``__init__.py`` (``from . import helpers`` in ``models/x/``)."""
    folder = name.replace(".", "/") + "/"
    return any(f.startswith(folder) for f in files)


def _in_repository_package(name: str, files: set[str]) -> bool:
    """``name`` lies under a top-level folder of the repository code traced so far (``models.loans.x`` when
    ``models/loans/pipeline.py`` is traced): a repository module whose file is missing, never a library."""
    top = name.split(".", 1)[0]
    return any("/" in f and f.split("/", 1)[0] == top for f in files)


def _imports(tree: ast.AST, module: str, is_package: bool) -> list[tuple[str, int]]:
    """(absolute dotted name, line) of each import; ``from a import b`` yields ``a.b`` and ``a``."""
    found: list[tuple[str, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(node.module or "", node.level, module, is_package)
            if base is None:
                continue
            found += [(f"{base}.{alias.name}" if base else alias.name, node.lineno) for alias in node.names
                      if alias.name != "*"]
            if base:
                found.append((base, node.lineno))
    return sorted(set(found), key=lambda item: (item[1], item[0]))


def _absolute(name: str, level: int, module: str, is_package: bool) -> str | None:
    if level == 0:
        return name
    parts = module.split(".") if module else []
    drop = level - 1 if is_package else level
    if drop > len(parts):
        return None
    package = parts[: len(parts) - drop]
    return ".".join([*package, name] if name else package)


def _resolve(name: str, read: Reader, base: str = "") -> list[str]:
    """Repository files of module ``name`` and of its parent packages that exist (``a/b.py``, ``a/__init__.py``),
    looked up under the folder ``base`` (``""``: the repository root; else ending in ``/``)."""
    parts = name.split(".")
    found = []
    for i in range(1, len(parts) + 1):
        stem = base + "/".join(parts[:i])
        for candidate in (f"{stem}.py", f"{stem}/__init__.py"):
            if read(candidate) is not None:
                found.append(candidate)
    # a namespace folder alone (``models/``) is not a module file; only files count
    return found if _leaf_found(parts, found, base) else []


def _leaf_found(parts: list[str], found: list[str], base: str = "") -> bool:
    """The module itself (or, for ``from pkg import name``, its package) is a repository file."""
    stem = base + "/".join(parts)
    parent = base + "/".join(parts[:-1]) if len(parts) > 1 else ""
    names = {f"{stem}.py", f"{stem}/__init__.py"}
    if parent:
        names |= {f"{parent}.py", f"{parent}/__init__.py"}
    return bool(names & set(found))


def missing_module_file(name: str) -> str:
    """The file a missing repository module would be (``models/x/helpers.py``)."""
    return name.replace(".", "/") + ".py"


def refused_modules(traced: Traced, allowed_prefixes: tuple[str, ...]) -> list[tuple[str, str, int]]:
    """External modules that are neither the standard library (minus pickle loaders), the core's libraries,
    nor under the policy's allowed prefixes: (module, file, line)."""
    allowed_tops = {p.rstrip(".").split(".", 1)[0] for p in allowed_prefixes}
    stdlib = set(getattr(sys, "stdlib_module_names", ())) | {"__future__"}
    refused = []
    for module, (path, line) in traced.external.items():
        ok = (module in stdlib or module in BASE_MODULES or module in allowed_tops) and module not in PICKLE_MODULES
        if not ok:
            refused.append((module, path, line))
    return refused


MAX_SOURCE_BYTES = 4 << 20


def worktree_reader(root: Path) -> Reader:
    """Reads repository files of the work tree; paths outside it, links out of it and big files read as None."""
    base = root.resolve()
    cache: dict[str, bytes | None] = {}

    def read(relpath: str) -> bytes | None:
        if relpath not in cache:
            cache[relpath] = _read_inside(base, relpath)
        return cache[relpath]
    return read


def _read_inside(base: Path, relpath: str) -> bytes | None:
    if relpath.startswith("/") or ".." in relpath.split("/"):
        return None
    path = base / relpath
    try:
        if not path.is_file() or not path.resolve().is_relative_to(base) or path.stat().st_size > MAX_SOURCE_BYTES:
            return None
        return path.read_bytes()
    except OSError:
        return None
