"""Data-driven case folders: ``<cases>/<name>/files`` overlays ``<cases>/_base``; ``expected.txt`` holds
``exit: N`` then one expected ``place: message fragment`` per line."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from testkit import CASES as ALL_CASES
from testkit import Ran, run_main

VALIDATE = ALL_CASES / "validate"


def case_names(cases: Path) -> list[str]:
    return sorted(p.name for p in cases.iterdir() if p.is_dir() and not p.name.startswith("_"))


def overlay_case(cases: Path, name: str, tmp_path: Path) -> Path:
    """A copy of the base repository with the case's files laid over it."""
    root = tmp_path / "repo"
    shutil.copytree(cases / "_base", root)
    overlay = cases / name / "files"
    if overlay.is_dir():
        shutil.copytree(overlay, root, dirs_exist_ok=True)
    return root


def expectations(cases: Path, name: str) -> tuple[int, list[str]]:
    lines = (cases / name / "expected.txt").read_text(encoding="utf-8").splitlines()
    return int(lines[0].removeprefix("exit:").strip()), [line for line in lines[1:] if line.strip()]


def build_case(name: str, tmp_path: Path) -> Path:
    """A validate case's repository (``tests/cases/validate/<name>``)."""
    return overlay_case(VALIDATE, name, tmp_path)


def run_validate(root: Path, *args: str, env: Mapping[str, str] | None = None) -> Ran:
    """``mlops-actions -C ROOT validate ARGS`` in this process."""
    return run_main("-C", str(root), "validate", *args, env=env)


def run_validate_process(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The same through the real console script in its own process (the smoke tests)."""
    script = Path(sys.executable).with_name("mlops-actions")
    return subprocess.run([str(script), "-C", str(root), "validate", *args], capture_output=True, text=True,
                          timeout=60)
