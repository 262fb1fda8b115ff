"""``mlops-actions export MODEL@vN|MODEL@ENV|PATH --format mlflow --out DIR``: a version as an MLflow model.

The version's artifact comes from its GitHub Release (refused unless its sha256 is the record's), or from a
training folder; ``mlflow_bridge.export`` writes the MLflow model directory (see there for what it holds).
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.convention.discovery import spec_relpath
from mlops_actions.errors import EXIT_OK, InputError, Place
from mlops_actions.mlflow_bridge import require_mlflow_installed
from mlops_actions.mlflow_bridge.export import MLMODEL, Exported, ExportOptions, Loader, check_out_dir, export_model
from mlops_actions.mlflow_bridge.source import ModelSource, parse_target, resolve

FORMATS = ("mlflow",)


def export(root: Path, target: str, *, out: Path, gh: Any = None, cwd: Path | None = None,
           flavor: str = "auto") -> int:
    """Export the model ``target`` names into ``out`` (new or empty); prints what was written."""
    exported = export_to(root, target, out=out, gh=gh, cwd=cwd, flavor=flavor)
    print(f"exported {exported.source.label} -> {exported.result.path} (MLflow model, flavor "
          f"{exported.result.flavor}; artifact sha256 {exported.source.sha256})")
    for note in exported.result.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK


@dataclass(frozen=True)
class ExportRun:
    """What one export read and wrote (the serve and ship commands build on it)."""

    source: ModelSource
    result: Exported


def export_to(root: Path, target: str, *, out: Path, gh: Any = None, cwd: Path | None = None,
              flavor: str = "auto") -> ExportRun:
    """Check the destination and MLflow first, then fetch and verify, then write: a failure writes nothing."""
    from mlops_actions.convention.validation import load_policy
    from mlops_actions.mlflow_bridge.heldout import HeldOut, held_out

    parsed = parse_target(target, cwd or Path.cwd())
    check_out_dir(out)
    require_mlflow_installed("export --format mlflow")
    source = resolve(root, parsed, gh)
    own = MLMODEL in (source.files or {})  # the command saved its own MLflow model: copied as it is
    examples = HeldOut(None) if own else held_out(root, source.model, source.record)
    options = ExportOptions(load_policy(root).allowed_prefixes, flavor=flavor, loader=loader_of(root, source),
                            features=_features(root, source.model))
    return ExportRun(source, export_model(source, out, examples, options))


def _features(root: Path, model: str) -> tuple[str, ...]:
    """The work tree spec's features (used only when the held-out rows cannot be rebuilt)."""
    from mlops_actions.convention.validation import load_spec
    from mlops_actions.errors import MlopsError

    try:
        return tuple(str(f) for f in (load_spec(root, model).raw.get("data", {}).get("features") or {}))
    except (MlopsError, AttributeError):
        return ()


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
