"""The repository code an exported model needs, checked against the version's record so that what serves the
model is the code that was reviewed: a command-trained model's loader (``train.loader``) with the files it
imports, or the repository modules a pipeline factory's fitted model holds types of (``build.modules``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlops_actions.convention.discovery import spec_relpath
from mlops_actions.errors import InputError, Place
from mlops_actions.mlflow_bridge.export import MLMODEL, ExportOptions, Loader, RepoModules
from mlops_actions.mlflow_bridge.source import ModelSource


def export_options(root: Path | None, source: ModelSource, allowed_prefixes: tuple[str, ...], *,
                   flavor: str = "auto", features: tuple[str, ...] = ()) -> ExportOptions:
    """What ``export_model`` needs besides the model: the policy's prefixes and the repository code."""
    return ExportOptions(allowed_prefixes, flavor=flavor, features=features,
                         loader=loader_of(root, source) if root is not None else None,
                         modules=modules_of(root, source) if root is not None else None)


def loader_of(root: Path, source: ModelSource) -> Loader | None:
    """A command-trained model's ``train.loader`` with its repository files, as the record names them.

    The spec is the work tree's; each file must have the git blob hash the version's record lists for it
    (the loader is part of the fingerprint), so that what serves the model is the code that was reviewed.
    """
    if source.artifact is not None or MLMODEL in (source.files or {}):
        return None  # a skops model, or a command model that saved its own MLflow model
    from mlops_actions.convention.validation import load_spec
    from mlops_actions.training.dependencies import dependencies, worktree_reader

    raw = load_spec(root, source.model).raw
    train = raw.get("train")
    ref = train.get("loader") if isinstance(train, Mapping) else None
    if not isinstance(ref, str):
        return None
    python = {ref.rpartition(":")[0], *dependencies({"train": {"loader": ref}}, worktree_reader(root)).files}
    missing = "the loader file {path} cannot be read"
    hint = "train.loader names path/to/file.py:function, a file of this repository"
    return Loader(ref, reviewed_files(root, source, sorted(python), place=Place(spec_relpath(source.model)),
                                      missing=missing, hint=hint))


def modules_of(root: Path, source: ModelSource) -> RepoModules | None:
    """The repository modules a pipeline factory's model was trained with (the record's ``build.modules``, the
    imports train traced) and their files at the record's git blobs: the classes they define are what the
    fitted pipeline may hold besides allowed libraries. None for other models."""
    build = source.record.get("build") or {}
    modules = tuple(sorted(str(m) for m in build.get("modules") or ()))
    if source.artifact is None or build.get("kind") != "pipeline" or not modules:
        return None
    from mlops_actions.convention.imports import module_name

    paths = sorted(p for p in (source.record.get("code") or {}) if p.endswith(".py") and module_name(p) in modules)
    missing = "the repository module {path} (imported by the pipeline factory) cannot be read"
    hint = "export from a clone of the repository holding the version's commit (fetch-depth: 0 in CI)"
    return RepoModules(modules, reviewed_files(root, source, paths, place=None, missing=missing, hint=hint))


def reviewed_files(root: Path, source: ModelSource, paths: Iterable[str], *, place: Place | None, missing: str,
                   hint: str) -> dict[str, bytes]:
    """Each repository file at the git blob the record lists: the work tree's when it is that blob, else the
    record's commit's (when the clone holds it); ``InputError`` otherwise."""
    from mlops_actions.convention.imports import worktree_reader

    read = worktree_reader(root)
    files: dict[str, bytes] = {}
    for path in paths:
        recorded = (source.record.get("code") or {}).get(path)
        if recorded is None:
            raise InputError(f"{source.label}: its version record does not list {path} (the loader or a file it "
                             "imports), so the code that would serve it was never part of its fingerprint",
                             hint="train the model again with train.loader in its spec (or export a version "
                                  "trained with it)")
        data = read(path)
        if data is None or _blob(data) != recorded:
            data = _at_commit(root, source, path, recorded) or data
        if data is None:
            raise InputError(missing.format(path=path), place=place, hint=hint)
        if _blob(data) != recorded:
            commit = _commit(source)
            where = f"its commit {commit[:12]} is not in this clone" if commit else "a training folder names no commit"
            raise InputError(f"{path} in the work tree is not the file {source.label} was trained with (git blob "
                             f"{_blob(data)[4:16]}, the record names {str(recorded)[4:16]}), and {where} to read "
                             "it from", hint=f"check out the version's commit ({commit[:12] or 'of its training'}) "
                                             "and export again")
        files[path] = data
    return files


def _blob(data: bytes) -> str:
    return "git:" + hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _commit(source: ModelSource) -> str:
    return str(source.record.get("commit") or "")


def _at_commit(root: Path, source: ModelSource, path: str, recorded: str) -> bytes | None:
    """``path`` as the record's commit holds it, when the clone has that commit and the blob is the record's."""
    from mlops_actions.gitio import Git

    commit = _commit(source)
    if not commit:
        return None
    data = Git(root).try_run("cat-file", "blob", f"{commit}:{path}")
    return data if data is not None and _blob(data) == recorded else None
