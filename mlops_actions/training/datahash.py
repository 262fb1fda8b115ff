"""Hashes of data that is not one git file: DVC-tracked outputs and partitioned parquet datasets.

``fingerprint`` hashes every file a spec names through git (``hashing``); for a ``data.path`` this module
then says what the hash really is: ``dvc:<md5>`` when DVC tracks the path (see ``dvc``), ``parts:<sha256>``
when it is a folder or glob of parquet partitions (see ``partitions``). Neither reads data.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git
from mlops_actions.training import dvc, partitions
from mlops_actions.training.hashing import MISSING, tree_hashes, worktree_hashes

DVC, PARTS = "dvc", "parts"


def worktree_overrides(git: Git, cache: RepoCache, paths: Iterable[str]) -> dict[str, str]:
    """Hashes of those data ``paths`` that DVC tracks or that are partitioned datasets, in the work tree."""
    wanted = sorted(set(paths))
    tracked = dvc.tracked_worktree(git.root, wanted, cache)
    result = {p: t.hash for p, t in tracked.items()}
    for path in wanted:
        if path not in tracked and partitions.is_partitioned(path, git.root):
            files = partitions.files_worktree(git.root, path)
            result[path] = partitions.combined_hash(worktree_hashes(git, cache, files)) if files else MISSING
    return result


def commit_overrides(git: Git, cache: RepoCache, commit: str, paths: Iterable[str],
                     hashes: Mapping[str, str]) -> dict[str, str]:
    """The same for ``commit``; a path that is no file there (``hashes`` says missing) may be a folder."""
    wanted = sorted(set(paths))
    tracked = dvc.tracked_at(git, cache, commit, wanted)
    result = {p: t.hash for p, t in tracked.items()}
    for path in wanted:
        if path in tracked or not (partitions.is_partitioned(path) or hashes.get(path, MISSING) == MISSING):
            continue
        files = partitions.files_at(git, commit, path)
        if files:
            result[path] = partitions.combined_hash(tree_hashes(git, cache, commit, files))
    return result


# -- the work tree's data for validate and train ---------------------------------------------------------------

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
    from mlops_actions.convention.semantic import repo_path_problem

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
