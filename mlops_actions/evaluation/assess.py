"""One model's assessment: its diffs against the baseline, its fairness view and its gates. Pure.

``assess`` takes what was loaded (the candidate's record and metrics, the spec, the policy, the baseline,
the fairness view) and returns a ``ModelReport``: the value object the report and the model card render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from mlops_actions.convention.model import (
    CLASSIFICATION_METRICS,
    REGRESSION_FAIRNESS,
    REGRESSION_METRICS,
    Gate,
    ModelSpec,
    Policy,
)
from mlops_actions.evaluation.baseline import Baseline
from mlops_actions.evaluation.diff import (
    DataDiff,
    FairnessDiff,
    MetricDiff,
    ParamChange,
    data_diff,
    fairness_diff,
    metric_diff,
    params_diff,
)
from mlops_actions.evaluation.gates import GateReport, Observed, evaluate_gates
from mlops_actions.evaluation.heldout import HeldOut, change_intervals

Interval = tuple[float | None, float | None]


@dataclass(frozen=True)
class GroupRow:
    """One group of the fairness report: its values per sensitive (and control) feature, size and rates.

    ``by`` names the columns of the grouping the row belongs to (one column for a marginal grouping, two for
    an intersection; empty: the view's ``features``); ``small`` marks a group below ``min_group_size``
    (shown, left out of disparities and gates); ``target`` is the class a multi-class model is measured
    for, one against the rest ("" otherwise)."""

    group: tuple[str, ...]
    n: int | None
    values: Mapping[str, float | None]
    intervals: Mapping[str, Interval] = field(default_factory=dict)
    by: tuple[str, ...] = ()
    small: bool = False
    target: str = ""

    def label(self, features: Sequence[str] = ()) -> str:
        """``colour: Black, sex: Female`` (the class first when there is one)."""
        names = self.by or tuple(features)
        parts = [f"{n}: {v}" for n, v in zip(names, self.group, strict=False)] or list(self.group)
        return (f"class {self.target} · " if self.target else "") + ", ".join(parts)


@dataclass(frozen=True)
class FairnessView:
    """Per-group rates with intervals, the summary of disparities and the warnings; aggregates only."""

    features: tuple[str, ...]
    columns: tuple[str, ...]
    rows: tuple[GroupRow, ...]
    summary: Mapping[str, float | None]
    warnings: tuple[str, ...] = ()
    chart_metric: str | None = None
    summary_ci: Mapping[str, Interval] = field(default_factory=dict)
    min_group_size: int | None = None
    left_out_rows: int = 0  # rows of small groups, summed over the groupings
    empty: int = 0  # intersections nobody falls in: not shown
    groupings: tuple[tuple[str, ...], ...] = ()
    classes: tuple[str, ...] = ()

    @property
    def small_groups(self) -> int:
        return sum(r.small for r in self.rows)


@dataclass(frozen=True)
class Candidate:
    """What training produced for one model, as loaded from its results folder."""

    name: str
    task: str
    record: Mapping[str, Any]
    metrics: Mapping[str, Any]
    directions: Mapping[str, str]
    class_balance: Mapping[str, float] | None = None


@dataclass(frozen=True)
class ModelReport:
    """Everything the report shows for one model."""

    name: str
    task: str
    record: Mapping[str, Any]
    spec: ModelSpec | None
    baseline: Baseline
    reasons: tuple[str, ...]
    metrics: tuple[MetricDiff, ...]
    params: tuple[ParamChange, ...]
    data: DataDiff
    fairness: FairnessView | None
    fairness_changes: tuple[FairnessDiff, ...]
    gates: GateReport
    baseline_groups: Mapping[str, float | None] | None = None
    notes: tuple[str, ...] = ()
    heldout: HeldOut | None = None
    baseline_heldout: HeldOut | None = None
    fairness_note: str | None = None  # why fairness was not measured
    threshold: float | None = None

    @property
    def verdict(self) -> str:
        return self.gates.verdict

    @property
    def fingerprint(self) -> str:
        return str(self.record.get("fingerprint", ""))

    @property
    def artifact_sha256(self) -> str:
        return str((self.record.get("artifact") or {}).get("sha256", ""))


@dataclass(frozen=True)
class Evidence:
    """What was measured beside the records: the held-out aggregates of the candidate and the baseline, why
    fairness was not measured, the decision threshold, the candidate's fairness view (None: the record's
    summary) and the baseline's per-group values."""

    heldout: HeldOut | None = None
    baseline_heldout: HeldOut | None = None
    fairness_note: str | None = None
    threshold: float | None = None
    fairness: FairnessView | None = None
    baseline_groups: Mapping[str, float | None] | None = None


@dataclass(frozen=True)
class Rules:
    """What the repository asks of a model: its ``spec`` (None: this checkout has none) and the ``policy``;
    the gates of both are checked."""

    spec: ModelSpec | None
    policy: Policy


def assess(candidate: Candidate, rules: Rules, *, baseline: Baseline, reasons: Sequence[str] = (),
           notes: Sequence[str] = (), evidence: Evidence | None = None) -> ModelReport:
    """Diff the candidate against the baseline and check the spec's and the policy's gates."""
    spec, policy = rules.spec, rules.policy
    old = baseline.record
    ev = evidence or Evidence()
    fairness = ev.fairness
    summary = dict(fairness.summary) if fairness else dict(candidate.record.get("fairness") or {})
    metrics = _with_intervals(metric_diff(candidate.metrics, _mapping(old, "metrics"), candidate.directions),
                              candidate, baseline, ev)
    observed = Observed(
        metrics=candidate.metrics, directions=candidate.directions, fairness=summary,
        baseline_metrics=_mapping(old, "metrics"), baseline_fairness=_mapping(old, "fairness"),
        baseline_label=baseline.short_label,
        intervals={d.name: (d.interval.low, d.interval.high) for d in metrics if d.interval is not None},
        unmeasured=ev.fairness_note if fairness is None else None)
    gates = (spec.gates if spec else ()) + tuple(g for g in policy.gates if applies(g, candidate.task))
    return ModelReport(
        name=candidate.name, task=candidate.task, record=candidate.record, spec=spec, baseline=baseline,
        reasons=tuple(reasons),
        metrics=metrics,
        params=params_diff(old.get("params") if old else None, candidate.record.get("params")) if old else (),
        data=data_diff(old.get("data") if old else None, candidate.record.get("data") or (),
                       baseline.class_balance, candidate.class_balance),
        fairness=fairness, fairness_changes=fairness_diff(_mapping(old, "fairness"), summary),
        gates=evaluate_gates(gates, observed), baseline_groups=ev.baseline_groups, notes=tuple(notes),
        heldout=ev.heldout, baseline_heldout=ev.baseline_heldout, fairness_note=ev.fairness_note,
        threshold=ev.threshold)


def _with_intervals(diffs: tuple[MetricDiff, ...], candidate: Candidate, baseline: Baseline,
                    ev: Evidence) -> tuple[MetricDiff, ...]:
    """Each change with its 95% interval (paired when the baseline was evaluated on the same rows)."""
    if ev.heldout is None or baseline.record is None:
        return diffs
    same_data = _hashes(baseline.record) == _hashes(candidate.record)
    rows = (baseline.record.get("rows") or {}).get("test")
    found = change_intervals([d.name for d in diffs], {d.name: d.delta for d in diffs}, ev.heldout,
                             ev.baseline_heldout, same_data=same_data,
                             baseline_rows=rows if isinstance(rows, int) else None)
    return tuple(replace(d, interval=found.get(d.name)) for d in diffs)


def applies(gate: Gate, task: str) -> bool:
    """A policy's default gate applies to the models of its metric's task (an accuracy floor is not asked of
    a regression model, nor an MAE ceiling of a classifier)."""
    other = REGRESSION_METRICS | REGRESSION_FAIRNESS if task == "classification" else CLASSIFICATION_METRICS
    if gate.kind == "fairness" and task == "regression":
        return gate.name in REGRESSION_FAIRNESS
    return gate.name not in other


def _hashes(record: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(d.get("hash")) for d in record.get("data") or ())


def _mapping(record: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    """``record[key]`` when there is a record; an absent key in an existing record is an empty mapping."""
    if record is None:
        return None
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}
