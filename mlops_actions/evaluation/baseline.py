"""Which version a candidate is compared with.

In order: the version deployed to the policy's baseline environment (from GitHub Deployments when the caller
knows them, else the version ``environments/<env>.yaml`` names), else the latest registered version, else the
model trained at the base ref (when its results are given), else none: a new model. The choice is pure
(``choose_baseline``); ``load_baseline`` reads the repository for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

DEPLOYED, REGISTERED, BASE_REF, NEW = "deployed", "registered", "base-ref", "new"


class VersionLike(Protocol):
    """What baseline selection needs of a registered version (``registry.records.VersionRef``)."""

    @property
    def model(self) -> str: ...
    @property
    def number(self) -> int: ...
    @property
    def tag(self) -> str: ...
    @property
    def record(self) -> Mapping[str, Any] | None: ...
    @property
    def problem(self) -> str | None: ...


@dataclass(frozen=True)
class Baseline:
    """The chosen baseline and how it was chosen; ``record`` is None for a new model."""

    kind: str
    model: str
    version: str | None = None
    environment: str | None = None
    record: Mapping[str, Any] | None = None
    ref: str | None = None
    notes: tuple[str, ...] = ()
    class_balance: Mapping[str, float] | None = None

    @property
    def exists(self) -> bool:
        return self.record is not None

    @property
    def short_label(self) -> str:
        """A few words for messages: ``production version (v3)``, ``latest version (v4)``, ``base ref``."""
        if self.kind == DEPLOYED:
            return f"{self.environment} version ({self.version})"
        if self.kind == REGISTERED:
            return f"latest version ({self.version})"
        return "base ref" if self.kind == BASE_REF else "baseline"


def choose_baseline(model: str, *, environment: str, deployed_version: str | None,
                    versions: Sequence[VersionLike], base_record: Mapping[str, Any] | None = None,
                    base_ref: str | None = None) -> Baseline:
    """Pick the baseline; every candidate that was skipped leaves a note saying why."""
    notes: list[str] = []
    usable = sorted((v for v in versions if v.record is not None and not v.problem), key=lambda v: v.number)
    if deployed_version:
        found = next((v for v in usable if f"v{v.number}" == deployed_version), None)
        if found is not None:
            return Baseline(DEPLOYED, model, deployed_version, environment, found.record, notes=tuple(notes))
        notes.append(f"{environment} names {deployed_version}, but no valid version record was found for it")
    else:
        notes.append(f"no version is deployed to {environment}")
    notes.extend(f"{v.tag}: {v.problem}" for v in versions if v.problem)
    if usable:
        latest = usable[-1]
        return Baseline(REGISTERED, model, f"v{latest.number}", None, latest.record, notes=tuple(notes))
    notes.append("no registered version")
    if base_record is not None:
        return Baseline(BASE_REF, model, None, None, base_record, ref=base_ref, notes=tuple(notes))
    notes.append("base ref: not available (no results trained at the base ref)")
    return Baseline(NEW, model, notes=tuple(notes))


def environment_version(root: Path, environment: str, model: str, deployed: Mapping[str, str] | None = None,
                        at: str | None = None) -> str | None:
    """The version of ``model`` in ``environment``: from ``deployed`` (GitHub) when given, else its file as it
    is at commit ``at`` (the PR's base: a PR that edits the file must not make its own baseline), else in
    the work tree."""
    if deployed is not None:
        return deployed.get(model)
    relpath = f"environments/{environment}.yaml"
    data = _file_at(root, relpath, at) if at else _file_here(root, relpath)
    value = (data or {}).get(model)
    return value if isinstance(value, str) else None


def _file_here(root: Path, relpath: str) -> Mapping[str, Any] | None:
    from mlops_actions.convention.schemas import ENVIRONMENT
    from mlops_actions.convention.validation import load_valid

    return load_valid(root, relpath, ENVIRONMENT) if (root / relpath).is_file() else None


def _file_at(root: Path, relpath: str, commit: str) -> Mapping[str, Any] | None:
    from mlops_actions.convention.schemas import ENVIRONMENT, is_valid
    from mlops_actions.convention.yamlio import decode, parse_text
    from mlops_actions.gitio import Git

    raw = Git(root).try_run("show", f"{commit}:{relpath}")
    text, problem = decode(raw, relpath) if raw is not None else (None, None)
    if text is None or problem is not None:
        return None
    loaded = parse_text(text, relpath)
    return loaded.data if loaded.ok and is_valid(ENVIRONMENT, loaded.data) else None


ReadVersions = Callable[[Path, str], Sequence[VersionLike]]  # registry.records.local_versions: passed in


def base_results_record(base_results: Path | None, model: str) -> Mapping[str, Any] | None:
    """The record of ``model`` trained at the base ref, from a results folder, when there is one."""
    if base_results is None:
        return None
    path = base_results / model / "record.json"
    if not path.is_file():
        return None
    from mlops_actions.evaluation.jsonfile import read_json

    data = read_json(path)
    return data if isinstance(data, dict) else None


@dataclass(frozen=True)
class BaselineSources:
    """Where a baseline may come from beside the version tags: the versions GitHub says are deployed (model →
    version), train's results at the base ref and that ref's name, and the commit whose environment files
    count (None: the working tree)."""

    deployed: Mapping[str, str] | None = None
    base_results: Path | None = None
    base_ref: str | None = None
    state_commit: str | None = None


def load_baseline(root: Path, model: str, environment: str, *, read_versions: ReadVersions,
                  sources: BaselineSources = BaselineSources()) -> Baseline:
    """Read the environment file, the version tags (with ``read_versions``: the registry sits above this
    layer) and the base-ref results, then choose."""
    version = environment_version(root, environment, model, sources.deployed, at=sources.state_commit)
    return choose_baseline(model, environment=environment, deployed_version=version,
                           versions=read_versions(root, model),
                           base_record=base_results_record(sources.base_results, model), base_ref=sources.base_ref)
