"""A registered version without training (tag the work tree's state with a valid record), and what a PR's
report records as reviewed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.validation import load_valid
from mlops_actions.training.fingerprint import fingerprint_worktree
from testkit import git

if TYPE_CHECKING:
    from mlops_actions.registry import evidence as ev


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


def reviewed(root: Path, results: str = "pr-out") -> dict[str, ev.Shown]:
    """The evidence the PR's report records: artifact, fingerprint and the digest of every number it shows
    (rendered as ``report --publish`` renders it: no deployment yet, so no baseline; the evidence holds no
    disparity intervals, so they are not computed)."""
    from mlops_actions.commands.publish import shown_models
    from mlops_actions.registry.assessment import ReportFindings, ReportOptions, build_reports

    models = build_reports(root, ReportOptions(results=root / results, disparity_intervals=False),
                           ReportFindings(deployed={}, deployments={}))
    return shown_models(root / results, models)
