"""The history of registered versions (pure): one row per version tag, with where each version runs now.

Rows come from version refs (``records.VersionRef``: the tag, its checked record or the problem that makes
it untrusted) and a ``Placement`` (environment -> model -> version) read either from GitHub Deployments or
from the environment files. Nothing from an invalid record is shown but its problem. Sorted by model, then
newest version first; ``to_dict`` is deterministic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

GITHUB = "github"
FILES = "files"
SOURCE_LABELS = {GITHUB: "GitHub Deployments (latest successful deployment per environment)",
                 FILES: "desired (environments/*.yaml)"}
SHORT_FINGERPRINT = 12
_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ")


@dataclass(frozen=True)
class Placement:
    """Where versions run: environment -> model -> version, environments in promotion order."""

    source: str
    state: Mapping[str, Mapping[str, str]]

    @property
    def label(self) -> str:
        return SOURCE_LABELS[self.source]

    def environments_of(self, model: str, version: str) -> tuple[str, ...]:
        return tuple(env for env, models in self.state.items() if models.get(model) == version)


@dataclass(frozen=True)
class Row:
    """One version: from its record when the record is valid, else only its tag and ``problem``."""

    model: str
    number: int
    tag: str
    date: str
    fingerprint: str | None
    metrics: tuple[tuple[str, float | None], ...]
    key_metrics: tuple[str, ...]
    approvers: tuple[str, ...]
    deployed: tuple[str, ...]
    problem: str | None

    @property
    def version(self) -> str:
        return f"v{self.number}"

    @property
    def short_fingerprint(self) -> str:
        return (self.fingerprint or "")[:SHORT_FINGERPRINT]

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "version": self.version, "tag": self.tag, "date": self.date,
                "fingerprint": self.fingerprint, "metrics": dict(self.metrics),
                "key_metrics": list(self.key_metrics), "approvers": list(self.approvers),
                "deployed": list(self.deployed), "problem": self.problem}


@dataclass(frozen=True)
class History:
    rows: tuple[Row, ...]
    placement: Placement
    notes: tuple[str, ...]

    @property
    def invalid(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.problem is not None)

    def to_dict(self) -> dict[str, Any]:
        return {"deployed_from": self.placement.source, "deployed_from_label": self.placement.label,
                "environments": {env: dict(sorted(models.items())) for env, models in self.placement.state.items()},
                "versions": [r.to_dict() for r in self.rows], "notes": list(self.notes)}


def history(versions: Iterable[Any], placement: Placement, model: str | None = None) -> History:
    """The history of ``versions`` (``VersionRef``-like: model, number, tag, record, problem, created)."""
    chosen = [v for v in versions if model is None or v.model == model]
    rows = tuple(sorted((row(v, placement) for v in chosen), key=lambda r: (r.model, -r.number)))
    return History(rows, placement, tuple(missing_versions(rows, placement, model)))


def row(version: Any, placement: Placement) -> Row:
    deployed = placement.environments_of(version.model, f"v{version.number}")
    record = version.record
    if record is None:
        return Row(version.model, version.number, version.tag, utc(version.created), None, (), (), (), deployed,
                   version.problem or "no version record")
    metrics = record.get("metrics") or {}
    return Row(version.model, version.number, version.tag, utc(record.get("created_at") or version.created),
               str(record["fingerprint"]), tuple(sorted(metrics.items())),
               key_metrics(metrics, record.get("metric_directions") or {}),
               tuple(str(a.get("login")) for a in record.get("approvers") or ()), deployed, None)


def key_metrics(metrics: Mapping[str, Any], directions: Mapping[str, str]) -> tuple[str, ...]:
    """The metrics the spec named (those with a direction), else every metric; sorted by name."""
    named = [name for name in directions if name in metrics]
    return tuple(sorted(named or metrics))


def missing_versions(rows: Sequence[Row], placement: Placement, model: str | None) -> list[str]:
    """Environments naming a version that has no tag (deployed or desired, but not registered here)."""
    tags = {r.tag for r in rows}
    notes = []
    for env, models in placement.state.items():
        for name, version in sorted(models.items()):
            if (model is None or name == model) and f"{name}@{version}" not in tags:
                notes.append(f"{env} names {name} {version}, but there is no version tag {name}@{version}")
    return notes


def utc(stamp: str | None) -> str:
    """An ISO 8601 time as UTC ``YYYY-MM-DDTHH:MM:SSZ``; text that is no such time is kept as it is."""
    if not stamp:
        return ""
    if _UTC.fullmatch(stamp):
        return stamp
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
