"""Gates: floors and ceilings, max regression against the baseline, fairness limits. One verdict. Pure.

Each bound of a gate (``min``, ``max``, ``max_regression``) is checked on its own and gives one
``GateResult``. Semantics:

- a defined value beyond a bound gives the gate's action (``fail`` or ``warn``); within bounds, ``pass``;
- an undefined value (None, NaN, a metric the model does not report, fairness that was not measured) never
  passes: its status is ``undefined`` and it *counts as* the gate's ``undefined`` setting (``fail`` by
  default, or ``warn``), with a message saying why the value is undefined;
- ``max_regression`` without a baseline is ``undefined`` with the message "not applicable (new model)";
  with a baseline whose own value is undefined, ``undefined`` with a message saying so. Neither blocks, both
  are shown (they count as ``pass``);
- ``max_regression`` with ``significant: true`` breaks only when the whole 95% interval of the change lies
  beyond the allowed regression (noise never fails it); without an interval the point estimate decides and
  the message says so.

The verdict is ``fail`` when any result counts as failed, else ``warn`` when any counts as warned, else
``pass``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.convention.model import Gate
from mlops_actions.evaluation.diff import as_number, fairness_direction

PASS, WARN, FAIL, UNDEFINED = "pass", "warn", "fail", "undefined"
TO_OVERALL_SUFFIX = "@to_overall"
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "mape"})


@dataclass(frozen=True)
class GateResult:
    """The outcome of one bound of one gate."""

    gate: Gate
    bound: str
    value: float | None
    threshold: float
    baseline: float | None
    status: str
    message: str
    counts_as: str | None = None  # for an undefined value: what it does to the verdict (fail or warn)

    @property
    def effect(self) -> str:
        """What this result does to the verdict: ``fail``, ``warn`` or ``pass`` (also for n/a)."""
        if self.counts_as is not None:
            return self.counts_as
        return PASS if self.status == UNDEFINED else self.status

    @property
    def label(self) -> str:
        """The checked quantity, e.g. ``accuracy`` or ``demographic_parity_difference (to_overall)``."""
        if self.gate.kind == "fairness" and self.gate.method != "between_groups":
            return f"{self.gate.name} ({self.gate.method})"
        return self.gate.name

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.gate.kind, "name": self.gate.name, "method": self.gate.method if
                self.gate.kind == "fairness" else None, "bound": self.bound, "value": self.value,
                "threshold": self.threshold, "baseline": self.baseline, "action": self.gate.action,
                "source": self.gate.source, "status": self.status, "counts_as": self.effect,
                "message": self.message}


@dataclass(frozen=True)
class GateReport:
    """All gate results of one model and their verdict."""

    results: tuple[GateResult, ...]

    @property
    def verdict(self) -> str:
        return verdict_of(r.effect for r in self.results)

    def count(self, status: str) -> int:
        """Results that count as ``status`` (fail, warn, pass); ``undefined``: shown as not applicable."""
        if status == UNDEFINED:
            return sum(r.status == UNDEFINED and r.effect == PASS for r in self.results)
        if status == PASS:
            return sum(r.status == PASS for r in self.results)
        return sum(r.effect == status for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "results": [r.to_dict() for r in self.results]}


def verdict_of(statuses: Iterable[str]) -> str:
    """``fail`` beats ``warn`` beats ``pass``; ``undefined`` (not applicable) alone is a pass."""
    seen = set(statuses)
    if FAIL in seen:
        return FAIL
    return WARN if WARN in seen else PASS


def fairness_key(name: str, method: str) -> str:
    """Key of a disparity in the fairness summary: ``name`` between groups, ``name@to_overall``."""
    key = name
    return key if method == "between_groups" else f"{key}{TO_OVERALL_SUFFIX}"


@dataclass(frozen=True)
class Observed:
    """What the gates look at: the candidate's and the baseline's metrics and fairness summaries."""

    metrics: Mapping[str, Any]
    directions: Mapping[str, str]
    fairness: Mapping[str, Any]
    baseline_metrics: Mapping[str, Any] | None = None
    baseline_fairness: Mapping[str, Any] | None = None
    baseline_label: str = "baseline"
    intervals: Mapping[str, tuple[float, float]] = field(default_factory=dict)  # metric → change interval
    unmeasured: str | None = None  # why fairness was not measured (the gate's value is then undefined)


def evaluate_gates(gates: Iterable[Gate], observed: Observed) -> GateReport:
    """Check every bound of every gate (spec gates first, then the policy's, as given)."""
    results: list[GateResult] = []
    for gate in gates:
        results.extend(check_gate(gate, observed))
    return GateReport(tuple(results))


@dataclass(frozen=True)
class Seen:
    """One gate's quantity as observed: the candidate's ``value`` (None: undefined), whether the candidate
    reports it at all (``present``), the baseline's value, whether there is a baseline at all, and which
    ``direction`` is better."""

    value: float | None
    present: bool
    baseline: float | None
    has_baseline: bool
    direction: str


def check_gate(gate: Gate, obs: Observed) -> list[GateResult]:
    seen = _lookup(gate, obs)
    results = []
    if gate.min is not None:
        results.append(_floor(gate, "min", gate.min, seen))
    if gate.max is not None:
        results.append(_floor(gate, "max", gate.max, seen))
    if gate.max_regression is not None:
        result = _regression(gate, seen, obs.baseline_label)
        results.append(_significance(result, obs.intervals.get(gate.name), seen.direction)
                       if gate.significant and gate.kind == "metric" else result)
    if gate.kind == "fairness" and obs.unmeasured:
        results = [_unmeasured(r, obs.unmeasured) if r.status == UNDEFINED and r.counts_as else r for r in results]
    return results


def _unmeasured(result: GateResult, why: str) -> GateResult:
    return GateResult(result.gate, result.bound, None, result.threshold, result.baseline, UNDEFINED,
                      f"fairness was not measured ({why}); an undefined value cannot pass this gate",
                      result.counts_as)


def _lookup(gate: Gate, obs: Observed) -> Seen:
    if gate.kind == "metric":
        key, now, then = gate.name, obs.metrics, obs.baseline_metrics
        direction = obs.directions.get(gate.name) or default_direction(gate.name)
    else:
        key, now, then = fairness_key(gate.name, gate.method), obs.fairness, obs.baseline_fairness
        direction = fairness_direction(gate.name)
    has_baseline = then is not None
    baseline = as_number(then.get(key)) if then is not None else None
    return Seen(as_number(now.get(key)), key in now, baseline, has_baseline, direction)


def default_direction(metric: str) -> str:
    """Direction of a metric when nothing says: errors and losses lower, scores higher."""
    return "lower" if metric in LOWER_IS_BETTER else "higher"


def _tolerance(threshold: float) -> float:
    """Rounding slack, so that 0.85 - 0.83 counts as a regression of 0.02, not 0.020000000000000018."""
    return 1e-9 * max(1.0, abs(threshold))


def _undefined_value(gate: Gate, bound: str, threshold: float, baseline: float | None,
                     present: bool) -> GateResult:
    why = "is undefined (NaN or null)" if present else "is not reported"
    return GateResult(gate, bound, None, threshold, baseline, UNDEFINED,
                      f"{_what(gate)} {why}; an undefined value cannot pass this gate", gate.undefined)


def _what(gate: Gate) -> str:
    return "metric" if gate.kind == "metric" else "disparity"


def _floor(gate: Gate, bound: str, threshold: float, seen: Seen) -> GateResult:
    value, baseline = seen.value, seen.baseline
    if value is None:
        return _undefined_value(gate, bound, threshold, baseline, seen.present)
    slack = _tolerance(threshold)
    broken = value < threshold - slack if bound == "min" else value > threshold + slack
    if not broken:
        relation = "≥" if bound == "min" else "≤"
        return GateResult(gate, bound, value, threshold, baseline, PASS,
                          f"{value:.6g} {relation} {threshold:.6g}")
    relation = "below the minimum" if bound == "min" else "above the maximum"
    return GateResult(gate, bound, value, threshold, baseline, gate.action,
                      f"{value:.6g} is {relation} {threshold:.6g}")


def _regression(gate: Gate, seen: Seen, label: str) -> GateResult:
    """The max_regression bound against the baseline (``label``: how the report names it)."""
    value, baseline = seen.value, seen.baseline
    limit = float(gate.max_regression or 0.0)
    if not seen.has_baseline:
        return GateResult(gate, "max_regression", value, limit, None, UNDEFINED,
                          "not applicable (new model): there is no baseline to compare with")
    if value is None:
        return _undefined_value(gate, "max_regression", limit, baseline, seen.present)
    if baseline is None:
        return GateResult(gate, "max_regression", value, limit, None, UNDEFINED,
                          f"not applicable: the {label} has no defined value for {gate.name}")
    regression = baseline - value if seen.direction == "higher" else value - baseline
    if regression <= limit + _tolerance(baseline):
        return GateResult(gate, "max_regression", value, limit, baseline, PASS,
                          f"regression {max(regression, 0.0):.6g} vs the {label} is within {limit:.6g}")
    return GateResult(gate, "max_regression", value, limit, baseline, gate.action,
                      f"{baseline:.6g} → {value:.6g}: worse than the {label} by {regression:.6g}, "
                      f"more than {limit:.6g}")


def _significance(result: GateResult, interval: tuple[float, float] | None, direction: str) -> GateResult:
    """Re-judge a max_regression result by the interval of the change: noise alone never breaks it."""
    if result.status not in (PASS, WARN, FAIL) or result.value is None or result.baseline is None:
        return result
    if interval is None:
        return GateResult(result.gate, result.bound, result.value, result.threshold, result.baseline,
                          result.status, result.message + " (no interval available: judged on the estimate)")
    low, high = interval
    best_case = -high if direction == "higher" else low  # the smallest regression the interval allows
    limit = result.threshold
    if best_case > limit + _tolerance(limit):
        return GateResult(result.gate, result.bound, result.value, limit, result.baseline, result.gate.action,
                          f"significant: even the interval's best end regresses by {best_case:.3g}, more than "
                          f"{limit:.6g}")
    return GateResult(result.gate, result.bound, result.value, limit, result.baseline, PASS,
                      f"not significant: the change's 95% interval [{low:.3g}, {high:.3g}] allows a regression "
                      f"within {limit:.6g}")
