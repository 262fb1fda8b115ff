"""A command-trained model's loader (``train.loader``) with the repository files it imports, checked against
the version's record so that what serves the model is the code that was reviewed."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from mlops_actions.convention.discovery import spec_relpath
from mlops_actions.errors import InputError, Place
from mlops_actions.mlflow_bridge.export import MLMODEL, Loader
from mlops_actions.mlflow_bridge.source import ModelSource


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
    read = worktree_reader(root)
    python = {ref.rpartition(":")[0], *dependencies({"train": {"loader": ref}}, read).files}
    files: dict[str, bytes] = {}
    for path in sorted(python):
        data = read(path)
        if data is None:
            raise InputError(f"the loader file {path} cannot be read", place=Place(spec_relpath(source.model)),
                             hint="train.loader names path/to/file.py:function, a file of this repository")
        _check_code(source, path, data)
        files[path] = data
    return Loader(ref, files)


def _check_code(source: ModelSource, path: str, data: bytes) -> None:
    recorded = (source.record.get("code") or {}).get(path)
    if recorded is None:
        raise InputError(f"{source.label}: its version record does not list {path} (the loader or a file it "
                         "imports), so the code that would serve it was never part of its fingerprint",
                         hint="train the model again with train.loader in its spec (or export a version trained "
                              "with it)")
    actual = "git:" + hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()
    if actual != recorded:
        raise InputError(f"{path} in the work tree is not the file {source.label} was trained with (git blob "
                         f"{actual[4:16]}, the record names {str(recorded)[4:16]})",
                         hint=f"check out the version's commit ({str(source.record.get('commit') or '?')[:12]}) "
                              "and export again")
