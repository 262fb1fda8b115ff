"""Hashes of data that is not one git file: DVC-tracked outputs and partitioned parquet datasets.

``fingerprint`` hashes every file a spec names through git (``hashing``); for a ``data.path`` this module
then says what the hash really is: ``dvc:<md5>`` when DVC tracks the path (see ``dvc``), ``parts:<sha256>``
when it is a folder or glob of parquet partitions (see ``partitions``). Neither reads data.
"""

from __future__ import annotations

from collections.abc import Iterable

from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git
from mlops_actions.repodata import dvc, partitions
from mlops_actions.repodata.hashing import MISSING, tree_hashes, worktree_hashes


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


def commit_hashes(git: Git, cache: RepoCache, commit: str, files: Iterable[str],
                  data: Iterable[str]) -> dict[str, str]:
    """``tree_hashes`` of ``files`` as committed in ``commit``, where those of the ``data`` paths that DVC tracks
    or that are partitioned datasets have their hashes from this module (DVC's data never listed by git); a data
    path that is no file there (missing) may be a folder of partitions."""
    wanted = sorted(set(data))
    tracked = dvc.tracked_at(git, cache, commit, wanted)
    result = tree_hashes(git, cache, commit, set(files) - tracked.keys())
    result.update({p: t.hash for p, t in tracked.items()})
    for path in wanted:
        if path in tracked or not (partitions.is_partitioned(path) or result.get(path, MISSING) == MISSING):
            continue
        parts = partitions.files_at(git, commit, path)
        if parts:
            result[path] = partitions.combined_hash(tree_hashes(git, cache, commit, parts))
    return result
