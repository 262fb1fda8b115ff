"""A spec's ``data.path`` when it is not one plain file: DVC-tracked (``dvc``) or a folder or glob of
parquet partitions (``parts``), and why such a path is not usable. ``validate`` refuses what ``train`` would
refuse with this one check; neither reads data here.
"""

from __future__ import annotations

from pathlib import Path

from mlops_actions.convention.paths import repo_path_problem
from mlops_actions.repodata import dvc, partitions

DVC, PARTS = "dvc", "parts"


def local_kind(root: Path, path: str) -> str | None:
    """``dvc`` when DVC tracks ``path``, ``parts`` for a partitioned dataset, None for a plain file."""
    rel = repo_path_of(path)
    if rel is None:
        return None
    if dvc.tracked_worktree(root, [rel]):
        return DVC
    return PARTS if partitions.is_partitioned(path, root) else None


def check_local(root: Path, path: str, fmt: str) -> tuple[bool, str | None]:
    """(whether ``path`` is DVC-tracked or partitioned, and if so why it is not usable, or None)."""
    kind = local_kind(root, path)
    if kind is None:
        return False, None
    escape = repo_path_problem(root, partitions.base_folder(path) or ".", must_exist=False)
    if escape:
        return True, escape
    if kind == PARTS and fmt != "parquet":
        return True, "a folder or glob of files is read as parquet partitions; set data.format: parquet"
    if kind == PARTS and not partitions.files_worktree(root, path):
        return True, f"no parquet files match (a folder takes its *{partitions.SUFFIX} files at any depth)"
    return True, None


def repo_path_of(path: str) -> str | None:
    """``path`` in git's form (``a/b``), or None when it leaves the repository."""
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts or path.startswith(("/", "\\")):
        return None
    return "/".join(parts)
