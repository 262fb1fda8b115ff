"""The repository files a model's training depends on beyond its spec and data: the pipeline factory and every
repository module it imports, the command's files and its export loader (and what their Python imports),
repository metrics, the requirements file. They go into the fingerprint's ``code``, so ``plan`` names them
when they change.

``Reader``s read a file of the work tree or of a commit (git objects, no checkout). No sklearn import here.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from mlops_actions.convention.build_checks import command_argv, is_repo_metric, repo_files_in_command
from mlops_actions.convention.imports import Reader, trace
from mlops_actions.convention.imports import worktree_reader as worktree_reader  # re-exported
from mlops_actions.gitio import Git, split_z


def entry_points(raw: Mapping[str, Any]) -> tuple[list[str], list[str]]:
    """(Python files whose imports are traced, other files hashed as they are) named by a parsed spec."""
    python: list[str] = []
    plain: list[str] = []
    pipeline = raw.get("pipeline")
    ref = pipeline.get("factory") if isinstance(pipeline, Mapping) else pipeline
    if isinstance(ref, str) and ":" in ref:
        python.append(ref.rpartition(":")[0])
    train = raw.get("train")
    command = train.get("command") if isinstance(train, Mapping) else None
    if isinstance(command, str):
        for path in repo_files_in_command(command):
            (python if path.endswith(".py") else plain).append(path)
    loader = train.get("loader") if isinstance(train, Mapping) else None
    if isinstance(loader, str) and ":" in loader:  # export's models-from-code loader: what it serves
        python.append(loader.rpartition(":")[0])
    metrics = raw.get("metrics")
    if isinstance(metrics, Mapping):
        python += [str(name).rpartition(":")[0] for name in metrics if is_repo_metric(str(name))]
    if isinstance(raw.get("requirements"), str):
        plain.append(raw["requirements"])
    return sorted(set(python)), sorted(set(plain))


@dataclass(frozen=True)
class Dependencies:
    """Repository files the build depends on, and the third-party top-level modules their code imports."""

    files: tuple[str, ...] = ()
    modules: tuple[str, ...] = ()


def command_scripts(raw: Mapping[str, Any], read: Reader) -> tuple[set[str], list[str]]:
    """(Python files the command runs as scripts, repository modules it runs with ``python -m a.b``)."""
    train = raw.get("train")
    command = train.get("command") if isinstance(train, Mapping) else None
    if not isinstance(command, str):
        return set(), []
    scripts = {p for p in repo_files_in_command(command) if p.endswith(".py")}
    try:
        argv = command_argv(command)
    except ValueError:
        return scripts, []
    run = [argv[i + 1] for i, word in enumerate(argv[:-1]) if word == "-m"]
    stems = [m.replace(".", "/") for m in run if m.replace(".", "").replace("_", "").isalnum()]
    return scripts, [f for stem in stems for f in (f"{stem}.py", f"{stem}/__main__.py") if read(f) is not None]


def reads_files(raw: Mapping[str, Any]) -> bool:
    """Whether ``dependencies(raw, read)`` can be anything but ``Dependencies()``: False for a spec that names no
    factory, command, loader, repository metric or requirements file (most specs), and nothing is then read.
    Keep it in step with ``dependencies``: what that looks at, this must look at too."""
    python, plain = entry_points(raw)
    train = raw.get("train")
    return bool(python or plain) or (isinstance(train, Mapping) and isinstance(train.get("command"), str))


def dependencies(raw: Mapping[str, Any], read: Reader) -> Dependencies:
    """Every repository file the spec's build depends on (traced imports included), sorted. A command's
    scripts are traced as Python runs them: their own folder first on the import path."""
    python, plain = entry_points(raw)
    scripts, run_modules = command_scripts(raw, read)
    found = set(plain)
    modules: set[str] = set()
    stdlib = set(getattr(sys, "stdlib_module_names", ()))
    for entry in sorted({*python, *run_modules}):
        found.add(entry)
        traced = trace(entry, read, script=entry in scripts)
        found.update(traced.files)
        modules.update(m for m in traced.external if m not in stdlib and not m.startswith("_"))
    return Dependencies(tuple(sorted(found)), tuple(sorted(modules)))


def commit_reader(git: Git, commit: str) -> Reader:
    """Reads repository files as committed in ``commit`` (one ``ls-tree`` for the names, a blob per file read)."""
    names: set[str] | None = None
    cache: dict[str, bytes | None] = {}

    def read(relpath: str) -> bytes | None:
        nonlocal names
        if names is None:
            names = {p.partition("\t")[2] for p in split_z(git.run("ls-tree", "-r", "-z", commit))
                     if " blob " in p.partition("\t")[0]}
        if relpath not in names:
            return None
        if relpath not in cache:
            cache[relpath] = git.try_run("cat-file", "blob", f"{commit}:{relpath}")
        return cache[relpath]
    return read
