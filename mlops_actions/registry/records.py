"""Version records kept in git: the message of each annotated tag ``<model>@v<N>`` is a JSON record.

All tags are read with ONE ``git for-each-ref`` call. A record is trusted only when it is JSON, valid
against ``schemas/version-record`` and names the model and version of its tag; otherwise ``problem`` says
why (a hand-edited or lightweight tag) and the record is ``None``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from mlops_actions import bounded
from mlops_actions.convention.schemas import VERSION_RECORD, is_valid, validator
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git
from mlops_actions.registry.tag import parse_tag

_FORMAT = "%(refname:strip=2)%00%(objectname)%00%(objecttype)%00%(creatordate:iso-strict)%00%(contents)%00"
_SIGNATURE = ("-----BEGIN PGP SIGNATURE-----", "-----BEGIN SSH SIGNATURE-----", "-----BEGIN SIGNED MESSAGE-----")
LIGHTWEIGHT = "lightweight tag (no version record); versions are annotated tags created by `mlops-actions register`"


@dataclass(frozen=True)
class VersionRef:
    model: str
    number: int
    tag: str
    record: Mapping[str, Any] | None
    problem: str | None
    created: str


@dataclass(frozen=True)
class _RawTag:
    model: str
    number: int
    tag: str
    oid: str
    kind: str
    created: str
    message: str


def local_versions(root: Path, model: str | None = None) -> list[VersionRef]:
    """Every version tag in the local repository (of ``model`` only, when given), sorted by model, number."""
    return [check(raw) for raw in _raw_tags(Git(root)) if model is None or raw.model == model]


def by_model(versions: Iterable[VersionRef]) -> dict[str, tuple[VersionRef, ...]]:
    """``versions`` (``local_versions(root)``) grouped by model, each model's in their order."""
    grouped: dict[str, list[VersionRef]] = {}
    for version in versions:
        grouped.setdefault(version.model, []).append(version)
    return {model: tuple(found) for model, found in grouped.items()}


def reader(grouped: Mapping[str, Sequence[VersionRef]]) -> Callable[[Path, str], list[VersionRef]]:
    """A ``read_versions`` (``evaluation.baseline``) answering from tags already read and grouped (``by_model``):
    one ``git for-each-ref`` for a report of many models, not one per model (a thousand models with a thousand
    versions read every tag a thousand times)."""
    return lambda _root, model: list(grouped.get(model, ()))


def latest_version(root: Path, model: str) -> VersionRef | None:
    """The highest-numbered version of ``model`` whose record is valid, or None."""
    return latest_versions(root).get(model)


def latest_versions(root: Path, cache: RepoCache | None = None,
                    skipped: list[VersionRef] | None = None) -> dict[str, VersionRef]:
    """model -> its highest-numbered valid version; records below the latest valid one are not checked.

    Newer tags whose records are invalid are appended to ``skipped`` (with their ``problem``). A tag object
    found valid once is remembered by its id (immutable) in ``cache``: not checked again.
    """
    git = Git(root)
    store = cache or RepoCache(git)
    latest: dict[str, VersionRef] = {}
    raws = _raw_tags(git)
    newest = {raw.model: raw for raw in raws}  # sorted by number: the last of each model is its newest
    parsed = _parsed_together([r for r in newest.values() if store.get("records", r.oid)])
    for raw in reversed(raws):
        if raw.model in latest:
            continue
        known = bool(store.get("records", raw.oid))
        ref = (_trusted(raw, parsed.get(raw.oid)) if known else None) or check(raw)
        if ref.record is None:
            if skipped is not None:
                skipped.append(ref)
            continue
        latest[raw.model] = ref
        if not known:
            store.put("records", raw.oid, 1)
    if cache is None:
        store.save()
    return dict(sorted(latest.items()))


def _raw_tags(git: Git) -> list[_RawTag]:
    return _parse_raw(git.run("for-each-ref", f"--format={_FORMAT}", "refs/tags/"))


def _parse_raw(out: bytes) -> list[_RawTag]:
    """The version tags in for-each-ref output of ``_FORMAT``, sorted by model and number."""
    fields = out.decode("utf-8", "replace").split("\0")
    tags = []
    for i in range(0, len(fields) - 5, 5):
        name, oid, kind, created, message = fields[i].lstrip("\n"), *fields[i + 1:i + 5]
        parsed = parse_tag(name)
        if parsed is not None:
            tags.append(_RawTag(parsed[0], parsed[1], name, oid, kind, created, message))
    return sorted(tags, key=lambda t: (t.model, t.number))


def check(raw: _RawTag) -> VersionRef:
    record, problem = (None, LIGHTWEIGHT) if raw.kind != "tag" else parse_record(raw.message, raw.model, raw.number)
    return VersionRef(raw.model, raw.number, raw.tag, record, problem, raw.created)


def _parsed_together(raws: list[_RawTag]) -> dict[str, Any]:
    """tag oid -> the JSON of these already-checked tags' records, parsed by one ``json.loads`` of them all as
    an array (5,000 records: one call into the C parser, not 5,000). Each record parsed alone when checked, so
    each is one whole JSON value and the array splits back into them; if anything does not parse (or is
    nested too deep for the parser), {}: each is then parsed alone, as before."""
    if not raws:
        return {}
    try:
        values = json.loads("[" + ",".join(_without_signature(r.message) for r in raws) + "]")
    except (ValueError, RecursionError):
        return {}
    return {r.oid: v for r, v in zip(raws, values, strict=True)} if len(values) == len(raws) else {}


def _trusted(raw: _RawTag, data: Any = None) -> VersionRef | None:
    """A tag object already checked (by id): parse its JSON only (None if that fails after all); ``data``: its
    JSON parsed already."""
    if data is None:
        try:
            data = bounded.loads(_without_signature(raw.message))
        except ValueError:
            return None
    if not isinstance(data, dict) or data.get("model") != raw.model or \
            data.get("version", f"v{raw.number}") != f"v{raw.number}":
        return None  # the same tag object reached through another ref name: check it properly
    return VersionRef(raw.model, raw.number, raw.tag, MappingProxyType(data), None, raw.created)


def parse_record(message: str, model: str, number: int) -> tuple[Mapping[str, Any] | None, str | None]:
    """(record, None) when ``message`` is a valid record of ``model@v<number>``, else (None, why not)."""
    try:
        data = bounded.loads(_without_signature(message))
    except json.JSONDecodeError as exc:
        return None, f"the tag message is not JSON ({exc.msg} at line {exc.lineno}); was the tag edited by hand?"
    except ValueError as exc:  # nested too deep (bounded.TooDeep): it has no .msg
        return None, f"the tag message is not a record ({exc}); was the tag edited by hand?"
    problem = _record_problem(data, model, number)
    if problem is not None:
        return None, problem
    return MappingProxyType(data), None


def _record_problem(data: Any, model: str, number: int) -> str | None:
    if not is_valid(VERSION_RECORD, data):
        schema = validator(VERSION_RECORD)
        from jsonschema.exceptions import best_match

        error = best_match(schema.iter_errors(data))
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        return f"the record does not follow schemas/version-record: {where}: {error.message[:200]}"
    if data["model"] != model:
        return f"the record is of model '{data['model']}', not '{model}'; was the tag edited by hand?"
    if data.get("version", f"v{number}") != f"v{number}":
        return f"the record says version {data['version']}, the tag says v{number}; was the tag edited by hand?"
    return None


def _without_signature(message: str) -> str:
    for marker in _SIGNATURE:
        at = message.find(marker)
        if at >= 0:
            message = message[:at]
    return message
