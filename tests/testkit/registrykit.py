"""A registered version without training: tag the work tree's state with a valid record."""

from __future__ import annotations

import json
from pathlib import Path

from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.validation import load_valid
from mlops_actions.training.fingerprint import fingerprint_worktree
from testkit import git


def register(root: Path, number: int = 1, versions: dict[str, str] | None = None, model: str = "arrests",
             **extra: object) -> None:
    """Tag the work tree's state as ``<model>@v<number>`` with a valid record (what `register` will do)."""
    relpath = f"models/{model}/model.yaml"
    spec = ModelSpec.from_dict(load_valid(root, relpath, "model-spec") or {}, relpath)
    fp = fingerprint_worktree(root, spec, versions=versions)
    record = {"record_version": 1, "model": model, "version": f"v{number}", **fp.record_fields(),
              "artifact": {"file": "model.skops", "sha256": "b" * 64, "format": "skops"},
              "metrics": {"accuracy": 0.8}, **extra}
    git(root, "tag", "-a", f"{model}@v{number}", "-m", json.dumps(record))
