"""Data-driven case folders: ``<cases>/<name>/files`` overlays ``<cases>/_base``; ``expected.txt`` holds
``exit: N`` then one expected ``place: message fragment`` per line."""

from __future__ import annotations

import shutil
from pathlib import Path


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
