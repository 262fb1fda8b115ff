"""The fairness engine on data larger than memory: per-group cells summed over record batches.

Everything ``evaluate`` reports comes from four numbers per (stratum, group): the confusion counts
(tn, fp, fn, tp) of a classifier, or n, Σ|error|, Σerror², Σprediction of a regressor. They add up over
batches, so ``FairnessStream`` keeps only those cells (memory O(groups), not O(rows)) and at the end hands
them to the engine's own tables, disparities and report. Group values are compared as text. The results
equal ``evaluate(..., bootstrap=0)`` on the whole table (intervals need resampling rows, which a stream
does not keep: ``summary_ci`` is empty).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from mlops_actions.errors import InputError
from mlops_actions.fairness import checks
from mlops_actions.fairness.disparities import summary_arrays
from mlops_actions.fairness.engine import Tables, _report
from mlops_actions.fairness.groups import MAX_GROUPS, Grouping
from mlops_actions.fairness.rates import count_table, rate_table
from mlops_actions.fairness.regression import gaps, regression_table
from mlops_actions.fairness.report import FairnessReport

_CELL = "__cell__"


class FairnessStream:
    """Accumulates per-group cells batch by batch; ``report()`` gives the engine's ``FairnessReport``."""

    def __init__(self, sensitive: Sequence[str], control: Sequence[str] = (), *, task: str = "classification",
                 pos_label: Any = 1) -> None:
        self.sensitive, self.control = tuple(sensitive), tuple(control)
        self.task, self.pos_label = task, str(pos_label)
        self.cells: dict[tuple[str, ...], np.ndarray] = {}
        self.rows = 0

    def add(self, y_true: Any, y_pred: Any, features: Mapping[str, Any]) -> None:
        """One batch: labels, predictions and the group columns (missing labels or groups are refused)."""
        frame = pd.DataFrame({name: _text(features[name], name) for name in (*self.control, *self.sensitive)})
        if self.task == "classification":
            self._add_counts(frame, _text(y_true, "y_true") == self.pos_label,
                             _text(y_pred, "y_pred") == self.pos_label)
        else:
            self._add_sums(frame, np.asarray(y_true, dtype=np.float64), np.asarray(y_pred, dtype=np.float64))
        self.rows += len(frame)

    def _add_counts(self, frame: pd.DataFrame, true_pos: np.ndarray, pred_pos: np.ndarray) -> None:
        frame[_CELL] = true_pos.astype(np.int8) * 2 + pred_pos.astype(np.int8)
        counted = frame.groupby([*self.control, *self.sensitive, _CELL], sort=False).size()
        for key, count in counted.items():
            *group, cell = key if isinstance(key, tuple) else (key,)
            self._cell(tuple(group))[int(cell)] += int(count)

    def _add_sums(self, frame: pd.DataFrame, y_true: np.ndarray, y_pred: np.ndarray) -> None:
        if np.isnan(y_true).any() or np.isnan(y_pred).any():
            raise InputError("y_true or y_pred has missing values", hint="drop those rows before evaluating")
        error = y_pred - y_true
        frame = frame.assign(n=1.0, abs=np.abs(error), sq=np.square(error), pred=y_pred)
        sums = frame.groupby([*self.control, *self.sensitive], sort=False)[["n", "abs", "sq", "pred"]].sum()
        for key, row in zip(sums.index, sums.to_numpy(), strict=True):
            self._cell(key if isinstance(key, tuple) else (key,)).__iadd__(row)

    def _cell(self, key: tuple[str, ...]) -> np.ndarray:
        if key not in self.cells:
            self.cells[key] = np.zeros(4, dtype=np.int64 if self.task == "classification" else np.float64)
        return self.cells[key]

    # -- the report ------------------------------------------------------------------------------------------

    def grouping(self) -> Grouping:
        names = (*self.control, *self.sensitive)
        levels = [pd.Index(sorted({key[i] for key in self.cells}), dtype=object) for i in range(len(names))]
        if int(np.prod([len(lv) for lv in levels])) > MAX_GROUPS:
            raise InputError(f"too many groups (more than {MAX_GROUPS:,} combinations)",
                             hint="group by features with few values")
        k = len(self.control)
        return Grouping(np.zeros(0, dtype=np.int32), self.sensitive, self.control, tuple(levels[k:]),
                        tuple(levels[:k]))

    def table(self, grouping: Grouping) -> np.ndarray:
        """The cells as the engine's array ``(n_strata, n_groups, 4)``."""
        out = np.zeros((grouping.n_strata, grouping.n_groups, 4),
                       dtype=np.int64 if self.task == "classification" else np.float64)
        control_sizes = [len(lv) for lv in grouping.control_levels]
        sensitive_sizes = [len(lv) for lv in grouping.sensitive_levels]
        positions = [{v: i for i, v in enumerate(lv)} for lv in (*grouping.control_levels,
                                                                  *grouping.sensitive_levels)]
        k = len(control_sizes)
        for key, cell in self.cells.items():
            where = [positions[i][v] for i, v in enumerate(key)]
            stratum = int(np.ravel_multi_index(where[:k], control_sizes)) if k else 0
            out[stratum, int(np.ravel_multi_index(where[k:], sensitive_sizes))] += cell
        return out

    def report(self, *, min_group_size: int = 30, fairlearn_compat: bool = False) -> FairnessReport:
        if not self.rows:
            raise InputError("no predictions to evaluate (0 rows)")
        grouping = self.grouping()
        cells = self.table(grouping)
        settings: dict[str, Any] = {"min_group_size": min_group_size, "fairlearn_compat": fairlearn_compat}
        if self.task == "regression":
            group_table, overall_table = regression_table(cells), regression_table(cells.sum(axis=1))
            notes = checks.group_warnings(grouping, group_table, min_group_size, checks.REGRESSION_DENOMINATORS)
            tables = Tables(group_table, overall_table, gaps(group_table))
            return _report("regression", grouping, tables, {}, notes, settings)
        compat = fairlearn_compat
        group_table = {**count_table(cells), **rate_table(cells, compat=compat)}
        overall_table = {**count_table(cells.sum(axis=1)), **rate_table(cells.sum(axis=1), compat=compat)}
        per_stratum = summary_arrays(group_table, overall_table, compat=compat)
        notes = checks.group_warnings(grouping, group_table, min_group_size, checks.CLASSIFICATION_DENOMINATORS)
        settings |= {"pos_label": self.pos_label, "bootstrap": 0, "seed": 0, "confidence": 0.95}
        return _report("classification", grouping, Tables(group_table, overall_table, per_stratum), {}, notes, settings)


def _text(values: Any, name: str) -> np.ndarray:
    series = values if isinstance(values, pd.Series) else pd.Series(np.asarray(values, dtype=object))
    if series.isna().any():
        raise InputError(f"{name} has {int(series.isna().sum())} missing values",
                         hint="drop or fill those rows before measuring fairness")
    if pd.api.types.is_float_dtype(series) and series.mod(1).eq(0).all():
        series = series.astype(np.int64)
    return series.astype(str).to_numpy(dtype=object)
