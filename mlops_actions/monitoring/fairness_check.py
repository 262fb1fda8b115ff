"""Fairness of the model on current data (labels + predictions + sensitive columns) versus its record.

Disparities are measured exactly as ``train`` records them (``evaluation.fairness_measure``: one sensitive
column at a time unless the spec asks for intersections, groups under ``min_group_size`` left out, the
worst over groupings). Missing sensitive values follow the spec's ``data.missing.sensitive``. The spec's
fairness gates with ``min``/``max`` judge the current values (their ``action`` decides warn or fail); an
undefined value under a gate counts as the gate's ``undefined`` setting (fail by default).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from mlops_actions.convention.model import Gate, ModelSpec
from mlops_actions.monitoring.thresholds import PASS, worst

_RENAMED = {"mae_gap": "mae_difference", "rmse_gap": "rmse_difference"}  # older engines' regression names


@dataclass(frozen=True)
class FairnessChange:
    name: str
    recorded: float | None
    current: float | None
    limit: str  # the gate's bounds as text, "" without a gate
    verdict: str


def fairness_changes(labels: pd.Series, predictions: pd.Series, groups: pd.DataFrame, spec: ModelSpec,
                     recorded: Mapping[str, Any], *, display: str = "current data",
                     min_group_size: int | None = None) -> tuple[FairnessChange, ...]:
    """One row per recorded disparity and per fairness gate, judged by the spec's fairness gates; measured
    as ``train`` measures it (``evaluation.fairness_measure``: groupings, classes, small groups)."""
    from mlops_actions.errors import InputError, MlopsError, Place
    from mlops_actions.evaluation.fairness_measure import Settings, measure, record_summary

    keep = labels.notna().to_numpy() & predictions.notna().to_numpy()
    columns = list(dict.fromkeys([*spec.data.sensitive, *spec.data.control]))
    y_true, y_pred = _values(labels[keep], spec.task), _values(predictions[keep], spec.task)
    shown = missing_as_group(groups[columns][keep], spec, display)
    try:
        measured = measure(y_true, y_pred, shown, Settings.of(spec, min_group_size), spec.task)
    except MlopsError as exc:
        raise InputError(f"fairness on current data: {exc.message}", place=Place(display), hint=exc.hint) from None
    worst = measured.view.summary if measured.view is not None else {}
    current = {k: v for k, v in worst.items() if "@by=" not in k and "@class=" not in k}  # incl. @to_overall
    gates = [g for g in spec.gates if g.kind == "fairness"]
    names = sorted({*recorded, *(_key(g) for g in gates)} or set(record_summary(measured.view) or {}))
    return tuple(_change(name, recorded.get(name), current.get(name), [g for g in gates if _key(g) == name])
                 for name in names)


def changes_from_summary(summary: Mapping[str, Any], spec: ModelSpec,
                         recorded: Mapping[str, Any]) -> tuple[FairnessChange, ...]:
    """The rows for a streamed fairness summary (``fairness.stream``: the intersection of the sensitive
    columns, every group counted; the minimum group size and per-grouping worst are not applied there)."""
    current = {_RENAMED.get(k, k): _finite(v) for k, v in summary.items()}
    gates = [g for g in spec.gates if g.kind == "fairness"]
    names = sorted({*recorded, *(_key(g) for g in gates)} or {k for k in current if "@" not in k})
    return tuple(_change(name, recorded.get(name), current.get(name), [g for g in gates if _key(g) == name])
                 for name in names)


def _values(column: pd.Series, task: str) -> Any:
    """Labels compared as text (``1`` and ``"1"`` are one class), regression values as numbers."""
    return column.astype(str).to_numpy() if task == "classification" else column.to_numpy(dtype=float)


def missing_as_group(groups: pd.DataFrame, spec: ModelSpec, display: str) -> pd.DataFrame:
    """The spec's ``data.missing.sensitive``: ``group`` makes missing values a "missing" group (as train
    does); ``error`` refuses them, naming the file, the column and the count."""
    from mlops_actions.errors import InputError, Place
    from mlops_actions.training.data import MISSING_GROUP

    missing = {name: int(groups[name].isna().sum()) for name in groups.columns}
    bad = {name: n for name, n in missing.items() if n}
    if not bad:
        return groups
    if spec.data.missing_sensitive == "group":
        return groups.astype(object).where(groups.notna(), MISSING_GROUP)
    shown = ", ".join(f"'{name}' ({n} rows)" for name, n in bad.items())
    raise InputError(f"missing values in the sensitive/control column(s) {shown}", place=Place(display),
                     hint=f"set data.missing.sensitive: group in {spec.spec_path or 'the model spec'} to report "
                          f"them as a '{MISSING_GROUP}' group, or drop those rows")


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
        return gate.undefined
    broken = (gate.min is not None and value < gate.min) or (gate.max is not None and value > gate.max)
    return gate.action if broken else PASS
