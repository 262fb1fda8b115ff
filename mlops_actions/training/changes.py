"""Which models need training, and why (pure: snapshots and records in, decisions out).

A model needs training when it has no valid version record, or when its work-tree fingerprint differs
from its latest record's. Reasons explain the difference against ``--base`` (spec keys with old → new
values, data, code) and against the record (libraries, data, code, spec). A model that changed since
the base but matches its latest record exactly needs no training: that version already exists.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from mlops_actions.repodata.hashing import LINKED
from mlops_actions.training.fingerprint import Fingerprint, Snapshot

TRAIN = "train"
UNCHANGED = "unchanged"
REMOVED = "removed"
MAX_SPEC_CHANGES = 20
MAX_VALUE = 60
_ABSENT = object()


class VersionRef(Protocol):
    """What a plan reads of a version (``registry.records.VersionRef``, which sits above this layer)."""

    @property
    def tag(self) -> str: ...

    @property
    def record(self) -> Mapping[str, Any] | None: ...


@dataclass(frozen=True)
class ModelPlan:
    """One model's decision: ``status`` is train, unchanged or removed; ``reasons`` say why."""

    model: str
    status: str
    reasons: tuple[str, ...]

    @property
    def train(self) -> bool:
        return self.status == TRAIN


@dataclass(frozen=True)
class PlanResult:
    """What ``plan`` found: each model's decision, the label of the base it compared with (None without a
    base) and, when more models need training than the matrix has jobs, the batches of models per job."""

    models: tuple[ModelPlan, ...]
    base: str | None
    batches: tuple[tuple[str, ...], ...] | None = None


@dataclass(frozen=True)
class Inputs:
    """What a plan compares: the work tree, the base (None without one), the latest valid records."""

    head: Mapping[str, Snapshot]
    base: Mapping[str, Snapshot] | None
    records: Mapping[str, VersionRef]
    base_label: str = "base"
    record_specs: Mapping[str, Mapping[str, Any]] | None = None  # model -> spec at its record's commit
    ignored: Mapping[str, Sequence[str]] | None = None  # model -> why newer version tags were not trusted


def plan_models(inputs: Inputs) -> list[ModelPlan]:
    """A decision for every model at HEAD, then every model removed since the base; sorted by name."""
    plans = [_with_ignored(_decide(name, snap, inputs), inputs) for name, snap in sorted(inputs.head.items())]
    removed = sorted(set(inputs.base or {}) - set(inputs.head))
    plans += [ModelPlan(n, REMOVED, (f"removed: in {inputs.base_label}, not in the work tree",)) for n in removed]
    return plans


def _with_ignored(plan: ModelPlan, inputs: Inputs) -> ModelPlan:
    notes = tuple((inputs.ignored or {}).get(plan.model, ()))
    return ModelPlan(plan.model, plan.status, plan.reasons + notes) if notes else plan


def _decide(name: str, head: Snapshot, inputs: Inputs) -> ModelPlan:
    if head.fingerprint is None:
        return ModelPlan(name, TRAIN, (f"the spec does not parse: {head.problem}",))
    linked = linked_files(head.fingerprint)
    if linked:  # the fingerprint cannot vouch for data behind a link: train, whose checks refuse it
        return ModelPlan(name, TRAIN, tuple(f"{p} is a symbolic link (refused: its fingerprint would be the "
                                            "link's text, not the data)" for p in linked))
    base = inputs.base.get(name) if inputs.base is not None else None
    base_reasons = _base_reasons(head, base, inputs)
    record = inputs.records.get(name)
    if record is None or record.record is None:
        return ModelPlan(name, TRAIN, (*base_reasons, "no version registered yet"))
    if record.record.get("fingerprint") == head.fingerprint.value:  # the common case: no record parsed further
        note = f"matches {record.tag}" + (f" (though it changed since {inputs.base_label})" if base_reasons else "")
        return ModelPlan(name, UNCHANGED, (note,))
    registered = Fingerprint.from_record(record.record)
    base_fp = base.fingerprint if base is not None else None
    since = _record_reasons(head, base_fp, registered, record.tag, (inputs.record_specs or {}).get(name))
    return ModelPlan(name, TRAIN, _dedupe((*base_reasons, *since)) or (f"differs from {record.tag}",))


def linked_files(fingerprint: Fingerprint) -> list[str]:
    """Data and code files of ``fingerprint`` that are, or go through, a symbolic link."""
    files = [(d.path, d.hash) for d in fingerprint.data] + list(fingerprint.code.items())
    return [path for path, value in files if value == LINKED]


def _base_reasons(head: Snapshot, base: Snapshot | None, inputs: Inputs) -> tuple[str, ...]:
    if inputs.base is None:
        return ()
    if base is None:
        return (f"new model (not in {inputs.base_label})",)
    if base.fingerprint is None or base.raw is None:
        return (f"the spec in {inputs.base_label} did not parse",)
    assert head.fingerprint is not None and head.raw is not None
    if base.fingerprint.value == head.fingerprint.value:
        return ()
    same_spec = base.fingerprint.spec_sha256 == head.fingerprint.spec_sha256
    spec = [] if same_spec else [f"spec changed: {c}" for c in spec_changes(base.raw, head.raw)]
    return (*spec, *file_changes(base.fingerprint, head.fingerprint))


def _record_reasons(head: Snapshot, base: Fingerprint | None, registered: Fingerprint, tag: str,
                    record_spec: Mapping[str, Any] | None) -> tuple[str, ...]:
    """What differs from the record and is not already explained by the base comparison."""
    assert head.fingerprint is not None and head.raw is not None
    reasons: list[str] = []
    spec_explained = base is not None and base.spec_sha256 == registered.spec_sha256
    if registered.spec_sha256 != head.fingerprint.spec_sha256 and not spec_explained:
        if record_spec is not None:
            reasons += [f"spec changed since {tag}: {c}" for c in spec_changes(record_spec, head.raw)]
        else:
            reasons.append(f"spec changed since {tag}")
    reasons += [f"{r} (since {tag})" for r in file_changes(registered, head.fingerprint, explained_by=base)]
    reasons += [f"library changed since {tag}: {c}" for c in mapping_changes(registered.libraries,
                                                                              head.fingerprint.libraries)]
    return tuple(reasons)


def _dedupe(reasons: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(reasons))


def needs_record_spec(head: Snapshot, base: Snapshot | None, record: VersionRef | None) -> bool:
    """True when explaining the difference to ``record`` needs the spec at the record's commit."""
    if head.fingerprint is None or record is None or record.record is None or not record.record.get("commit"):
        return False
    registered = record.record.get("spec_sha256")
    if registered == head.fingerprint.spec_sha256 or record.record.get("fingerprint") == head.fingerprint.value:
        return False
    return base is None or base.fingerprint is None or base.fingerprint.spec_sha256 != registered


# -- differences -------------------------------------------------------------------------------------------

def file_changes(old: Fingerprint, new: Fingerprint, explained_by: Fingerprint | None = None) -> list[str]:
    """Data and code files whose hashes differ, as ``data changed: path (old → new)``; paths on which
    ``explained_by`` agrees with ``old`` are left out (its own comparison with ``new`` shows them)."""
    lines = [f"data changed: {c}" for c in _hash_changes(*_unexplained(
        {d.path: d.hash for d in old.data}, {d.path: d.hash for d in new.data},
        {d.path: d.hash for d in explained_by.data} if explained_by else None))]
    lines += [f"code changed: {c}" for c in _hash_changes(*_unexplained(
        dict(old.code), dict(new.code), dict(explained_by.code) if explained_by else None))]
    return lines


def _unexplained(old: dict[str, str], new: dict[str, str],
                 other: dict[str, str] | None) -> tuple[dict[str, str], dict[str, str]]:
    if other is None:
        return old, new
    same = {p for p, h in old.items() if other.get(p) == h}
    return ({p: h for p, h in old.items() if p not in same}, {p: h for p, h in new.items() if p not in same})


def _hash_changes(old: Mapping[str, str], new: Mapping[str, str]) -> Iterator[str]:
    for path in sorted(set(old) | set(new)):
        before, after = old.get(path), new.get(path)
        if before != after:
            yield f"{path} ({_short_hash(before)} → {_short_hash(after)})"


def _short_hash(value: str | None) -> str:
    if value is None:
        return "(absent)"
    kind, _, hexdigest = value.partition(":")
    return f"{kind}:{hexdigest[:10]}" if hexdigest else value


def mapping_changes(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    return [f"{k} {old.get(k, '(absent)')} → {new.get(k, '(absent)')}"
            for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)]


def spec_changes(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """``dotted.path: old → new`` for every leaf that differs (at most ``MAX_SPEC_CHANGES`` lines)."""
    changes = list(_diff(old, new, ""))
    if len(changes) > MAX_SPEC_CHANGES:
        rest = len(changes) - MAX_SPEC_CHANGES
        changes = [*changes[:MAX_SPEC_CHANGES], f"... and {rest} more spec change(s)"]
    return changes


def _diff(old: Any, new: Any, path: str) -> Iterator[str]:
    if isinstance(old, Mapping) and isinstance(new, Mapping):
        for key in sorted(set(old) | set(new), key=str):
            yield from _diff(old.get(key, _ABSENT), new.get(key, _ABSENT), f"{path}.{key}" if path else str(key))
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _diff(a, b, f"{path}[{i}]")
    elif old != new or type(old) is not type(new):
        yield f"{path or '(whole spec)'}: {show(old)} → {show(new)}"


def show(value: Any) -> str:
    """A spec value in one short line (JSON form; ``(absent)`` for a missing key)."""
    if value is _ABSENT:
        return "(absent)"
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 3] + "..."
