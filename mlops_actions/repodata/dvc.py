"""Data tracked by DVC: ``data.path`` names a file (or folder) that a ``.dvc`` file or a ``dvc.lock`` output records.

The fingerprint takes DVC's own md5 from that small metadata file (``<path>.dvc`` beside the data, or the
``outs`` of a ``dvc.lock`` in the data's folder or any folder above it, paths relative to that folder), so
planning reads no data at all: O(1) per model, whatever the data's size. The hash is ``dvc:<md5>`` (a
tracked folder's md5 ends in ``.dir``, as DVC writes it).

In the job the data is fetched with ``dvc pull <target>`` of just that target (``mlops-actions fetch``), and
``train`` checks the file it reads against the recorded md5 (DVC 3 hashes a file's bytes as they are), so
a file changed without ``dvc add`` is refused rather than trained on under the old fingerprint.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path, PurePosixPath
from typing import Any

from mlops_actions.errors import InputError, Place
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git, read_batch
from mlops_actions.repodata.hashing import tree_entries

DVC_SUFFIX = ".dvc"
LOCK_FILE = "dvc.lock"
MAX_META_BYTES = 8 * 1024 * 1024
_MD5 = re.compile(r"^[0-9a-f]{32}(\.dir)?$")
_SIMPLE_OUT = re.compile(r"^-?\s*(md5|path|hash|size|nfiles):\s*(.*?)\s*$")


@dataclass(frozen=True)
class Tracked:
    """A DVC output: the data path (repository-relative), its md5, and the metadata file that records it."""

    path: str
    md5: str
    meta: str

    @property
    def hash(self) -> str:
        return f"dvc:{self.md5}"

    @property
    def target(self) -> str:
        """What to pass to ``dvc pull``: the ``.dvc`` file, or the output path of a ``dvc.lock`` stage."""
        return self.meta if self.meta.endswith(DVC_SUFFIX) else self.path


@lru_cache(maxsize=1 << 16)  # a plan asks for each of thousands of data paths four times
def candidates(path: str) -> tuple[str, ...]:
    """Metadata files that may record ``path``: ``<path>.dvc``, then ``dvc.lock`` from its folder up to the root."""
    path = path.rstrip("/")
    found = [path + DVC_SUFFIX]
    folder = path.rpartition("/")[0]
    while folder:
        found.append(f"{folder}/{LOCK_FILE}")
        folder = folder.rpartition("/")[0]
    found.append(LOCK_FILE)
    return tuple(found)


# -- parsing .dvc and dvc.lock ------------------------------------------------------------------------------

def parse_meta(meta: str, content: bytes) -> dict[str, str]:
    """Output path (repository-relative) -> md5 recorded in the ``.dvc`` or ``dvc.lock`` file ``meta``."""
    if len(content) > MAX_META_BYTES or b"outs:" not in content:  # a dvc.lock of deps only records no data
        return {}
    data = _load_yaml(content)
    outs = _outs(data, meta.endswith(DVC_SUFFIX))
    base = PurePosixPath(meta).parent
    result = {}
    for out in outs:
        md5 = out.get("md5")
        path = out.get("path")
        if isinstance(md5, str) and _MD5.match(md5) and isinstance(path, str) and path:
            result[_join(base, path)] = md5
    return result


def _outs(data: Any, single: bool) -> list[Mapping[str, Any]]:
    if not isinstance(data, Mapping):
        return []
    if single:
        outs = data.get("outs")
        return [o for o in outs if isinstance(o, Mapping)] if isinstance(outs, list) else []
    stages = data.get("stages")
    found: list[Mapping[str, Any]] = []
    for stage in stages.values() if isinstance(stages, Mapping) else ():
        outs = stage.get("outs") if isinstance(stage, Mapping) else None
        found += [o for o in outs if isinstance(o, Mapping)] if isinstance(outs, list) else []
    return found


def _load_yaml(content: bytes) -> Any:
    fast = _simple_dvc_file(content)
    if fast is not None:
        return fast
    if content.lstrip().startswith(b"{"):  # JSON is YAML: the fast parser first
        try:
            return json.loads(content)
        except ValueError:
            pass
    from ruamel.yaml import YAML, YAMLError

    try:
        return YAML(typ="safe").load(content.decode("utf-8"))  # libyaml (ruamel.yaml.clib) when installed
    except (YAMLError, UnicodeDecodeError, ValueError):
        return None


def _simple_dvc_file(content: bytes) -> dict[str, Any] | None:
    """The common ``.dvc`` layout DVC writes (``outs:`` then ``- md5: …`` / ``path: …``) without a YAML parser."""
    lines = content.decode("utf-8", "replace").splitlines()
    if not lines or lines[0].strip() != "outs:":
        return None
    outs: list[dict[str, str]] = []
    for line in lines[1:]:
        match = _SIMPLE_OUT.match(line)
        if match is None or (line[:1] not in ("-", " ")):
            return None  # anything else (deps, meta, quoting): the real parser
        if line.startswith("-"):
            outs.append({})
        if not outs or any(c in match.group(2) for c in "\"'#{}[]&*!|>"):
            return None
        outs[-1][match.group(1)] = match.group(2)
    return {"outs": outs}


def _join(base: PurePosixPath, path: str) -> str:
    parts: list[str] = []
    for part in (*base.parts, *PurePosixPath(path).parts):
        if part == "..":
            if parts:
                parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return "/".join(parts)


def _find(path: str, metas: Mapping[str, Mapping[str, str]]) -> Tracked | None:
    key = path.rstrip("/")
    for meta in candidates(path):
        md5 = metas.get(meta, {}).get(key)
        if md5 is not None:
            return Tracked(key, md5, meta)
    return None


# -- reading the metadata: work tree or commit --------------------------------------------------------------

def tracked_worktree(root: Path, paths: Iterable[str], cache: RepoCache | None = None) -> dict[str, Tracked]:
    """Those of ``paths`` that DVC tracks, as the work tree's metadata files say (with ``cache``, a file's
    parse is remembered across runs by its stat, as hashed files are: 5,000 .dvc files are 5,000 stats)."""
    metas: dict[str, dict[str, str]] = {}
    top = str(root).rstrip("/") + "/"  # metadata paths are relative, in git's form: os.path.join's checks cost more
    for meta in sorted({m for p in paths for m in candidates(p)}):
        parsed = _parsed_file(top + meta, meta, cache)
        if parsed is not None:
            metas[meta] = parsed
    return {p: t for p in paths if (t := _find(p, metas)) is not None}


_PARSED: dict[tuple[str, int, int, int], dict[str, str]] = {}
FILES_SECTION = "dvc-files"  # cache section: metadata path -> [size, mtime_ns, inode, parse_meta of it]


def _parsed_file(file: str, meta: str, cache: RepoCache | None = None) -> dict[str, str] | None:
    """``parse_meta`` of a work-tree file, remembered by (path, size, mtime, inode): a dvc.lock of thousands of
    stages is parsed once per process, not once per model."""
    try:
        st = os.stat(file)
    except OSError:
        return None
    key = (file, st.st_size, st.st_mtime_ns, st.st_ino)
    if key not in _PARSED:
        if len(_PARSED) > 10_000:
            _PARSED.clear()
        stat = [st.st_size, st.st_mtime_ns, st.st_ino]
        found = _remembered(cache, meta, stat) if cache is not None else None
        if found is None:
            found = parse_meta(meta, Path(file).read_bytes()) if os.path.isfile(file) else {}
            if cache is not None:
                cache.put(FILES_SECTION, meta, [*stat, found])
        _PARSED[key] = found
    return _PARSED[key]


def _remembered(cache: RepoCache, meta: str, stat: list[int]) -> dict[str, str] | None:
    entry = cache.get(FILES_SECTION, meta)
    if isinstance(entry, list) and len(entry) == 4 and entry[:3] == stat and isinstance(entry[3], dict):
        return entry[3]
    return None


def tracked_at(git: Git, cache: RepoCache, commit: str, paths: Iterable[str]) -> dict[str, Tracked]:
    """Those of ``paths`` that DVC tracks, as ``commit``'s metadata files say (parsed once per blob id)."""
    wanted = list(paths)
    blobs = tree_entries(git, commit, {m for p in wanted for m in candidates(p)})
    unknown = sorted({oid for oid in blobs.values() if cache.get("dvc", oid) is None})
    if unknown:
        raw = read_batch(git.run("cat-file", "--batch", stdin="".join(f"{o}\n" for o in unknown).encode()), unknown)
        meta_of = {oid: meta for meta, oid in blobs.items()}
        for oid in unknown:
            cache.put("dvc", oid, parse_meta(meta_of[oid], raw.get(oid) or b""))
    metas = {meta: cache.get("dvc", oid) or {} for meta, oid in blobs.items()}
    return {p: t for p in wanted if (t := _find(p, metas)) is not None}


# -- in the job: pull and check ------------------------------------------------------------------------------

def md5_file(path: Path) -> str:
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 22), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_pulled(root: Path, tracked: Tracked, place: Place) -> None:
    """Refuse a DVC-tracked file that is not in the work tree, or whose bytes are not the recorded ones."""
    file = root / tracked.path
    if tracked.md5.endswith(".dir"):
        if not file.is_dir():
            raise InputError(f"{tracked.path} is tracked by DVC ({tracked.meta}) but was not pulled", place=place,
                             hint=f"run `dvc pull {tracked.target}` (in the workflows: the `dvc` input)")
        return
    if not file.is_file():
        raise InputError(f"{tracked.path} is tracked by DVC ({tracked.meta}) but was not pulled", place=place,
                         hint=f"run `dvc pull {tracked.target}` (in the workflows: the `dvc` input)")
    if md5_file(file) != tracked.md5:
        raise InputError(f"{tracked.path} differs from the version {tracked.meta} records (md5 {tracked.md5})",
                         place=place, hint=f"run `dvc add {tracked.path}` to record the new data, or "
                                           f"`dvc checkout {tracked.target}` to restore the recorded one")


def pull(root: Path, tracked: Tracked, dvc: str = "dvc") -> str:
    """``dvc pull <target>`` of just this output; its output on success, an ``InputError`` otherwise."""
    try:
        done = subprocess.run([dvc, "pull", "--", tracked.target], cwd=root, capture_output=True, text=True,
                              timeout=6 * 3600, check=False)
    except FileNotFoundError:
        raise InputError(f"{tracked.path} is tracked by DVC, and the `dvc` command is not installed",
                         hint="install DVC with the remote's extra (e.g. pip install 'dvc[s3]'); in the "
                              "workflows set the `dvc` input") from None
    if done.returncode != 0:
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise InputError(f"`dvc pull {tracked.target}` failed (exit {done.returncode}): {tail}",
                         hint="check the DVC remote and its credentials (see `dvc remote list`)")
    return done.stdout
