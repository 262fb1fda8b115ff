"""One version (or training folder) exported as an MLflow model: what ``export``, ``serve`` and ``ship`` share.

The version's artifact comes from its GitHub Release (refused unless its sha256 is the record's), or from a
training folder; ``mlflow_bridge.export`` writes the MLflow model directory (see there for what it holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.mlflow_bridge import require_mlflow_installed
from mlops_actions.mlflow_bridge.export import MLMODEL, Exported, ExportOptions, check_out_dir, export_model
from mlops_actions.mlflow_bridge.loading import loader_of
from mlops_actions.mlflow_bridge.source import ModelSource, parse_target, resolve

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort


@dataclass(frozen=True)
class ExportRun:
    """What one export read and wrote (the serve and ship commands build on it)."""

    source: ModelSource
    result: Exported


def export_to(root: Path, target: str, *, out: Path, gh: GitHubPort | None = None, cwd: Path | None = None,
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
