"""The core of ``mlops-actions refresh``: has the data pinned by URL + sha256 changed, and the new spec text.

The source is read twice; two different answers mean an unstable source and nothing is pinned. When the
caller expects the pin to hold (``expect_pin=True``), a first read that does not match the pin is refused
too. The updated spec changes only the 64 hex digits of ``data.sha256`` at the place the round-trip YAML
parser reports, so comments, quoting and layout stay byte for byte; the result is parsed again to prove it.
Opening the pull request is the GitHub layer's job.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mlops_actions.convention.locate import locate_node
from mlops_actions.convention.yamlio import parse_text
from mlops_actions.errors import InputError, RefusedError

Fetch = Callable[[str], bytes]
TIMEOUT_SECONDS = 60
MAX_BYTES = 4 * 1024**3
_HEX64 = re.compile(r"[0-9a-f]{64}")
_SCALAR = re.compile(r"\"[^\"\\\n]*\"|'[^'\n]*'|[A-Za-z0-9._+/=:-]+")


@dataclass(frozen=True)
class Repin:
    """A changed source: the spec as it should read now, and what changed."""

    model: str
    relpath: str
    url: str
    old: str
    new: str
    size: int
    text: str
    version: str | None = None  # the object version id pinned with the new sha256 (versioned stores)


def fetch(url: str, timeout: float = TIMEOUT_SECONDS) -> bytes:
    """The bytes at ``url`` (http, https, or an object store: see ``training.sources``); every failure is an
    ``InputError`` naming the URL."""
    from mlops_actions.training import sources

    if sources.is_cloud(url):
        return sources.read_bytes(url, limit=MAX_BYTES)
    if not url.startswith(("http://", "https://")):
        raise InputError(f"{url}: only http, https, s3, gs and az URLs can be fetched")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 (scheme checked above)
            data: bytes = response.read(MAX_BYTES + 1)
    except urllib.error.HTTPError as exc:
        raise InputError(f"{url}: the server answered {exc.code} {exc.reason}",
                         hint="check data.url in the model spec (and that the runner may read it)") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise InputError(f"{url}: cannot fetch it: {reason}",
                         hint="check data.url in the model spec and the runner's network access, then retry") from None
    if len(data) > MAX_BYTES:
        raise InputError(f"{url}: the data is larger than {MAX_BYTES // 1024**3} GiB")
    return data


@dataclass(frozen=True)
class SourceCheck:
    url: str
    pinned: str
    current: str  # sha256 of what the source serves now
    data: bytes

    @property
    def changed(self) -> bool:
        return self.current != self.pinned


def check_source(url: str, pinned: str, *, expect_pin: bool = False, fetcher: Fetch = fetch) -> SourceCheck:
    """Read ``url`` twice and compare with the pin; refuse unstable sources (and a broken pin if expected)."""
    first = fetcher(url)
    digest = hashlib.sha256(first).hexdigest()
    if expect_pin and digest != pinned:
        raise RefusedError(f"{url}: the server returned bytes with sha256 {digest}, but the spec pins {pinned}",
                           hint="nothing was changed; check the source, or run refresh to update the pin")
    second = hashlib.sha256(fetcher(url)).hexdigest()
    if second != digest:
        raise RefusedError(f"{url}: two reads returned different bytes (sha256 {digest[:12]}… then "
                           f"{second[:12]}…); the source is not stable, so nothing was pinned",
                           hint="pin a URL that serves fixed content (a versioned file or release asset)")
    return SourceCheck(url, pinned, digest, first)


def store_in_cache(root: Path, check: SourceCheck) -> str:
    """Write the fetched bytes where ``train`` reads pinned URLs (atomically); returns the repository path."""
    from mlops_actions.training.data import url_cache_relpath

    relpath = url_cache_relpath(check.current)
    target = root / relpath
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=target.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(check.data)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return relpath


def updated_version(text: str, new_version: str, display: str) -> str:
    """``text`` with the value of ``data.version_id`` replaced by ``new_version`` (double-quoted)."""
    from mlops_actions.training.sources import version_problem

    if version_problem(new_version):
        raise InputError(f"{display}: the store returned a version id that cannot be pinned: {new_version[:80]!r}")
    loaded = parse_text(text, display)
    section = loaded.data.get("data") if loaded.ok else None
    if not isinstance(section, dict) or "version_id" not in section:
        raise InputError(f"{display}: data.version_id is not set, so there is no version to update")
    line, column = locate_node(loaded.tree, ["data", "version_id"])
    lines = text.splitlines(keepends=True)
    token = _SCALAR.match(lines[line - 1], column - 1)
    if token is None:
        raise InputError(f"{display}:{line}: cannot find the version id to update",
                         hint="write data.version_id as a plain or quoted scalar on its own line")
    row = lines[line - 1]
    lines[line - 1] = row[: token.start()] + f'"{new_version}"' + row[token.end():]
    updated = "".join(lines)
    check = parse_text(updated, display)
    if not check.ok or check.data.get("data", {}).get("version_id") != new_version:
        raise InputError(f"{display}: updating data.version_id in place did not give the expected spec",
                         hint="write data.version_id as a plain or quoted scalar on its own line")
    return updated


def updated_spec(text: str, new_sha256: str, display: str) -> str:
    """``text`` with ``data.sha256`` replaced by ``new_sha256``, everything else unchanged."""
    if not _HEX64.fullmatch(new_sha256):
        raise ValueError(f"not a sha256: {new_sha256!r}")
    line, column = _sha256_place(text, display)
    lines = text.splitlines(keepends=True)
    match = _HEX64.search(lines[line], column)
    if match is None:
        raise InputError(f"{display}:{line + 1}: cannot find the sha256 value to update")
    lines[line] = lines[line][: match.start()] + new_sha256 + lines[line][match.end():]
    updated = "".join(lines)
    _prove(updated, new_sha256, display)
    return updated


def _sha256_place(text: str, display: str) -> tuple[int, int]:
    """0-based line and column of the value of ``data.sha256``."""
    loaded = parse_text(text, display)
    section = loaded.data.get("data") if loaded.ok else None
    if not isinstance(section, dict) or "sha256" not in section or "url" not in section:
        raise InputError(f"{display}: the data is not pinned by url + sha256, so there is nothing to refresh")
    line, column = locate_node(loaded.tree, ["data", "sha256"])
    return line - 1, column - 1


def _prove(text: str, new_sha256: str, display: str) -> None:
    loaded = parse_text(text, display)
    if not loaded.ok or loaded.data.get("data", {}).get("sha256") != new_sha256:
        raise InputError(f"{display}: updating the sha256 in place did not give the expected spec",
                         hint="write data.sha256 as a plain or quoted scalar on its own line")
