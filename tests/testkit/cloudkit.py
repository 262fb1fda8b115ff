"""Object-storage data in the example spec: pin a URL with its sha256, run the CLI in process."""

from __future__ import annotations

import hashlib
from pathlib import Path

from mlops_actions.cli import main
from testkit import git

SPEC = "models/arrests/model.yaml"


def _pin(root: Path, url: str, data: bytes, version: str | None = None) -> str:
    spec = (root / SPEC).read_text()
    sha = hashlib.sha256(data).hexdigest()
    pinned = f"  url: {url}  # where the team keeps it\n  sha256: {sha}\n"
    pinned += f"  version_id: {version}  # the reviewed version\n" if version else ""
    (root / SPEC).write_text(spec.replace("  path: data/arrests.csv\n", pinned))
    git(root, "commit", "-qam", "data in S3")
    return sha


def _run(root: Path, *args: str, env: dict[str, str] | None = None) -> int:
    return main(["-C", str(root), *args], env=env)
