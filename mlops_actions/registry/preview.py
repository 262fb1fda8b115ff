"""The promotion preview (pure): what a PR editing ``environments/<env>.yaml`` changes against what runs now.

Inputs come from the caller: the desired state (the environment files at HEAD), the current state (GitHub
Deployments when the caller read them, else the environment files at the base ref, labelled as such), the
policy, the local version records and the approval rules in words. For each change: promotion or
rollback, whether the version exists with a trusted record, its gates verdict, its key metrics against the
version it replaces, the environment order, and the verdict. A change the deploy step will certainly refuse
(unknown version, untrusted record, failed gates, an order GitHub's deployments already break) fails.
Approvals come later (at merge) and are listed, never judged here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.convention.model import EnvironmentPolicy, Policy
from mlops_actions.evaluation.diff import MetricDiff, metric_diff
from mlops_actions.evaluation.gates import FAIL, PASS, WARN, verdict_of
from mlops_actions.registry.approval_words import ApprovalWords
from mlops_actions.registry.history import key_metrics
from mlops_actions.registry.promotion import Change, Deployed, changes, order_problem

GITHUB, BASE_FILES = "github", "base-files"
VALID, UNKNOWN, UNTRUSTED, PENDING = "valid", "unknown", "untrusted", "pending"
PROMOTION, ROLLBACK, FIRST, REDEPLOY = "promotion", "rollback", "first deployment", "redeploy"
AT_DEPLOY = "will be checked at deploy against GitHub Deployments"


@dataclass(frozen=True)
class CurrentState:
    """What runs now: env -> model -> version; ``history`` (GitHub only) for the environment-order check;
    ``notes`` on what could not be read (an environment file not valid at the base ref)."""

    source: str
    state: Mapping[str, Mapping[str, str]]
    ref: str | None = None
    history: Mapping[str, Sequence[Deployed]] | None = None
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class KnownVersions:
    """The versions a change may name: those registered here (``records.VersionRef``-like values: model,
    number, tag, record, problem) and ``pending``, model -> its candidate in this PR (``metrics``,
    ``metric_directions``, ``gates.verdict``), which the merge registers as the model's next version number
    before deploy runs."""

    registered: Sequence[Any]
    pending: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)


@dataclass(frozen=True)
class VersionCheck:
    """The version a change names: ``status`` valid, unknown, untrusted or pending (this merge registers it,
    ``record`` then holds the candidate's metrics and gates); its record when valid."""

    status: str
    record: Mapping[str, Any] | None
    problem: str | None


@dataclass(frozen=True)
class Order:
    """The environment-order check: ``status`` pass, fail or later (offline); ``requires`` the envs before."""

    status: str
    requires: tuple[str, ...]
    text: str


@dataclass(frozen=True)
class Item:
    change: Change
    kind: str
    version: VersionCheck
    gates: str | None
    metrics: tuple[MetricDiff, ...]
    metrics_note: str | None
    order: Order
    problems: tuple[str, ...]

    @property
    def verdict(self) -> str:
        if self.problems:
            return FAIL
        return WARN if self.gates == WARN else PASS


@dataclass(frozen=True)
class Removal:
    environment: str
    model: str
    version: str


@dataclass(frozen=True)
class PromotionPreview:
    files: tuple[str, ...]
    current: CurrentState
    items: tuple[Item, ...]
    removals: tuple[Removal, ...]
    approvals: tuple[ApprovalWords, ...]
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return verdict_of([i.verdict for i in self.items]) if self.items else PASS


def preview(desired: Mapping[str, Mapping[str, str]], current: CurrentState, policy: Policy, *,
            changed: Sequence[str], versions: KnownVersions,
            approvals: Mapping[str, ApprovalWords]) -> PromotionPreview:
    """The preview of the environments in ``changed`` (their files differ from the base ref); a change naming
    a model's next version number is its pending candidate (see ``KnownVersions``)."""
    known = {(v.model, f"v{v.number}"): v for v in versions.registered}
    order = [e.name for e in policy.environments if e.name in changed]
    todo = changes(desired, current.state, order)
    candidates = _candidates(known, versions.pending)
    items = tuple(_item(c, known, current, _env(policy, c.environment), candidates) for c in todo)
    removals = tuple(_removals(desired, current.state, order))
    envs = sorted({i.change.environment for i in items}, key=order.index)
    return PromotionPreview(tuple(f"environments/{e}.yaml" for e in order), current, items, removals,
                            tuple(approvals[e] for e in envs if e in approvals),
                            (*current.notes, *_drift(desired, current, policy, changed)))


def _env(policy: Policy, name: str) -> EnvironmentPolicy:
    return policy.environment(name) or EnvironmentPolicy(name)


def _candidates(known: Mapping[tuple[str, str], Any],
                pending: Mapping[str, Mapping[str, Any]]) -> dict[tuple[str, str], Mapping[str, Any]]:
    """(model, its next version) -> the candidate this PR trained; numbers of untrusted tags are taken too."""
    return {(model, f"v{1 + max((v.number for (m, _), v in known.items() if m == model), default=0)}"): record
            for model, record in pending.items()}


def _item(change: Change, known: Mapping[tuple[str, str], Any], current: CurrentState,
          env: EnvironmentPolicy, candidates: Mapping[tuple[str, str], Mapping[str, Any]]) -> Item:
    candidate = candidates.get((change.model, change.version))
    ref = known.get((change.model, change.version))
    version = check_version(change, ref) if ref is not None or candidate is None else _pending(change, candidate)
    gates = _gates(version.record)
    metrics, note = compare(version.record, known.get((change.model, change.current or "")), change.current)
    order = check_order(change, env.requires, current.history)
    gates_problem = _gates_problem(change, gates) if version.status == VALID else None
    problems = [p for p in (version.problem, gates_problem,
                            order.text if order.status == FAIL else None) if p]
    return Item(change, kind_of(change), version, gates, metrics, note, order, tuple(problems))


def kind_of(change: Change) -> str:
    """promotion (a newer version), rollback (an older one), first deployment; redeploy when unreadable."""
    if change.current is None:
        return FIRST
    new, old = _number(change.version), _number(change.current)
    if new is None or old is None or new == old:
        return REDEPLOY
    return ROLLBACK if new < old else PROMOTION


def _number(version: str) -> int | None:
    digits = version[1:] if version.startswith("v") else ""
    return int(digits) if digits.isdigit() and len(digits) < 10 else None


def check_version(change: Change, ref: Any) -> VersionCheck:
    """valid (a tag with a trusted record), unknown (no tag), untrusted (a record edited by hand, or none)."""
    if ref is None:
        return VersionCheck(UNKNOWN, None, f"version {change.tag} does not exist (no such tag here); "
                                           f"register it first, or fetch tags")
    if ref.record is None:
        return VersionCheck(UNTRUSTED, None, f"version {change.tag} is not trusted: "
                                             f"{ref.problem or 'no version record'}")
    return VersionCheck(VALID, ref.record, None)


def _pending(change: Change, candidate: Mapping[str, Any]) -> VersionCheck:
    """The version this merge registers (before deploy runs): refused with it when its gates fail."""
    if _gates(candidate) == FAIL:
        return VersionCheck(PENDING, candidate, f"{change.tag} is the version this merge would register, but "
                                                "its gates fail in this pull request: it will not be registered")
    return VersionCheck(PENDING, candidate, None)


def _gates(record: Mapping[str, Any] | None) -> str | None:
    verdict = (record or {}).get("gates", {}).get("verdict") if record else None
    return str(verdict) if verdict is not None else None


def _gates_problem(change: Change, gates: str | None) -> str | None:
    return f"version {change.tag} failed its gates when registered" if gates == FAIL else None


def compare(record: Mapping[str, Any] | None, replaced: Any,
            replaced_version: str | None) -> tuple[tuple[MetricDiff, ...], str | None]:
    """Key metrics of ``record`` against the replaced version's (direction-aware), or why not."""
    if record is None:
        return (), None
    metrics = record.get("metrics") or {}
    directions = record.get("metric_directions") or {}
    keys = key_metrics(metrics, directions)
    new = {k: metrics[k] for k in keys}
    old_record = replaced.record if replaced is not None else None
    if replaced_version is None:
        return metric_diff(new, None, directions), None
    if old_record is None:
        why = "has no tag here" if replaced is None else "has no trusted record"
        return metric_diff(new, None, directions), f"the replaced version {replaced_version} {why}"
    old = old_record.get("metrics") or {}
    return metric_diff(new, {k: old[k] for k in keys if k in old}, directions), None


def check_order(change: Change, requires: Sequence[str],
                history: Mapping[str, Sequence[Deployed]] | None) -> Order:
    """The environment order: offline only its requirement, with GitHub's deployments its answer."""
    needs = tuple(requires)
    if not needs:
        return Order(PASS, needs, "no environment required before")
    if history is None:
        return Order("later", needs, f"must have been deployed to {', '.join(needs)}: {AT_DEPLOY}")
    problem = order_problem(change, needs, history)
    if problem is not None:
        return Order(FAIL, needs, problem)
    return Order(PASS, needs, f"deployed to {', '.join(needs)} before")


def _removals(desired: Mapping[str, Mapping[str, str]], current: Mapping[str, Mapping[str, str]],
              order: Sequence[str]) -> list[Removal]:
    return [Removal(env, model, version) for env in order
            for model, version in sorted(current.get(env, {}).items()) if model not in desired.get(env, {})]


def _drift(desired: Mapping[str, Mapping[str, str]], current: CurrentState, policy: Policy,
           changed: Sequence[str]) -> list[str]:
    """With GitHub's state: environments this PR leaves alone whose file differs from what runs there."""
    if current.source != GITHUB:
        return []
    others = [e.name for e in policy.environments if e.name not in changed]
    return [f"{c.environment} (not changed by this pull request): its file names {c.model} {c.version}, "
            f"GitHub Deployments say {c.current or 'nothing'} runs there; the next deploy will change it too"
            for c in changes(desired, current.state, others)]
