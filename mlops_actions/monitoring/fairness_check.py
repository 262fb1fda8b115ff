"""Fairness of the model on current data (labels + predictions + sensitive columns) versus its record.

Disparities are computed by the fairness engine exactly as ``train`` records them (between groups, no
bootstrap; regression gaps named ``*_difference`` as everywhere). The spec's fairness gates with ``min``/``max``
judge the current values (their ``action`` decides warn or fail); an undefined value under a gate warns.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlops_actions.convention.model import Gate, ModelSpec
from mlops_actions.monitoring.thresholds import PASS, WARN, worst


@dataclass(frozen=True)
class FairnessChange:
    name: str
    recorded: float | None
    current: float | None
    limit: str  # the gate's bounds as text, "" without a gate
    verdict: str


def fairness_changes(labels: pd.Series, predictions: pd.Series, groups: pd.DataFrame, spec: ModelSpec,
                     recorded: Mapping[str, Any]) -> tuple[FairnessChange, ...]:
    """One row per recorded disparity and per fairness gate, judged by the spec's fairness gates."""
    from mlops_actions.fairness import evaluate

    keep = labels.notna().to_numpy() & predictions.notna().to_numpy()
    control = groups[list(spec.data.control)][keep] if spec.data.control else None
    report = evaluate(labels[keep], predictions[keep], groups[list(spec.data.sensitive)][keep],
                      pos_label=spec.data.positive_label, control_features=control, task=spec.task, bootstrap=0)
    current = {k: _finite(v) for k, v in report.summary.items()}
    gates = [g for g in spec.gates if g.kind == "fairness"]
    names = sorted({*recorded, *(_key(g) for g in gates)} or {k for k in current if "@" not in k})
    return tuple(_change(name, recorded.get(name), current.get(name), [g for g in gates if _key(g) == name])
                 for name in names)


def _key(gate: Gate) -> str:
    return gate.name if gate.method == "between_groups" else f"{gate.name}@to_overall"


def _finite(value: object) -> float | None:
    number = float(value)  # type: ignore[arg-type]
    return number if math.isfinite(number) else None


def _change(name: str, recorded: object, current: float | None, gates: list[Gate]) -> FairnessChange:
    base = float(recorded) if isinstance(recorded, int | float) and not isinstance(recorded, bool) else None
    limit = "; ".join(_bounds(g) for g in gates)
    return FairnessChange(name, base, current, limit, worst(_judge(g, current) for g in gates))


def _bounds(gate: Gate) -> str:
    parts = [f"min {gate.min:g}" if gate.min is not None else "", f"max {gate.max:g}" if gate.max is not None else ""]
    return " ".join(p for p in parts if p) + (" (warn)" if gate.action == "warn" else "")


def _judge(gate: Gate, value: float | None) -> str:
    if gate.min is None and gate.max is None:
        return PASS
    if value is None:
        return WARN
    broken = (gate.min is not None and value < gate.min) or (gate.max is not None and value > gate.max)
    return gate.action if broken else PASS
