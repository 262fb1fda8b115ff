"""The held-out rows' features of a trained model: its input example, and what tests send to a server.

They are rebuilt exactly as ``train`` split them (the spec's seed and fraction), from the spec and data the
record names: the work tree when its spec and data hashes are the record's, else the record's commit in a
temporary worktree. The frame holds the model's features only: a sensitive column appears only when it is
a feature too.
"""

from __future__ import annotations

import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.errors import MlopsError


@dataclass(frozen=True)
class HeldOut:
    """The held-out feature rows (a DataFrame, in split order), or why they could not be rebuilt."""

    frame: Any | None
    problem: str | None = None
    pos_label: str | None = None  # the positive class as training resolved it (a threshold applies to it)
    classes: tuple[str, ...] = ()  # the target's classes, sorted (the order a command's probabilities use)


def _matches(tree: Path, model: str, record: Mapping[str, Any]) -> bool:
    from mlops_actions.convention.validation import load_spec
    from mlops_actions.training.fingerprint import fingerprint_worktree

    fields = fingerprint_worktree(tree, load_spec(tree, model)).record_fields()
    return fields["spec_sha256"] == record.get("spec_sha256") and \
        [d["hash"] for d in fields["data"]] == [d.get("hash") for d in record.get("data") or ()]


def _rows(tree: Path, model: str) -> HeldOut:
    from mlops_actions.convention.validation import load_spec
    from mlops_actions.training.data import load_dataset
    from mlops_actions.training.spec_places import SpecPlaces
    from mlops_actions.training.split import split_rows

    spec = load_spec(tree, model)
    places = SpecPlaces.load(tree, spec.spec_path)
    dataset = load_dataset(tree, spec, places)
    frame = dataset.X.iloc[split_rows(dataset, spec, places).test].reset_index(drop=True)
    return HeldOut(frame, pos_label=dataset.pos_label, classes=tuple(map(str, dataset.classes)))


def held_out(root: Path, model: str, record: Mapping[str, Any]) -> HeldOut:
    """The held-out features of the training ``record`` describes (see the module docstring)."""
    from mlops_actions.evaluation.base_training import worktree
    from mlops_actions.gitio import Git

    try:
        if _matches(root, model, record):
            return _rows(root, model)
        commit = str(record.get("commit") or "")
        if not commit or Git(root).commit_of(commit) is None:
            return HeldOut(None, "the work tree's spec or data differ from the record's, and the record's commit "
                                 "is not in this clone")
        with tempfile.TemporaryDirectory(prefix="mlops-heldout-") as scratch, \
                worktree(root, commit, Path(scratch) / "tree") as tree:
            if not _matches(tree, model, record):
                return HeldOut(None, f"the spec or data at {commit[:12]} differ from the record's")
            return _rows(tree, model)
    except MlopsError as exc:
        return HeldOut(None, exc.message)
