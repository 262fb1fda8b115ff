"""Promotion by environment files (pure): desired state vs what is deployed, and what each change needs."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort
    from mlops_actions.github.values import Deployment

RAN = frozenset({"success", "inactive"})  # latest status of a deployment that ran (see deployed_from)
UNDER_WAY = frozenset({"pending", "queued", "in_progress"})  # created, not finished: a deploy job runs it


@dataclass(frozen=True)
class Deployed:
    """A successful deployment of ``model@version`` to ``environment`` (newest first in lists)."""

    environment: str
    model: str
    version: str
    deployment_id: int


@dataclass(frozen=True)
class Change:
    environment: str
    model: str
    version: str
    current: str | None

    @property
    def tag(self) -> str:
        return f"{self.model}@{self.version}"

    def describe(self) -> str:
        was = f"{self.current} " if self.current else ""
        return f"{self.environment}: {self.model} {was}→ {self.version}"


def deployed_from(environment: str, deployments: Iterable[Deployment]) -> list[Deployed]:
    """Successful deployments of our models (payload = version record), newest first.

    A deployment GitHub has since marked ``inactive`` counts: GitHub inactivates the earlier deployments of an
    environment when a newer one succeeds -- of any model -- and only those that had succeeded. So a model
    keeps its place when another model deploys to the same environment, and a rollback's version has still
    "reached" the environments the order rule requires.
    """
    found = []
    for d in deployments:
        payload = d.payload if isinstance(d.payload, Mapping) else {}
        status = getattr(d.latest_status, "state", None)
        if status in RAN and payload.get("model") and payload.get("version"):
            found.append(Deployed(environment, str(payload["model"]), str(payload["version"]), int(d.id)))
    return found


def under_way(deployments: Iterable[Deployment]) -> dict[str, Deployed]:
    """model → its newest deployment, when that one is still queued or in progress (newest first in)."""
    return _newest_when(deployments, lambda d: getattr(d.latest_status, "state", None) in UNDER_WAY)


def unfinished(deployments: Iterable[Deployment]) -> dict[str, Deployed]:
    """model → its newest deployment, when that one has no status at all: created by a deploy job that was
    cancelled before it set the status (a rerun completes it rather than deploying twice)."""
    return _newest_when(deployments, lambda d: d.latest_status is None)


def _newest_when(deployments: Iterable[Deployment], keep: Callable[[Deployment], bool]) -> dict[str, Deployed]:
    """model → its newest deployment (newest first in), for the models whose newest one satisfies ``keep``."""
    found: dict[str, Deployed] = {}
    seen: set[str] = set()
    for d in deployments:
        payload = d.payload if isinstance(d.payload, Mapping) else {}
        model, version = payload.get("model"), payload.get("version")
        if not model or not version or str(model) in seen:
            continue
        seen.add(str(model))
        if keep(d):
            found[str(model)] = Deployed(str(getattr(d, "environment", "")), str(model), str(version), int(d.id))
    return found


DEPLOYMENTS_READ = 100  # newest deployments read per environment, at least


def read_deployments(gh: GitHubPort, environments: Iterable[str],
                     models: Collection[str] = ()) -> dict[str, list[Deployed]]:
    """environment → our models' deployments that ran there, newest first (one read per environment through
    ``gh``, a ``GitHubRepo``): what deploy, history and the report's preview all start from."""
    return {env: deployed_from(env, found) for env, found in read_raw(gh, environments, models).items()}


def read_raw(gh: GitHubPort, environments: Iterable[str],
             models: Collection[str] = ()) -> dict[str, tuple[Deployment, ...]]:
    """environment → its newest deployments as GitHub lists them (any status, any payload): the newest
    ``DEPLOYMENTS_READ``, and older ones until each of ``models`` has one that ran (or the history ends), so
    that a thousand models' current state is read whole, not only the newest hundred deployments'."""
    return {env: tuple(gh.deployments(env, DEPLOYMENTS_READ, _until_ran(models) if models else None))
            for env in environments}


def _until_ran(models: Collection[str]) -> Callable[[Sequence[Deployment]], bool]:
    """Whether to read on: some of ``models`` has no deployment that ran among those read so far."""
    missing, seen = set(models), [0]

    def more(found: Sequence[Deployment]) -> bool:
        for d in found[seen[0]:]:
            if isinstance(d.payload, Mapping) and getattr(d.latest_status, "state", None) in RAN:
                missing.discard(str(d.payload.get("model")))
        seen[0] = len(found)
        return bool(missing)

    return more


def current_state(deployed: Sequence[Deployed]) -> dict[str, str]:
    """model → version of its newest successful deployment."""
    state: dict[str, str] = {}
    for d in deployed:
        state.setdefault(d.model, d.version)
    return state


def changes(desired: Mapping[str, Mapping[str, str]], current: Mapping[str, Mapping[str, str]],
            order: Sequence[str]) -> list[Change]:
    """Every (environment, model) whose desired version differs from the deployed one, in promotion order."""
    found = []
    for env in order:
        for model, version in sorted(desired.get(env, {}).items()):
            now = current.get(env, {}).get(model)
            if now != version:
                found.append(Change(env, model, version, now))
    return found


def order_problem(change: Change, requires: Sequence[str], history: Mapping[str, Sequence[Deployed]]) -> str | None:
    """Why ``change`` breaks the environment order: the version never reached a required environment."""
    missing = [env for env in requires
               if not any(d.model == change.model and d.version == change.version for d in history.get(env, ()))]
    if not missing:
        return None
    return (f"rule 'environment order': {change.tag} has never been deployed to {', '.join(missing)}; "
            f"promote it there first")
