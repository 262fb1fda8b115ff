"""Content hashes of repository files at O(changed) cost.

* Tracked and unmodified files: git's own blob id from the index or a tree (no file is read).
* git-LFS pointers: the LFS oid read from the (tiny) pointer blob; which blob ids are pointers is cached.
* Modified or untracked files: ``git hash-object`` (the id the file will have once committed) or, for
  LFS-tracked paths, a streaming sha256 (= the LFS oid), cached by (path, size, mtime_ns, inode).

The caches live in ``.git/mlops-actions/cache.json`` (see ``gitcache``), never in the work tree.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git, read_batch, split_z
from mlops_actions.lfs import LFS_HEADER, LFS_POINTER_MAX

MISSING = "missing"
LINKED = "symlink"  # the path is, or goes through, a symbolic link: refused (see convention.semantic)
CHUNK = 1 << 20
MAX_PATHSPEC_DIRS = 64


# -- git listings, limited to the folders that hold the wanted paths ------------------------------------

def pathspec(paths: Iterable[str]) -> list[str]:
    """Few folder pathspecs covering ``paths`` (cheap for git to match), or the paths themselves."""
    wanted = sorted(set(paths))
    for level in (_parent, _top):
        dirs = sorted({level(p) for p in wanted})
        if len(dirs) <= MAX_PATHSPEC_DIRS:
            return dirs
    return wanted


def _parent(path: str) -> str:
    return path.rpartition("/")[0] or "."


def _top(path: str) -> str:
    return path.partition("/")[0] if "/" in path else "."


def index_entries(git: Git, paths: Iterable[str], links: set[str] | None = None) -> dict[str, str]:
    """path -> blob oid staged in the index (stage 0) for those of ``paths`` git tracks; those staged as
    symbolic links (mode 120000) are also added to ``links`` when given."""
    wanted = set(paths)
    if not wanted:
        return {}
    entries: dict[str, str] = {}
    for record in split_z(git.run("ls-files", "-s", "-z", "--", *pathspec(wanted))):
        meta, _, path = record.partition("\t")
        mode, oid, stage = meta.split()
        if stage == "0" and path in wanted:
            entries[path] = oid
            if links is not None and mode == "120000":
                links.add(path)
    return entries


def modified(git: Git, paths: Iterable[str]) -> set[str]:
    """Those of the tracked ``paths`` whose work-tree file differs from the index (git's stat check)."""
    wanted = set(paths)
    if not wanted:
        return set()
    return set(split_z(git.run("diff-files", "--name-only", "-z", "--", *pathspec(wanted)))) & wanted


def tree_entries(git: Git, commit: str, paths: Iterable[str]) -> dict[str, str]:
    """path -> blob oid of ``paths`` in ``commit`` (paths absent from the tree are left out)."""
    wanted = set(paths)
    if not wanted:
        return {}
    entries: dict[str, str] = {}
    for record in split_z(git.run("ls-tree", "-r", "-z", commit, "--", *pathspec(wanted))):
        meta, _, path = record.partition("\t")
        _mode, kind, oid = meta.split()
        if kind == "blob" and path in wanted:
            entries[path] = oid
    return entries


# -- hashes of blobs (LFS pointers resolved) ------------------------------------------------------------

def lfs_oid(content: bytes) -> str | None:
    """The sha256 oid of a git-LFS pointer file's content, or None when it is not a pointer."""
    if not content.startswith(LFS_HEADER) or len(content) > LFS_POINTER_MAX:
        return None
    for line in content.decode("utf-8", "replace").splitlines():
        if line.startswith("oid sha256:"):
            oid = line.removeprefix("oid sha256:").strip()
            if len(oid) == 64 and all(c in "0123456789abcdef" for c in oid):
                return oid
    return None


def blob_hashes(git: Git, cache: RepoCache, blobs: Mapping[str, str]) -> dict[str, str]:
    """path -> ``git:<oid>``, or ``lfs:<oid>`` when the blob is an LFS pointer, for path -> blob oid."""
    unknown = sorted({oid for oid in blobs.values() if cache.get("blobs", oid) is None})
    for oid, pointer in _lfs_pointers(git, unknown).items():
        cache.put("blobs", oid, pointer or "")
    result = {}
    for path, oid in blobs.items():
        pointer = cache.get("blobs", oid)
        result[path] = f"lfs:{pointer}" if pointer else f"git:{oid}"
    return result


def _lfs_pointers(git: Git, oids: list[str]) -> dict[str, str | None]:
    """oid -> LFS oid when the blob is a pointer, else None; only small blobs are read."""
    if not oids:
        return {}
    out = git.run("cat-file", "--batch-check=%(objectname) %(objectsize)", stdin=_lines(oids))
    sizes = dict(line.split(" ", 1) for line in out.decode().splitlines() if " " in line)
    small = [o for o in oids if sizes.get(o, "").isdigit() and int(sizes[o]) <= LFS_POINTER_MAX]
    contents = read_batch(git.run("cat-file", "--batch", stdin=_lines(small)), small) if small else {}
    return {o: lfs_oid(contents.get(o) or b"") for o in oids}


def _lines(items: Iterable[str]) -> bytes:
    return "".join(f"{i}\n" for i in items).encode("utf-8", "surrogateescape")


def tree_hashes(git: Git, cache: RepoCache, commit: str, paths: Iterable[str]) -> dict[str, str]:
    """path -> hash of ``paths`` as committed in ``commit``; ``missing`` for paths not in it, ``symlink``
    for paths that are or go through a symbolic link (git's blob of a link is its text, not the data)."""
    wanted = sorted(set(paths))
    hashes = blob_hashes(git, cache, tree_entries(git, commit, wanted))
    linked = _linked_in_tree(git, commit, wanted)
    return {p: LINKED if p in linked else hashes.get(p, MISSING) for p in wanted}


def worktree_hashes(git: Git, cache: RepoCache, paths: Iterable[str]) -> dict[str, str]:
    """path -> hash of ``paths`` as they are in the work tree; ``missing`` for absent files, ``symlink`` for
    paths that are or go through a symbolic link."""
    wanted = sorted(set(paths))
    links: set[str] = set()
    index = index_entries(git, wanted, links)
    changed = modified(git, index)
    linked = unvouched_links(git.root, wanted, index, changed | links)
    result = blob_hashes(git, cache, {p: oid for p, oid in index.items() if p not in changed and p not in linked})
    result.update(_file_hashes(git, cache, [p for p in wanted if p not in result and p not in linked]))
    return {**result, **dict.fromkeys(linked, LINKED)}


def unvouched_links(root: Path, paths: Iterable[str], index: Mapping[str, str], doubtful: set[str]) -> set[str]:
    """``linked_paths`` of ``paths``, checked only where git does not vouch for them: a path staged as a regular
    file that git's stat check (``modified``) finds unchanged is no link and goes through none (git reports a
    file whose folder became a link, or that became one itself, as changed). ``doubtful``: the changed paths
    and those staged as links; untracked paths are checked too."""
    return linked_paths(root, [p for p in paths if p not in index or p in doubtful])


def is_linked(root: Path, path: str) -> bool:
    """Whether the work tree's ``path`` is, or goes through, a symbolic link."""
    return any((root / prefix).is_symlink() for prefix in _prefixes(path))


def linked_paths(root: Path, paths: Iterable[str]) -> set[str]:
    """Those of ``paths`` that are, or go through, a symbolic link: each folder on the way checked once (5,000
    data files under ``data/`` are 5,001 lstat calls, not 10,000 pathlib ones)."""
    wanted = list(paths)
    top = str(root)
    prefixes = {q for p in wanted for q in _prefixes(p)}
    links = {prefix for prefix in prefixes if os.path.islink(os.path.join(top, prefix))}
    return {p for p in wanted if any(q in links for q in _prefixes(p))} if links else set()


def _prefixes(path: str) -> list[str]:
    """``a``, ``a/b``, ``a/b/c.csv`` for ``a/b/c.csv``: the path and every folder on the way to it."""
    parts = path.split("/")
    return ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]


def _linked_in_tree(git: Git, commit: str, paths: list[str]) -> set[str]:
    """Those of ``paths`` that are, or go through, a symbolic link (mode 120000) in ``commit``."""
    prefixes = sorted({prefix for p in paths for prefix in _prefixes(p)})
    if not prefixes:
        return set()
    links = set()
    for record in split_z(git.run("ls-tree", "-z", commit, "--", *prefixes)):
        meta, _, path = record.partition("\t")
        if meta.startswith("120000 "):
            links.add(path)
    return {p for p in paths if any(prefix in links for prefix in _prefixes(p))}


# -- files git does not vouch for (modified or untracked) ------------------------------------------------

def _file_hashes(git: Git, cache: RepoCache, paths: list[str]) -> dict[str, str]:
    result: dict[str, str] = {}
    todo: dict[str, list[int]] = {}
    for path in paths:
        key = _stat_key(git.root / path)
        entry = cache.get("files", path) if key else None
        if key is None:
            result[path] = MISSING
        elif isinstance(entry, list) and entry[:-1] == key:
            result[path] = str(entry[-1])
        else:
            todo[path] = key
    for path, value in _compute(git, sorted(todo)).items():
        result[path] = value
        cache.put("files", path, [*todo[path], value])
    return result


def _compute(git: Git, paths: list[str]) -> dict[str, str]:
    if not paths:
        return {}
    lfs = _lfs_paths(git, paths)
    result = {p: f"lfs:{_file_sha256(git.root / p)}" for p in paths if p in lfs}
    plain = [p for p in paths if p not in lfs]
    if plain:
        out = git.run("hash-object", "--stdin-paths", stdin=_lines(plain)).decode().split()
        result.update({p: f"git:{oid}" for p, oid in zip(plain, out, strict=True)})
    return result


def _lfs_paths(git: Git, paths: list[str]) -> set[str]:
    out = list(split_z(git.run("check-attr", "-z", "filter", "--", *paths)))
    return {out[i] for i in range(0, len(out) - 2, 3) if out[i + 2] == "lfs"}


def _stat_key(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ino]


def _file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        head = fh.read(LFS_POINTER_MAX + 1)
        pointer = lfs_oid(head)
        if pointer and len(head) <= LFS_POINTER_MAX:
            return pointer  # the work tree holds the pointer itself (LFS objects not pulled)
        digest.update(head)
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
