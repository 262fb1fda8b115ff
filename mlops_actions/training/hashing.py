"""Content hashes of repository files at O(changed) cost.

* Tracked and unmodified files: git's own blob id from the index or a tree (no file is read).
* git-LFS pointers: the LFS oid read from the (tiny) pointer blob.
* Modified or untracked files: ``git hash-object`` (the id the file will have once committed) or, for
  LFS-tracked paths, a streaming sha256 (= the LFS oid). Both are cached in the git directory, keyed by
  (path, size, mtime_ns, inode), so an untouched file is never read twice.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path

from mlops_actions.gitio import Git, read_batch, split_z

MISSING = "missing"
LFS_HEADER = b"version https://git-lfs.github.com/spec/v1\n"
LFS_POINTER_MAX = 1024
CHUNK = 1 << 20
CACHE_DIR = "mlops-actions"
HASH_CACHE = "hash-cache.json"
CACHE_FORMAT = 1
MAX_CACHE_ENTRIES = 100_000


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


def blob_hashes(git: Git, blobs: Mapping[str, tuple[str, int | None]]) -> dict[str, str]:
    """path -> hash for tracked blobs (path -> (oid, size or None)); LFS pointers become ``lfs:<oid>``."""
    sizes = _sizes(git, blobs)
    small = sorted({blobs[p][0] for p, size in sizes.items() if size <= LFS_POINTER_MAX})
    contents = _read_blobs(git, small)
    result = {}
    for path, (oid, _) in blobs.items():
        pointer = lfs_oid(contents.get(oid) or b"")
        result[path] = f"lfs:{pointer}" if pointer else f"git:{oid}"
    return result


def _sizes(git: Git, blobs: Mapping[str, tuple[str, int | None]]) -> dict[str, int]:
    unknown = sorted({oid for oid, size in blobs.values() if size is None})
    found: dict[str, int] = {}
    if unknown:
        out = git.run("cat-file", "--batch-check=%(objectname) %(objectsize)", stdin=_lines(unknown))
        for line in out.decode().splitlines():
            oid, _, size = line.partition(" ")
            if size.isdigit():
                found[oid] = int(size)
    return {p: size if size is not None else found.get(oid, LFS_POINTER_MAX + 1)
            for p, (oid, size) in blobs.items()}


def _read_blobs(git: Git, oids: list[str]) -> dict[str, bytes | None]:
    if not oids:
        return {}
    return read_batch(git.run("cat-file", "--batch", stdin=_lines(oids)), oids)


def _lines(items: Iterable[str]) -> bytes:
    return "".join(f"{i}\n" for i in items).encode("utf-8", "surrogateescape")


def tree_entries(git: Git, commit: str, paths: Iterable[str]) -> dict[str, tuple[str, int | None]]:
    """path -> (blob oid, size) of ``paths`` in ``commit`` (paths absent from the tree are left out)."""
    wanted = sorted(set(paths))
    if not wanted:
        return {}
    out = git.run("ls-tree", "-r", "-l", "-z", commit, "--", *wanted)
    entries: dict[str, tuple[str, int | None]] = {}
    for record in split_z(out):
        meta, _, path = record.partition("\t")
        _mode, kind, oid, size = meta.split()
        if kind == "blob" and path in wanted:
            entries[path] = (oid, int(size) if size.isdigit() else None)
    return entries


def tree_hashes(git: Git, commit: str, paths: Iterable[str]) -> dict[str, str]:
    """path -> hash of ``paths`` as committed in ``commit``; ``missing`` for paths not in it."""
    wanted = sorted(set(paths))
    hashes = blob_hashes(git, tree_entries(git, commit, wanted))
    return {p: hashes.get(p, MISSING) for p in wanted}


class WorktreeHasher:
    """Hashes of files as they are in the work tree, with the stat-keyed cache in the git directory."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self._cache_path: Path | None = None
        self._cache: dict[str, list[object]] | None = None
        self._dirty = False

    def hashes(self, paths: Iterable[str]) -> dict[str, str]:
        wanted = sorted(set(paths))
        if not wanted:
            return {}
        index = self.index_entries(wanted)
        changed = self.modified(sorted(index))
        result = blob_hashes(self.git, {p: (index[p], None) for p in index if p not in changed})
        result.update(self._hash_files([p for p in wanted if p not in result]))
        self.save()
        return result

    def index_entries(self, paths: list[str]) -> dict[str, str]:
        """path -> blob oid staged in the index (stage 0) for those of ``paths`` git tracks."""
        out = self.git.run("ls-files", "-s", "-z", "--", *paths)
        entries: dict[str, str] = {}
        wanted = set(paths)
        for record in split_z(out):
            meta, _, path = record.partition("\t")
            _mode, oid, stage = meta.split()
            if stage == "0" and path in wanted:
                entries[path] = oid
        return entries

    def modified(self, tracked: list[str]) -> set[str]:
        """Tracked paths whose work-tree file differs from the index (by git's stat check)."""
        if not tracked:
            return set()
        return set(split_z(self.git.run("diff-files", "--name-only", "-z", "--", *tracked)))

    def _hash_files(self, paths: list[str]) -> dict[str, str]:
        result: dict[str, str] = {}
        todo: dict[str, tuple[object, ...]] = {}
        for path in paths:
            key = _stat_key(self.git.root / path)
            cached = self._cached(path, key) if key else None
            if key is None:
                result[path] = MISSING
            elif cached is not None:
                result[path] = cached
            else:
                todo[path] = key
        for path, value in self._compute(sorted(todo)).items():
            result[path] = value
            self._remember(path, todo[path], value)
        return result

    def _compute(self, paths: list[str]) -> dict[str, str]:
        if not paths:
            return {}
        lfs = self._lfs_paths(paths)
        result = {p: f"lfs:{_file_sha256(self.git.root / p)}" for p in paths if p in lfs}
        plain = [p for p in paths if p not in lfs]
        if plain:
            out = self.git.run("hash-object", "--stdin-paths", stdin=_lines(plain)).decode().split()
            result.update({p: f"git:{oid}" for p, oid in zip(plain, out, strict=True)})
        return result

    def _lfs_paths(self, paths: list[str]) -> set[str]:
        out = list(split_z(self.git.run("check-attr", "-z", "filter", "--", *paths)))
        return {out[i] for i in range(0, len(out) - 2, 3) if out[i + 2] == "lfs"}

    # -- the stat-keyed cache ---------------------------------------------------------------------------

    def _load(self) -> dict[str, list[object]]:
        if self._cache is None:
            self._cache_path = self.git.git_path(f"{CACHE_DIR}/{HASH_CACHE}")
            self._cache = read_json_cache(self._cache_path, CACHE_FORMAT)  # type: ignore[assignment]
        return self._cache

    def _cached(self, path: str, key: tuple[object, ...]) -> str | None:
        entry = self._load().get(path)
        if entry and list(key) == entry[:-1]:
            return str(entry[-1])
        return None

    def _remember(self, path: str, key: tuple[object, ...], value: str) -> None:
        self._load()[path] = [*key, value]
        self._dirty = True

    def save(self) -> None:
        if not self._dirty or self._cache is None or self._cache_path is None:
            return
        entries = dict(list(self._cache.items())[-MAX_CACHE_ENTRIES:])
        write_json_atomic(self._cache_path, {"format": CACHE_FORMAT, "entries": entries})
        self._dirty = False


def _stat_key(path: Path) -> tuple[object, ...] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    if not path.is_file():
        return None
    return (st.st_size, st.st_mtime_ns, st.st_ino)


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


def read_json_cache(path: Path, fmt: int) -> dict[str, object]:
    """Entries of a JSON cache file written by ``write_json_atomic``; empty when absent or foreign."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("format") != fmt or not isinstance(data.get("entries"), dict):
        return {}
    entries: dict[str, object] = data["entries"]
    return entries


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON to ``path`` via a temporary file and rename; a cache that cannot be written is skipped."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
