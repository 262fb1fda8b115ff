"""The reference of a monitor run: the exact data the version deployed in an environment was trained on.

``environments/<env>.yaml`` names the version; the annotated tag ``<model>@v<N>`` holds its record; the
record's data hash names the bytes: ``git:<blob id>`` is read from the object store with
``git cat-file blob`` (so the reference is what was trained on, even when the file changed since),
``lfs:<oid>`` from the local LFS store, ``sha256:<hex>`` from the working tree when its bytes still match
(for data pinned by URL: from the local cache ``.mlops/cache/data/<sha256>``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from types import MappingProxyType
from typing import Any

from mlops_actions.convention.discovery import ENVIRONMENTS_DIR
from mlops_actions.convention.names import is_environment_name
from mlops_actions.convention.schemas import ENVIRONMENT
from mlops_actions.convention.validation import load_valid
from mlops_actions.errors import GitError, InputError
from mlops_actions.gitio import Git
from mlops_actions.monitoring.data import FORMATS

_HASH = re.compile(r"^(git|lfs|sha256):([0-9a-f]{40,64})$")


@dataclass(frozen=True)
class Reference:
    """Reference bytes, their format, where they came from, and the version record (when looked up)."""

    data: bytes
    fmt: str
    description: str
    version: str | None = None
    record: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


def deployed_version(root: Path, env: str, model: str) -> str:
    """``v<N>`` of ``model`` in ``environments/<env>.yaml``; a clear error when it was never deployed there."""
    relpath = f"{ENVIRONMENTS_DIR}/{env}.yaml"
    if not is_environment_name(env) or not (root / relpath).is_file():
        raise InputError(f"no environment '{env}': {relpath} does not exist",
                         hint=f"environments are the files {ENVIRONMENTS_DIR}/<env>.yaml; pass --env NAME")
    data = load_valid(root, relpath, ENVIRONMENT)
    if data is None:
        raise InputError(f"{relpath} is not a valid environment file",
                         hint=f"run `mlops-actions validate {relpath}` to see why")
    if model not in data:
        raise InputError(f"model '{model}' was never deployed in '{env}' ({relpath} has no entry for it)",
                         hint="deploy a version first, or compare against a file with --reference PATH")
    return str(data[model])


def find_reference(root: Path, model: str, env: str, data_format: str) -> Reference:
    """The training data of the version of ``model`` deployed in ``env``, byte for byte."""
    version = deployed_version(root, env, model)
    record = _record(root, model, version)
    entry = _data_entry(record, model, version)
    raw = load_bytes(root, entry["path"], entry["hash"], f"{model}@{version}")
    fmt = FORMATS.get(PurePosixPath(entry["path"]).suffix.lower(), data_format)
    text = f"{entry['path']} as trained for {model}@{version} ({entry['hash'][:16]})"
    return Reference(raw, fmt, text, version, record)


def _record(root: Path, model: str, version: str) -> Mapping[str, Any]:
    from mlops_actions.registry.records import local_versions

    number = int(version[1:])
    found = [v for v in local_versions(root, model) if v.number == number]
    if not found:
        raise InputError(f"{model}@{version} is deployed but its tag is not in this clone",
                         hint="fetch the tags (actions/checkout with fetch-depth: 0, or git fetch --tags)")
    if found[0].record is None:
        raise InputError(f"{model}@{version}: the tag has no usable version record: {found[0].problem}",
                         hint="versions are the annotated tags `mlops-actions register` creates; compare against "
                              "a data file with --reference PATH meanwhile")
    return found[0].record


def _data_entry(record: Mapping[str, Any], model: str, version: str) -> Mapping[str, str]:
    entries = list(record.get("data", ()))
    if len(entries) != 1:
        raise InputError(f"{model}@{version}: the record lists {len(entries)} data files; the monitor needs "
                         "exactly one", hint="compare against a file with --reference PATH")
    return entries[0]


def load_bytes(root: Path, path: str, content_hash: str, label: str) -> bytes:
    """The bytes a recorded hash names: a git blob, an LFS object, or a working-tree file that still matches."""
    if content_hash.startswith(("dvc:", "parts:")):
        return _outside_git(root, path, content_hash, label)
    match = _HASH.match(content_hash)
    if match is None:
        raise InputError(f"{label}: unknown data hash '{content_hash}' in the record")
    kind, digest = match.groups()
    if kind == "git":
        return _git_blob(root, digest, path, label)
    if kind == "lfs":
        return _lfs_object(root, digest, path, label)
    return _working_file(root, digest, path, label)


def _outside_git(root: Path, path: str, content_hash: str, label: str) -> bytes:
    """DVC-tracked training data from DVC's local cache (or the work tree when it still matches)."""
    kind, _, digest = content_hash.partition(":")
    if kind == "dvc" and re.fullmatch(r"[0-9a-f]{32}", digest):
        cache = root / ".dvc" / "cache"
        for candidate in (cache / "files" / "md5" / digest[:2] / digest[2:], cache / digest[:2] / digest[2:],
                          root / path):
            raw = candidate.read_bytes() if candidate.is_file() and _inside(root, candidate) else None
            if raw is not None and hashlib.md5(raw, usedforsecurity=False).hexdigest() == digest:
                return raw
        raise InputError(f"{label}: the training data {path} (DVC md5 {digest[:12]}) is not in DVC's local cache",
                         hint=f"fetch it with `dvc fetch` at the version's commit (or `dvc pull {path}` when it is "
                              "still current), or compare against a file with --reference PATH")
    raise InputError(f"{label}: the training data {path} is a partitioned dataset ({content_hash[:20]}…); the "
                     "monitor compares one table", hint="compare against a file with --reference PATH "
                                                        "(e.g. the partitions written as one Parquet file)")


def _inside(root: Path, candidate: Path) -> bool:
    try:
        candidate.resolve().relative_to(root.resolve())
    except ValueError:
        return False
    return True


def _git_blob(root: Path, oid: str, path: str, label: str) -> bytes:
    raw = Git(root).try_run("cat-file", "blob", oid)
    if raw is None:
        raise GitError(f"{label}: the training data {path} (blob {oid[:12]}) is not in this clone",
                       hint="fetch the full history (actions/checkout with fetch-depth: 0)")
    return raw


def _lfs_object(root: Path, oid: str, path: str, label: str) -> bytes:
    store = Git(root).git_path(f"lfs/objects/{oid[:2]}/{oid[2:4]}/{oid}")
    raw = store.read_bytes() if store.is_file() else None
    if raw is None or hashlib.sha256(raw).hexdigest() != oid:
        raise GitError(f"{label}: the training data {path} (LFS object {oid[:12]}) is not in the local LFS store",
                       hint="run `git lfs fetch` for the tag, or check out with lfs: true")
    return raw


def _working_file(root: Path, digest: str, path: str, label: str) -> bytes:
    """A repository file, or for a URL its copy in the local cache that ``refresh`` and ``train`` use."""
    from mlops_actions.convention.paths import repo_path_problem
    from mlops_actions.training.data import url_cache_relpath

    local = url_cache_relpath(digest) if "://" in path else path
    inside = repo_path_problem(root, local, must_exist=True) is None
    raw = (root / local).read_bytes() if inside else None
    if raw is None or hashlib.sha256(raw).hexdigest() != digest:
        raise InputError(f"{label}: the training data {path} is no longer available with sha256 {digest[:12]}",
                         hint="compare against a copy of the training data with --reference PATH")
    return raw
