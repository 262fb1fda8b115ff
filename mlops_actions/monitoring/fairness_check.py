"""Fairness of the model on current data (labels + predictions + sensitive columns) versus its record.

Disparities are measured exactly as ``train`` records them (``evaluation.fairness_measure``: one sensitive
column at a time unless the spec asks for intersections, groups under ``min_group_size`` left out, the
worst over groupings). Missing sensitive values follow the spec's ``data.missing.sensitive``. The spec's
fairness gates with ``min``/``max`` judge the current values (their ``action`` decides warn or fail); an
undefined value under a gate counts as the gate's ``undefined`` setting (fail by default). Data larger than
memory is counted batch by batch (``FairnessCells``) and then measured by the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from mlops_actions.convention.model import Gate, ModelSpec
from mlops_actions.monitoring.thresholds import PASS, worst

if TYPE_CHECKING:
    from mlops_actions.evaluation.fairness_measure import Rows


@dataclass(frozen=True)
class FairnessChange:
    name: str
    recorded: float | None
    current: float | None
    limit: str  # the gate's bounds as text, "" without a gate
    verdict: str


def fairness_changes(current: Rows, spec: ModelSpec, recorded: Mapping[str, Any], *, display: str = "current data",
                     min_group_size: int | None = None) -> tuple[FairnessChange, ...]:
    """One row per recorded disparity and per fairness gate, judged by the spec's fairness gates; measured
    as ``train`` measures it (``evaluation.fairness_measure``: groupings, classes, small groups). ``current``:
    the labels, predictions and group columns of the current data, rows missing a label or a prediction
    left out here."""
    from mlops_actions.evaluation.fairness_measure import Rows

    labels, predictions = current.y_true, current.y_pred
    keep = labels.notna().to_numpy() & predictions.notna().to_numpy()
    columns = list(dict.fromkeys([*spec.data.sensitive, *spec.data.control]))
    y_true, y_pred = _values(labels[keep], spec.task), _values(predictions[keep], spec.task)
    shown = missing_as_group(current.groups[columns][keep], spec, display)
    return _judged(Rows(y_true, y_pred, shown), spec, recorded, display, min_group_size)


def _judged(rows: Rows, spec: ModelSpec, recorded: Mapping[str, Any], display: str,
            min_group_size: int | None) -> tuple[FairnessChange, ...]:
    from mlops_actions.errors import InputError, MlopsError, Place
    from mlops_actions.evaluation.fairness_measure import Settings, measure, record_summary

    try:
        measured = measure(rows, Settings.of(spec, min_group_size), spec.task,
                           intervals=False)  # the summary only: no intervals
    except MlopsError as exc:
        raise InputError(f"fairness on current data: {exc.message}", place=Place(display), hint=exc.hint) from None
    worst = measured.view.summary if measured.view is not None else {}
    current = {k: v for k, v in worst.items() if "@by=" not in k and "@class=" not in k}  # incl. @to_overall
    gates = [g for g in spec.gates if g.kind == "fairness"]
    names = sorted({*recorded, *(_key(g) for g in gates)} or set(record_summary(measured.view) or {}))
    return tuple(_change(name, recorded.get(name), current.get(name), [g for g in gates if _key(g) == name])
                 for name in names)


_TRUE, _PRED = "\x00y_true", "\x00y_pred"  # cannot clash with a column name read from a file header
_SUMS = ("n", "abs", "sq", "pred")


class FairnessCells:
    """Current data larger than memory, counted batch by batch for ``changes_from_cells``: a classifier's
    rows per distinct (group values, label, prediction), a regressor's n, Σ|error|, Σerror², Σprediction per
    distinct group values. Memory is O(distinct cells), not O(rows); the measure that reads them is the one
    ``fairness_changes`` runs on rows in memory, so both give the same answer on the same data."""

    def __init__(self, spec: ModelSpec, display: str) -> None:
        self.spec, self.display = spec, display
        self.columns = list(dict.fromkeys([*spec.data.sensitive, *spec.data.control]))
        self.cells: dict[tuple[Any, ...], np.ndarray] = {}
        self.missing = dict.fromkeys(self.columns, 0)

    def add(self, labels: pd.Series, predictions: pd.Series, groups: pd.DataFrame) -> None:
        """One batch; missing labels or predictions drop the row, as ``fairness_changes`` drops it."""
        from mlops_actions.training.data import MISSING_GROUP

        keep = labels.notna().to_numpy() & predictions.notna().to_numpy()
        frame = groups[self.columns][keep]
        for name in self.columns:
            self.missing[name] += int(frame[name].isna().sum())
        frame = frame.astype(object).where(frame.notna(), MISSING_GROUP) if frame.isna().any().any() else frame
        y_true, y_pred = _values(labels[keep], self.spec.task), _values(predictions[keep], self.spec.task)
        if self.spec.task == "classification":
            counted = frame.assign(**{_TRUE: y_true, _PRED: y_pred}).groupby(
                [*self.columns, _TRUE, _PRED], sort=False, dropna=False).size()
            self._merge(counted.index, counted.to_numpy(dtype=np.float64)[:, None])
        else:
            error = y_pred - y_true
            summed = frame.assign(n=1.0, abs=np.abs(error), sq=np.square(error), pred=y_pred).groupby(
                self.columns, sort=False, dropna=False)[list(_SUMS)].sum()
            self._merge(summed.index, summed.to_numpy(dtype=np.float64))

    def _merge(self, index: pd.Index, values: np.ndarray) -> None:
        for key, row in zip(index, values, strict=True):
            key = key if isinstance(key, tuple) else (key,)
            found = self.cells.get(key)
            self.cells[key] = row.copy() if found is None else found + row


def changes_from_cells(cells: FairnessCells, recorded: Mapping[str, Any], *,
                       min_group_size: int | None = None) -> tuple[FairnessChange, ...]:
    """``fairness_changes`` of the data ``cells`` counted: the same groupings, classes and small groups."""
    from mlops_actions.evaluation.fairness_measure import Rows

    spec = cells.spec
    bad = {name: n for name, n in cells.missing.items() if n}
    if bad and spec.data.missing_sensitive != "group":
        raise missing_refused(bad, spec, cells.display)
    keys = list(cells.cells)
    labelled = spec.task == "classification"
    names = [*cells.columns, *((_TRUE, _PRED) if labelled else ())]
    frame = pd.DataFrame(keys, columns=names) if keys else pd.DataFrame(columns=names)
    counts = np.array([cells.cells[k] for k in keys]).reshape(len(keys), -1)
    if labelled:
        y_true, y_pred = frame[_TRUE].to_numpy(dtype=object), frame[_PRED].to_numpy(dtype=object)
        row_cells = counts[:, 0]
    else:
        y_true = y_pred = np.zeros(len(keys))  # unused: the sums stand for the rows
        row_cells = counts
    rows = Rows(y_true, y_pred, frame[cells.columns], row_cells)
    return _judged(rows, spec, recorded, cells.display, min_group_size)


def _values(column: pd.Series, task: str) -> Any:
    """Labels compared as text (``1`` and ``"1"`` are one class, and so is ``1.0``: a label column with a
    missing value is read as floats), regression values as numbers."""
    if task != "classification":
        return column.to_numpy(dtype=float)
    if pd.api.types.is_float_dtype(column) and bool(np.all(np.mod(column.to_numpy(), 1) == 0)):
        column = column.astype(np.int64)
    return column.astype(str).to_numpy()


def missing_as_group(groups: pd.DataFrame, spec: ModelSpec, display: str) -> pd.DataFrame:
    """The spec's ``data.missing.sensitive``: ``group`` makes missing values a "missing" group (as train
    does); ``error`` refuses them, naming the file, the column and the count."""
    from mlops_actions.training.data import MISSING_GROUP

    missing = {name: int(groups[name].isna().sum()) for name in groups.columns}
    bad = {name: n for name, n in missing.items() if n}
    if not bad:
        return groups
    if spec.data.missing_sensitive == "group":
        return groups.astype(object).where(groups.notna(), MISSING_GROUP)
    raise missing_refused(bad, spec, display)


def missing_refused(bad: Mapping[str, int], spec: ModelSpec, display: str) -> Exception:
    """The error for missing sensitive/control values when the spec does not make them a group."""
    from mlops_actions.errors import InputError, Place
    from mlops_actions.training.data import MISSING_GROUP

    shown = ", ".join(f"'{name}' ({n} rows)" for name, n in bad.items())
    return InputError(f"missing values in the sensitive/control column(s) {shown}", place=Place(display),
                      hint=f"set data.missing.sensitive: group in {spec.spec_path or 'the model spec'} to report "
                           f"them as a '{MISSING_GROUP}' group, or drop those rows")


def _key(gate: Gate) -> str:
    return gate.name if gate.method == "between_groups" else f"{gate.name}@to_overall"


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
