"""Cached answers kept in the git directory (``.git/mlops-actions/cache.json``), never in the work tree.

Entries are content-addressed (blob and tag object ids) or stat-keyed (path, size, mtime_ns, inode), so
a stale entry cannot be returned; losing the file only costs time. One JSON file, loaded once, saved once.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path
from typing import Any

from mlops_actions.gitio import Git

CACHE_FILE = "mlops-actions/cache.json"
CACHE_FORMAT = 2
CACHE_LIMITS = {"files": 100_000, "blobs": 100_000, "specs": 5_000, "records": 100_000,
                "history-rows": 100_000, "dvc-files": 100_000}


class RepoCache:
    """Sections of cached answers (``files``, ``blobs``, ``specs``, ``records``), loaded once, saved once."""

    def __init__(self, git: Git) -> None:
        self.git = git
        self._data: dict[str, dict[str, Any]] | None = None
        self._used: dict[str, set[str]] = {}
        self._dirty = False

    def _sections(self) -> dict[str, dict[str, Any]]:
        if self._data is None:
            self._data = _read_cache(self.git.git_path(CACHE_FILE))
        return self._data

    def get(self, section: str, key: str) -> Any:
        entries = (self._data if self._data is not None else self._sections()).get(section)
        value = entries.get(key) if entries is not None else None
        if value is not None:
            used = self._used.get(section)
            if used is None:
                used = self._used[section] = set()
            used.add(key)
        return value

    def section(self, section: str) -> dict[str, Any]:
        """All entries of ``section``, for reading many at once (say which were used with ``used``)."""
        return self._sections().get(section, {})

    def used(self, section: str, keys: Any) -> None:
        """Mark ``keys`` of ``section`` as used by this run (kept when the section is pruned)."""
        self._used.setdefault(section, set()).update(keys)

    def put(self, section: str, key: str, value: Any) -> None:
        self._sections().setdefault(section, {})[key] = value
        self._used.setdefault(section, set()).add(key)
        self._dirty = True

    def save(self) -> None:
        if not self._dirty or self._data is None:
            return
        for name, entries in self._data.items():
            if len(entries) > CACHE_LIMITS.get(name, 10_000):  # keep what this run used
                used = self._used.get(name, set())
                self._data[name] = {k: v for k, v in entries.items() if k in used}
        write_json_atomic(self.git.git_path(CACHE_FILE), {"format": CACHE_FORMAT, "sections": self._data})
        self._dirty = False


def _read_cache(path: Path) -> dict[str, dict[str, Any]]:
    """The sections, or none when the file is unreadable. Plain ``json.loads``: the file is ours and may
    hold tens of thousands of entries (``bounded``'s nesting pre-scan would cost more than the parse); a
    nested-too-deep file raises RecursionError in the C parser (no crash) and is treated as no cache."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError):
        return {}
    ok = isinstance(data, dict) and data.get("format") == CACHE_FORMAT and isinstance(data.get("sections"), dict)
    return {k: v for k, v in data["sections"].items() if isinstance(v, dict)} if ok else {}


def write_json_atomic(path: Path, data: object) -> None:
    """Write JSON via a temporary file and rename; a cache that cannot be written is skipped."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(data, separators=(",", ":")), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        with contextlib.suppress(OSError):
            tmp.unlink()
