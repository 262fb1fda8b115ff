"""One model's assessment: its diffs against the baseline, its fairness view and its gates. Pure.

``assess`` takes what was loaded (the candidate's record and metrics, the spec, the policy, the baseline,
the fairness view) and returns a ``ModelReport``: the value object the report and the model card render.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.convention.model import ModelSpec, Policy
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

Interval = tuple[float | None, float | None]


@dataclass(frozen=True)
class GroupRow:
    """One group of the fairness report: its values per sensitive (and control) feature, size and rates."""

    group: tuple[str, ...]
    n: int | None
    values: Mapping[str, float | None]
    intervals: Mapping[str, Interval] = field(default_factory=dict)


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
    baseline_groups: Mapping[tuple[str, ...], float | None] | None = None
    notes: tuple[str, ...] = ()

    @property
    def verdict(self) -> str:
        return self.gates.verdict

    @property
    def fingerprint(self) -> str:
        return str(self.record.get("fingerprint", ""))

    @property
    def artifact_sha256(self) -> str:
        return str((self.record.get("artifact") or {}).get("sha256", ""))


def assess(candidate: Candidate, *, spec: ModelSpec | None, policy: Policy, baseline: Baseline,
           fairness: FairnessView | None, reasons: Sequence[str] = (), notes: Sequence[str] = (),
           baseline_groups: Mapping[tuple[str, ...], float | None] | None = None) -> ModelReport:
    """Diff the candidate against the baseline and check the spec's and the policy's gates."""
    old = baseline.record
    summary = dict(fairness.summary) if fairness else dict(candidate.record.get("fairness") or {})
    observed = Observed(
        metrics=candidate.metrics, directions=candidate.directions, fairness=summary,
        baseline_metrics=_mapping(old, "metrics"), baseline_fairness=_mapping(old, "fairness"),
        baseline_label=baseline.short_label)
    gates = (spec.gates if spec else ()) + policy.gates
    return ModelReport(
        name=candidate.name, task=candidate.task, record=candidate.record, spec=spec, baseline=baseline,
        reasons=tuple(reasons),
        metrics=metric_diff(candidate.metrics, _mapping(old, "metrics"), candidate.directions),
        params=params_diff(old.get("params") if old else None, candidate.record.get("params")) if old else (),
        data=data_diff(old.get("data") if old else None, candidate.record.get("data") or (),
                       baseline.class_balance, candidate.class_balance),
        fairness=fairness, fairness_changes=fairness_diff(_mapping(old, "fairness"), summary),
        gates=evaluate_gates(gates, observed), baseline_groups=baseline_groups, notes=tuple(notes))


def _mapping(record: Mapping[str, Any] | None, key: str) -> Mapping[str, Any] | None:
    """``record[key]`` when there is a record; an absent key in an existing record is an empty mapping."""
    if record is None:
        return None
    value = record.get(key)
    return value if isinstance(value, Mapping) else {}
