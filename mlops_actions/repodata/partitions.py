"""Partitioned parquet datasets: ``data.path`` names a folder (``data/sales/``) or a glob (``data/sales/*/*.parquet``).

The files are the ``*.parquet`` files under the folder (at any depth), or the files the glob matches (``*``
and ``?`` stay within a folder, ``**`` spans folders), leaving out hidden and bookkeeping files (names
starting with ``.`` or ``_``, such as Spark's ``_SUCCESS``). One matcher serves the work tree and a commit, so
``plan`` and ``train`` agree on the listing.

The dataset's hash is ``parts:<sha256>`` over its sorted listing, one ``<path>\\t<hash>\\n`` line per file,
each file's hash as for a single file (git blob id, LFS oid, or for a modified file the id it will have):
no file is read for a tracked, unmodified partition. Reading for training uses pyarrow's dataset reader with
hive partitioning (``year=2026/`` folders become a column), files in sorted order, so rows come in a
deterministic order.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path, PurePosixPath

from mlops_actions.gitio import Git, split_z

GLOB_CHARS = frozenset("*?[")
SUFFIX = ".parquet"


def is_glob(path: str) -> bool:
    return any(c in GLOB_CHARS for c in path)


def is_partitioned(path: str, root: Path | None = None) -> bool:
    """A glob, a path ending in ``/``, or (given ``root``) a folder of the work tree."""
    return is_glob(path) or path.endswith("/") or (root is not None and os.path.isdir(os.path.join(root, path)))


def base_folder(path: str) -> str:
    """The folder to list: the part of ``path`` before its first glob character ('' for the root)."""
    parts = []
    for part in PurePosixPath(path).parts:
        if is_glob(part):
            break
        parts.append(part)
    return "/".join(parts)


@cache
def matcher(path: str) -> re.Pattern[str]:
    """A regular expression for the repository paths ``path`` (folder or glob) stands for."""
    if not is_glob(path):
        folder = re.escape(path.rstrip("/"))
        return re.compile(rf"^{folder}/(?:[^/]+/)*[^/]+{re.escape(SUFFIX)}$")
    out = []
    i = 0
    while i < len(path):
        if path.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif path.startswith("**", i):
            out.append(".*")
            i += 2
        elif path[i] == "*":
            out.append("[^/]*")
            i += 1
        elif path[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(path[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def _visible(relpath: str) -> bool:
    return not any(part.startswith((".", "_")) for part in relpath.split("/"))


def select(path: str, candidates: Iterable[str]) -> list[str]:
    """Those repository paths ``path`` matches (no hidden or bookkeeping files), sorted."""
    pattern = matcher(path)
    return sorted(p for p in candidates if pattern.match(p) and _visible(p))


# -- listings ---------------------------------------------------------------------------------------------------

def files_worktree(root: Path, path: str) -> list[str]:
    """The work tree's files of the dataset ``path`` (repository-relative, sorted); never follows links out."""
    base = base_folder(path)
    top = root / base if base else root
    found: list[str] = []
    for folder, dirs, files in os.walk(top):
        rel = Path(folder).relative_to(root).as_posix()
        dirs[:] = sorted(d for d in dirs if not d.startswith((".", "_")) and not (Path(folder) / d).is_symlink())
        prefix = "" if rel == "." else f"{rel}/"
        found += [prefix + f for f in files if (Path(folder) / f).is_file() and not (Path(folder) / f).is_symlink()]
    return select(path, found)


def files_at(git: Git, commit: str, path: str) -> list[str]:
    """``commit``'s files of the dataset ``path`` (sorted)."""
    base = base_folder(path)
    out = git.run("ls-tree", "-r", "-z", "--name-only", commit, "--", base or ".")
    return select(path, split_z(out))


def combined_hash(hashes: Mapping[str, str]) -> str:
    """``parts:<sha256>`` of the sorted listing of (path, hash)."""
    listing = "".join(f"{p}\t{hashes[p]}\n" for p in sorted(hashes))
    return "parts:" + hashlib.sha256(listing.encode("utf-8", "surrogateescape")).hexdigest()
