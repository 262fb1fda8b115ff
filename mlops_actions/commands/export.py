"""``mlops-actions export MODEL@vN|MODEL@ENV|PATH --format mlflow --out DIR``: a version as an MLflow model.

``mlflow_bridge.exporting`` fetches, verifies and writes (``serve`` and ``ship`` export through it too); this
command prints what was written.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.errors import EXIT_OK
from mlops_actions.mlflow_bridge.exporting import export_to

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

FORMATS = ("mlflow",)


def export(root: Path, target: str, *, out: Path, gh: GitHubPort | None = None, cwd: Path | None = None,
           flavor: str = "auto") -> int:
    """Export the model ``target`` names into ``out`` (new or empty); prints what was written."""
    exported = export_to(root, target, out=out, gh=gh, cwd=cwd, flavor=flavor)
    print(f"exported {exported.source.label} -> {exported.result.path} (MLflow model, flavor "
          f"{exported.result.flavor}; artifact sha256 {exported.source.sha256})")
    for note in exported.result.notes:
        print(f"note: {note}", file=sys.stderr)
    return EXIT_OK
