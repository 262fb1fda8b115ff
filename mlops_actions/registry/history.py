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


# a deployment's latest GitHub status, in words: "inactive" is GitHub's mark on a successful deployment that a
# newer one (of any model) replaced in that environment; for its own model it still runs, so it reads active
STATE_LABELS = {"success": "active", "inactive": "active", "failure": "failed", "error": "failed",
                "in_progress": "in progress", "queued": "queued", "pending": "queued"}


@dataclass(frozen=True)
class LastDeployment:
    """The newest GitHub Deployment of one model to one environment, and its latest status."""

    environment: str
    model: str
    version: str
    deployment_id: int
    state: str  # GitHub's state, or "" when it has no status yet
    date: str
    description: str = ""
    environment_url: str = ""
    log_url: str = ""

    @property
    def label(self) -> str:
        return STATE_LABELS.get(self.state, "no status")

    def to_dict(self) -> dict[str, Any]:
        return {"environment": self.environment, "model": self.model, "version": self.version,
                "deployment_id": self.deployment_id, "state": self.state, "status": self.label, "date": self.date,
                "description": self.description, "environment_url": self.environment_url, "log_url": self.log_url}


def last_deployments(environment: str, deployments: Iterable[Any]) -> tuple[LastDeployment, ...]:
    """Per model, the newest of ``deployments`` (GitHub's, newest first, payload = version record)."""
    found: dict[str, LastDeployment] = {}
    for d in deployments:
        payload = d.payload if isinstance(d.payload, Mapping) else {}
        model, version = payload.get("model"), payload.get("version")
        if not model or not version or str(model) in found:
            continue
        status = d.latest_status
        found[str(model)] = LastDeployment(
            environment, str(model), str(version), int(d.id), getattr(status, "state", "") or "",
            utc(getattr(status, "created_at", None) or d.created_at), getattr(status, "description", "") or "",
            getattr(status, "environment_url", "") or "", getattr(status, "log_url", "") or "")
    return tuple(found[name] for name in sorted(found))


@dataclass(frozen=True)
class History:
    rows: tuple[Row, ...]
    placement: Placement
    notes: tuple[str, ...]
    last: tuple[LastDeployment, ...] = ()
    model: str | None = None  # the model asked for (None: every model)

    @property
    def invalid(self) -> tuple[Row, ...]:
        return tuple(r for r in self.rows if r.problem is not None)

    def to_dict(self) -> dict[str, Any]:
        return {"deployed_from": self.placement.source, "deployed_from_label": self.placement.label,
                "environments": {env: dict(sorted(models.items())) for env, models in self.placement.state.items()},
                "versions": [r.to_dict() for r in self.rows], "notes": list(self.notes),
                "last_deployments": [d.to_dict() for d in self.last]}


def history(versions: Iterable[Any], placement: Placement, model: str | None = None,
            last: Iterable[LastDeployment] = ()) -> History:
    """The history of ``versions`` (``VersionRef``-like: model, number, tag, record, problem, created), with
    the last deployment per environment and model when GitHub was asked (``last``)."""
    chosen = [v for v in versions if model is None or v.model == model]
    rows = tuple(sorted((row(v, placement) for v in chosen), key=lambda r: (r.model, -r.number)))
    shown = tuple(d for d in last if model is None or d.model == model)
    return History(rows, placement, tuple(missing_versions(rows, placement, model)), shown, model)


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
