"""``mlops-actions fetch MODEL``: put a model's data where ``train`` reads it, checked against its pin.

- ``data.url`` (https, s3, gs, az): the bytes are streamed into ``.mlops/cache/data/<sha256>`` (the cache
  ``train`` reads), at ``data.version_id`` when pinned, and kept only when their sha256 is the pinned one: a
  changed object is refused (exit 1) and nothing is written. Already cached: nothing is downloaded.
- ``data.path`` tracked by DVC: ``dvc pull`` of just that target, then the file is checked against the md5
  its ``.dvc`` file or ``dvc.lock`` records.
- Anything else is in the repository already (git or LFS): a note, exit 0.

``train`` itself never downloads, so what it trains on is what was pinned and reviewed.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TextIO

from mlops_actions.convention import datapaths
from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.validation import load_spec
from mlops_actions.errors import EXIT_OK, MlopsError, RefusedError
from mlops_actions.repodata import dvc
from mlops_actions.training import sources
from mlops_actions.training.data import URL_CACHE_DIR, url_cache_relpath
from mlops_actions.training.spec_places import SpecPlaces


def fetch(root: Path, model: str, *, dvc_command: str = "dvc", out: TextIO | None = None) -> int:
    """Fetch ``model``'s data (see the module's description). Exit 0, or raises with the spec's place."""
    stream = out or sys.stdout
    spec = load_spec(root, model)
    places = SpecPlaces.load(root, spec.spec_path)
    try:
        message = _fetch(root, spec, dvc_command)
    except MlopsError as exc:
        if exc.place is None:
            exc.place = places.at("data", "url" if spec.data.url else "path")
        raise
    print(f"{model}: {message}", file=stream)
    return EXIT_OK


def _fetch(root: Path, spec: ModelSpec, dvc_command: str) -> str:
    if spec.data.url and spec.data.sha256:
        return _fetch_url(root, spec.data.url, spec.data.sha256, spec.data.version_id)
    rel = datapaths.repo_path_of(spec.data.path or "") or ""
    tracked = dvc.tracked_worktree(root, [rel]).get(rel) if rel else None
    if tracked is None:
        return f"the data ({spec.data.path}) is in the repository; nothing to fetch"
    dvc.pull(root, tracked, dvc_command)
    dvc.check_pulled(root, tracked, SpecPlaces.load(root, spec.spec_path).at("data", "path"))
    return f"pulled {tracked.path} with DVC ({tracked.target}, md5 {tracked.md5})"


def _fetch_url(root: Path, url: str, pinned: str, version_id: str | None) -> str:
    target = root / url_cache_relpath(pinned)
    if target.is_file() and sources.sha256_file(target) == pinned:
        return f"{url} is cached already ({url_cache_relpath(pinned)})"
    directory = root / URL_CACHE_DIR
    got = (sources.download(url, directory, version_id) if sources.is_cloud(url)
           else sources.download_http(url, directory))
    if got.sha256 != pinned:
        got.path.unlink(missing_ok=True)
        raise RefusedError(f"{url}: the object's sha256 is {got.sha256}, but the spec pins {pinned}; it changed "
                           "since it was pinned, so it was not used",
                           hint="review the new data with `mlops-actions refresh MODEL` (a pull request that "
                                "re-pins it), or pin data.version_id to read the reviewed version")
    os.replace(got.path, target)
    return f"fetched {url} ({got.size:,} bytes, sha256 {pinned[:12]}…) into {url_cache_relpath(pinned)}"
