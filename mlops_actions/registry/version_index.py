"""Version tags for listing them all (``history``): thousands of tags in well under a second.

``records.local_versions`` reads every tag's message with one ``for-each-ref`` -- every tag, including
tags that are no versions of ours (GTO's ``m@v1.0.0``, release tags), and every record parsed again each
time. Here:

1. one ``for-each-ref`` lists names and object ids only (no object is read);
2. a tag object seen before (ids are immutable) is answered from the repository cache: the few fields of
   its valid record that a history row shows (``project``), checked again against the ref's name;
3. the other version tags' objects are read with one ``cat-file --batch``; a record that is JSON, names its
   tag and passes the compiled schema check is trusted (and remembered); anything else -- a lightweight
   tag, an invalid record -- goes through ``records.check`` on for-each-ref's own fields, which says why.

The rows ``registry.history`` builds from these are the same as from ``records.local_versions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timezone
from types import MappingProxyType
from typing import Any

from mlops_actions import bounded
from mlops_actions.convention.schemas import VERSION_RECORD, fast_check
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git
from mlops_actions.registry import records
from mlops_actions.registry.tag import parse_tag

ROWS = "history-rows"  # cache section: tag object id -> {"r": project(its valid record), "c": tagger's time}
MAX_PATTERNS = 200  # more untrusted tags than this: one for-each-ref of all tags instead of one per name
_FIELDS = ("model", "version", "fingerprint", "created_at", "metrics", "metric_directions")


def project(record: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of a valid record that ``registry.history.row`` reads (approvers by login only)."""
    out = {key: record[key] for key in _FIELDS if key in record}
    if "approvers" in record:
        out["approvers"] = [{"login": a.get("login")} for a in record["approvers"] or ()]
    return out


def listed_versions(git: Git, cache: RepoCache, model: str | None = None) -> list[records.VersionRef]:
    """Every version tag (of ``model`` when given), sorted by model and number; a cached tag's ``record`` is
    only its ``project``ion."""
    refs = [r for r in _refs(git) if model is None or r[1] == model]
    found: dict[str, records.VersionRef] = {}
    unread = []
    known = cache.section(ROWS)
    for tag, name, number, oid in refs:
        hit = _cached(known.get(oid), name, number)
        if hit is None:
            unread.append((tag, name, number, oid))
        else:
            found[tag] = records.VersionRef(name, number, tag, MappingProxyType(hit["r"]), None, hit["c"])
    cache.used(ROWS, (oid for *_, oid in refs))
    odd = _read(git, cache, unread, found)
    found.update((v.tag, v) for v in _checked(git, odd))
    return sorted(found.values(), key=lambda v: (v.model, v.number))


def _refs(git: Git) -> list[tuple[str, str, int, str]]:
    """(tag, model, number, object id) of every ref named like a version tag."""
    out = git.run("for-each-ref", "--format=%(objectname) %(refname:strip=2)", "refs/tags/")
    refs = []
    for line in out.decode("utf-8", "replace").splitlines():
        oid, _, tag = line.partition(" ")
        parsed = parse_tag(tag)
        if parsed is not None:
            refs.append((tag, parsed[0], parsed[1], oid))
    return refs


def _cached(entry: Any, model: str, number: int) -> dict[str, Any] | None:
    """A remembered entry, when it is one and its record names this tag (the same tag object may be
    reached through another ref name)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("c"), str):
        return None
    data = entry.get("r")
    if not isinstance(data, dict) or not _names(data, model, number) or not isinstance(data.get("fingerprint"), str):
        return None
    return entry


def _names(data: Mapping[str, Any], model: str, number: int) -> bool:
    return data.get("model") == model and data.get("version", f"v{number}") == f"v{number}"


def _read(git: Git, cache: RepoCache, unread: list[tuple[str, str, int, str]],
          found: dict[str, records.VersionRef]) -> list[str]:
    """Read the unread tags' objects in one batch; trusted ones go to ``found``, the others' names out."""
    if not unread:
        return []
    out = git.run("cat-file", "--batch", stdin="".join(f"{oid}\n" for *_, oid in unread).encode())
    check = fast_check(VERSION_RECORD)
    odd, pos = [], 0
    for tag, name, number, oid in unread:
        end = out.index(b"\n", pos)
        header = out[pos:end].split(b" ")
        pos = end + 1
        if len(header) < 3:  # missing: a ref that changed meanwhile
            odd.append(tag)
            continue
        size = int(header[2])
        body, pos = out[pos:pos + size], pos + size + 1
        data, created = _record(body) if header[1] == b"tag" else (None, "")
        if data is None or check is None or not _names(data, name, number) or not check(data):
            odd.append(tag)
            continue
        shown = project(data)
        cache.put(ROWS, oid, {"r": shown, "c": created})
        found[tag] = records.VersionRef(name, number, tag, MappingProxyType(shown), None, created)
    return odd


def _record(body: bytes) -> tuple[dict[str, Any] | None, str]:
    """(the JSON object of a tag object's message or None, the tagger's time in UTC)."""
    head, sep, message = body.partition(b"\n\n")
    created = ""
    for line in head.split(b"\n"):
        if line.startswith(b"tagger "):
            created = _when(line)
    if not sep:
        return None, created
    try:
        data = bounded.loads(records._without_signature(message.decode("utf-8")))
    except (UnicodeDecodeError, ValueError):
        return None, created
    return (data if isinstance(data, dict) else None), created


def _when(tagger: bytes) -> str:
    """``tagger Name <mail> 1700000000 +0100`` -> ``2023-11-14T22:13:20Z`` ("" when unreadable)."""
    try:
        stamp = int(tagger.rsplit(b">", 1)[1].split()[0])
        return datetime.fromtimestamp(stamp, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    except (IndexError, ValueError, OverflowError, OSError):
        return ""


def _checked(git: Git, tags: Iterable[str]) -> list[records.VersionRef]:
    """``records.check`` of the named tags on for-each-ref's own fields (it says why one is not trusted)."""
    wanted = set(tags)
    if not wanted:
        return []
    patterns = [f"refs/tags/{t}" for t in sorted(wanted)] if len(wanted) <= MAX_PATTERNS else ["refs/tags/"]
    out = git.run("for-each-ref", f"--format={records._FORMAT}", *patterns)
    return [records.check(raw) for raw in records._parse_raw(out) if raw.tag in wanted]
