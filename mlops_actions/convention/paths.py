"""Paths a spec names, checked to stay inside the repository: no absolute path, no '..', nothing under
.git, no symbolic link on the way (git fingerprints a link's text, not its target)."""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath


def repo_path_problem(root: Path, relpath: str, *, must_exist: bool) -> str | None:
    """Why ``relpath`` is not a safe path inside the repository at ``root``, or None."""
    pure = PurePosixPath(relpath)
    if pure.is_absolute() or relpath.startswith("\\") or (len(relpath) > 1 and relpath[1] == ":"):
        return "absolute paths are not allowed; use a path relative to the repository root"
    if ".." in pure.parts:
        return "'..' is not allowed; the path must stay inside the repository"
    full = root / pure
    try:
        resolved = full.resolve()
        inside = resolved.relative_to(root.resolve())
    except ValueError:
        return "it resolves outside the repository (through a symlink); keep data inside the repository"
    except OSError as exc:
        return f"cannot resolve the path: {exc.strerror or exc}"
    except RuntimeError:  # Python < 3.13 raises this for a symlink loop
        return "it is a symbolic link that loops; point data.path at a real file"
    if inside.parts[:1] == (".git",):  # git's own files (a token in .git/config) are never data
        return "it is inside .git (git's own files, not the repository's); keep data in a tracked file"
    link = first_link(root, relpath)
    if link is not None:
        return link_refusal(link, root)
    if must_exist and not full.is_file():
        return "no such file in the repository (if it is stored with git LFS, run `git lfs pull`)"
    return None


def first_link(root: Path, relpath: str) -> str | None:
    """The first part of ``relpath`` (itself, or a folder on the way) that is a symbolic link, or None."""
    parts = [p for p in PurePosixPath(relpath).parts if p not in ("", ".")]
    for i in range(1, len(parts) + 1):
        prefix = "/".join(parts[:i])
        if (root / prefix).is_symlink():
            return prefix
    return None


def link_target(root: Path, link: str) -> str:
    try:
        return os.readlink(root / link)
    except OSError:
        return "?"


def link_refusal(link: str, root: Path) -> str:
    """Why a data or code path through a symbolic link is refused, and what to do instead."""
    target = link_target(root, link)
    return (f"it goes through the symbolic link {link!r} (-> {target!r}); links are refused because git stores "
            "and fingerprints a link's text, not the file it points to, so the data could change under an "
            "unchanged fingerprint. Commit the file itself at this path (git LFS for a large file), or name "
            "the target's path in the spec")
