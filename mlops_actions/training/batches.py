"""Thousands of models, at most ``max_jobs`` training jobs: models batched with balanced expected cost.

GitHub runs at most 256 jobs from one matrix; a library upgrade in a repository of 5,000 models changes every
fingerprint. ``plan`` then puts the models into ``max_jobs`` batches by expected cost: the size of each
model's data (bytes on disk, the size a git-LFS pointer or a DVC ``.dvc`` file records, the sum over a
partitioned dataset; unknown for a URL) plus a fixed cost per model (setting up, fitting a small model).
Batches are filled by the longest-processing-time rule (largest first, into the lightest batch; ties to the
lower batch number), which keeps the largest batch within 4/3 of the best possible. Deterministic: same
inputs, same batches.
"""

from __future__ import annotations

import heapq
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_actions.lfs import LFS_POINTER_MAX, is_pointer
from mlops_actions.repodata import dvc, partitions

PER_MODEL_COST = 1 << 20  # a model's own cost, in bytes of data it weighs as much as
UNKNOWN_SIZE = 16 << 20  # data whose size cannot be told without downloading it (a URL)
_SIZE = re.compile(rb"^size (\d+)$", re.MULTILINE)
_DVC_SIZE = re.compile(rb"^\s*-?\s*size:\s*(\d+)\s*$", re.MULTILINE)


def balance(costs: Mapping[str, int], jobs: int) -> list[list[str]]:
    """``costs`` (model -> cost) in at most ``jobs`` batches of balanced total cost, each sorted by name."""
    count = max(1, min(jobs, len(costs)))
    heap = [(0, i) for i in range(count)]
    batches: list[list[str]] = [[] for _ in range(count)]
    for name in sorted(costs, key=lambda n: (-costs[n], n)):
        total, index = heapq.heappop(heap)
        batches[index].append(name)
        heapq.heappush(heap, (total + costs[name], index))
    return [sorted(b) for b in batches if b]


# -- expected cost: the size of a model's data, without reading it --------------------------------------------

def data_costs(root: Path, specs: Mapping[str, Mapping[str, Any] | None]) -> dict[str, int]:
    """model -> expected cost, from the data each parsed spec names (None: a spec that does not parse)."""
    sizes: dict[str, int] = {}
    return {name: PER_MODEL_COST + _size_of(root, _data_path(raw), sizes) for name, raw in specs.items()}


def _data_path(raw: Mapping[str, Any] | None) -> str | None:
    data = raw.get("data") if raw else None
    path = data.get("path") if isinstance(data, Mapping) else None
    return path if isinstance(path, str) and ".." not in path.split("/") and not path.startswith("/") else None


def _size_of(root: Path, path: str | None, known: dict[str, int]) -> int:
    if path is None:
        return UNKNOWN_SIZE
    if path not in known:
        known[path] = _measure(root, path)
    return known[path]


def _measure(root: Path, path: str) -> int:
    if partitions.is_partitioned(path, root):
        return sum(_file_size(root / p) for p in partitions.files_worktree(root, path))
    file = root / path
    if file.is_file():
        return _file_size(file)
    meta = root / dvc.candidates(path)[0]
    return _recorded(meta.read_bytes(), _DVC_SIZE) if meta.is_file() else UNKNOWN_SIZE


def _file_size(file: Path) -> int:
    size = file.stat().st_size
    if size <= LFS_POINTER_MAX:
        head = file.read_bytes()
        if is_pointer(head):
            return _recorded(head, _SIZE)
    return size


def _recorded(text: bytes, pattern: re.Pattern[bytes]) -> int:
    found = pattern.search(text)
    return int(found.group(1)) if found else UNKNOWN_SIZE


def batch_entries(batches: Sequence[Sequence[str]], listed: int = 5) -> list[dict[str, Any]]:
    """Matrix entries for batches: ``model`` labels the job, ``models`` names its models (space-separated)."""
    width = len(str(len(batches)))
    return [{"model": f"batch-{i:0{width}d}", "models": " ".join(b), "reasons": [_summary(b, listed)]}
            for i, b in enumerate(batches, start=1)]


def _summary(names: Iterable[str], listed: int) -> str:
    names = list(names)
    more = f" and {len(names) - listed} more" if len(names) > listed else ""
    return f"{len(names)} model(s): {', '.join(names[:listed])}{more}"
