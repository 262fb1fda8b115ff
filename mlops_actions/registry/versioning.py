"""Version numbers and version records (pure): what the tag ``<name>@v<N>`` says and which N is next."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from mlops_actions.convention.schemas import VERSION_RECORD, validator
from mlops_actions.errors import InputError
from mlops_actions.registry.approvals import Approver
from mlops_actions.registry.tag import format_tag, parse_tag


@dataclass(frozen=True)
class ExistingVersion:
    """A version tag already on GitHub: its number and the record its message holds (None if invalid)."""

    model: str
    number: int
    record: Mapping[str, Any] | None
    problem: str | None = None


@dataclass(frozen=True)
class Provenance:
    """Where a version came from: the merge, the PR, who approved and merged, the run."""

    commit: str
    pr: int
    approvers: tuple[Approver, ...]
    merged_by: str | None
    run_url: str | None
    created_at: str


def next_number(existing: Iterable[ExistingVersion]) -> int:
    """N for the next version: highest existing + 1 (invalid tags still hold their number)."""
    return max((v.number for v in existing), default=0) + 1


def already_registered(existing: Iterable[ExistingVersion], fingerprint: str, commit: str) -> ExistingVersion | None:
    """The version this very merge already registered for this fingerprint (a rerun), if any."""
    for version in existing:
        record = version.record or {}
        if record.get("fingerprint") == fingerprint and record.get("commit") == commit:
            return version
    return None


def version_record(trained: Mapping[str, Any], number: int, provenance: Provenance,
                   gates: Mapping[str, Any]) -> dict[str, Any]:
    """The record of version ``number``: the training record plus where it came from."""
    record = {key: value for key, value in trained.items() if key != "timings"}
    record.update({
        "version": f"v{number}",
        "commit": provenance.commit,
        "pr": provenance.pr,
        "approvers": [a.to_dict() for a in provenance.approvers],
        "merged_by": provenance.merged_by,
        "created_at": provenance.created_at,
        "gates": dict(gates),
    })
    if provenance.run_url:
        record["run_url"] = provenance.run_url
    return finite(record)


def finite(value: Any) -> Any:
    """``value`` with NaN and infinities replaced by None, so the record is strict JSON."""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [finite(v) for v in value]
    return value


def tag_message(record: Mapping[str, Any]) -> str:
    """The annotated tag's message: the record as stable, pretty JSON (machine-readable, diff-friendly).

    The record must be valid against ``schemas/version-record``: a tag is never made from a bad record.
    """
    errors = sorted(e.message for e in validator(VERSION_RECORD).iter_errors(record))
    if errors:
        raise InputError(f"the version record of {record.get('model')} is not valid: {'; '.join(errors[:3])}",
                         hint="the training results were edited or come from another version of mlops-actions")
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False, allow_nan=False) + "\n"


def existing_from_tags(model: str, tags: Sequence[tuple[str, Mapping[str, Any] | None, str | None]]
                       ) -> list[ExistingVersion]:
    """ExistingVersion for each ``(tag name, record or None, problem)`` that is a version tag of ``model``."""
    found = []
    for name, record, problem in tags:
        parsed = parse_tag(name)
        if parsed and parsed[0] == model:
            found.append(ExistingVersion(model, parsed[1], record, problem))
    return sorted(found, key=lambda v: v.number)


__all__ = ["ExistingVersion", "Provenance", "already_registered", "existing_from_tags", "format_tag",
           "next_number", "tag_message", "version_record"]
