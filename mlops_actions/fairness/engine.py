"""``evaluate``: from labels and group values to a ``FairnessReport``, in a few vectorised passes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlops_actions.errors import InputError
from mlops_actions.fairness import checks
from mlops_actions.fairness.counts import confusion_counts
from mlops_actions.fairness.disparities import (
    Bootstrap,
    bootstrap_intervals,
    small_rates,
    summary_arrays,
    without,
    worst_over_strata,
)
from mlops_actions.fairness.groups import Grouping, encode
from mlops_actions.fairness.labels import as_column, is_positive, label_warnings, missing_count
from mlops_actions.fairness.rates import count_table, rate_table
from mlops_actions.fairness.regression import gaps, regression_sums, regression_table, summed_cells
from mlops_actions.fairness.report import FairnessReport

TASKS = ("classification", "regression")


@dataclass(frozen=True)
class FairnessOptions:
    """How to measure (the data itself is ``evaluate``'s arguments).

    ``task``: ``classification`` or ``regression``. ``pos_label``: the positive label of a classifier.
    ``min_group_size``: groups smaller than this on the denominator that matters are warned about.
    ``fairlearn_compat``: fairlearn's zero-denominator rule (0, not NaN). ``bootstrap``: replicates for the
    summary's intervals (0 skips them), drawn with ``seed``. ``exclude_small``: a group's rate whose denominator
    (n for the selection rate, positives for TPR/FNR, negatives for FPR/TNR) is below ``min_group_size`` is left
    out of the summary disparities and their intervals (it stays in ``by_group``); fairlearn has no such rule,
    so the default keeps every group.
    """

    task: str = "classification"
    pos_label: Any = 1
    min_group_size: int = 30
    fairlearn_compat: bool = False
    bootstrap: int = 1000
    seed: int = 0
    exclude_small: bool = False


DEFAULTS = FairnessOptions()


def evaluate(y_true: Any, y_pred: Any, sensitive_features: Any, options: FairnessOptions = DEFAULTS, *,
             control_features: Any = None, row_cells: Any = None) -> FairnessReport:
    """Measure group fairness of predictions, as ``options`` says; see the package docstring for definitions
    and keys.

    ``row_cells``: each input row stands for many (data counted batch by batch, larger than memory). For a
    classifier, how many identical rows (one number per row); for a regressor, their n, Σ|error|, Σerror²
    and Σprediction (four per row, ``y_true`` / ``y_pred`` then unused). Every table is a sum of cells, so
    the report equals the one of the rows themselves.
    """
    task = options.task
    if task not in TASKS:
        raise InputError(f"unknown task '{task}'", hint=f"choose one of {', '.join(TASKS)}")
    y_true, y_pred = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise InputError(f"y_true has {len(y_true)} values but y_pred has {len(y_pred)}")
    if len(y_true) == 0:
        raise InputError("no predictions to evaluate (0 rows)")
    grouping = encode(sensitive_features, control_features, len(y_true))
    settings: dict[str, Any] = {"min_group_size": options.min_group_size,
                                "fairlearn_compat": options.fairlearn_compat, "exclude_small": options.exclude_small}
    cells = None if row_cells is None else np.asarray(row_cells, dtype=np.float64)
    if task == "regression":
        return _regression(y_true, y_pred, grouping, settings, cells)
    settings |= {"pos_label": options.pos_label, "bootstrap": options.bootstrap, "seed": options.seed,
                 "confidence": 0.95}
    return _classification(y_true, y_pred, grouping, settings, cells)


def _labels(values: Any, name: str) -> Any:
    column = as_column(values, name)
    missing = missing_count(column)
    if missing:
        raise InputError(f"{name} has {missing} missing values", hint="drop those rows before evaluating")
    return column


def _classification(y_true: Any, y_pred: Any, grouping: Grouping, settings: dict[str, Any],
                    weights: np.ndarray | None = None) -> FairnessReport:
    pos_label, compat = settings["pos_label"], settings["fairlearn_compat"]
    counts = confusion_counts(grouping.codes, is_positive(y_true, pos_label), is_positive(y_pred, pos_label),
                              grouping.n_strata, grouping.n_groups, weights)
    group_table = {**count_table(counts), **rate_table(counts, compat=compat)}
    overall_table = {**count_table(counts.sum(axis=1)), **rate_table(counts.sum(axis=1), compat=compat)}
    excluded = small_rates(group_table, settings["min_group_size"]) if settings["exclude_small"] else None
    per_stratum = summary_arrays(without(group_table, excluded), overall_table, compat=compat)
    notes = label_warnings(y_true, y_pred, pos_label) + checks.group_warnings(
        grouping, group_table, settings["min_group_size"], checks.CLASSIFICATION_DENOMINATORS)
    summary = {k: float(v) for k, v in worst_over_strata(per_stratum).items()}
    ci = bootstrap_intervals(counts, summary, Bootstrap(settings["bootstrap"], settings["seed"]), compat=compat,
                             excluded=excluded)
    tables = Tables(group_table, overall_table, per_stratum)
    return _report("classification", grouping, tables, ci, notes, settings)


def _regression(y_true: Any, y_pred: Any, grouping: Grouping, settings: dict[str, Any],
                cells: np.ndarray | None = None) -> FairnessReport:
    if cells is None:
        truth, pred = _numeric(y_true, "y_true"), _numeric(y_pred, "y_pred")
        sums = regression_sums(grouping.codes, truth, pred, grouping.n_strata, grouping.n_groups)
    else:
        sums = summed_cells(grouping.codes, cells, grouping.n_strata, grouping.n_groups)
    group_table = regression_table(sums)
    overall_table = regression_table(sums.sum(axis=1))
    notes = checks.group_warnings(grouping, group_table, settings["min_group_size"],
                                  checks.REGRESSION_DENOMINATORS)
    kept = group_table
    if settings["exclude_small"]:
        small = group_table["n"] < settings["min_group_size"]
        kept = {k: np.where(small, np.nan, v) if k != "n" else v for k, v in group_table.items()}
    return _report("regression", grouping, Tables(group_table, overall_table, gaps(kept)), {}, notes, settings)


def _numeric(values: Any, name: str) -> np.ndarray:
    try:
        return np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numeric for a regression task: {exc}") from None


@dataclass(frozen=True, eq=False)
class Tables:
    """What one evaluation measured, before it becomes a report: each group's counts and rates
    (``(strata, groups)`` arrays), the overall ones (``(strata,)``) and the disparities per stratum."""

    by_group: dict[str, np.ndarray]
    overall: dict[str, np.ndarray]
    per_stratum: dict[str, np.ndarray]


def _report(task: str, grouping: Grouping, tables: Tables, ci: dict[str, tuple[float, float]], notes: list[str],
            settings: dict[str, Any]) -> FairnessReport:
    per_stratum = tables.per_stratum
    by_group = pd.DataFrame({k: v.reshape(-1) for k, v in tables.by_group.items()}, index=grouping.group_index())
    return FairnessReport(
        task=task, by_group=by_group, overall=_overall(grouping, tables.overall),
        summary={k: float(v) for k, v in worst_over_strata(per_stratum).items()}, summary_ci=ci,
        warnings=notes, sensitive_features=grouping.sensitive_names, control_features=grouping.control_names,
        summary_by_stratum=_by_stratum(grouping, per_stratum), settings=settings)


def _overall(grouping: Grouping, table: dict[str, np.ndarray]) -> pd.Series | pd.DataFrame:
    """A Series (counts stay integers) without control features, else a DataFrame by stratum."""
    strata = grouping.strata_index()
    if strata is None:
        return pd.Series({k: v.reshape(-1)[0] for k, v in table.items()}, dtype=object)
    return pd.DataFrame(table, index=strata)


def _by_stratum(grouping: Grouping, per_stratum: dict[str, np.ndarray]) -> dict[str, dict[str, float]]:
    if not grouping.control_names:
        return {}
    return {checks.stratum_label(grouping, i): {k: float(v[i]) for k, v in per_stratum.items()}
            for i in range(grouping.n_strata)}  # one entry per control stratum
