"""From the fairness engine's report (``mlops_actions.fairness.FairnessReport``) to the report's ``FairnessView``.

Only aggregates cross this line: group values, sizes, rates, intervals, disparities and warnings.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlops_actions.evaluation.assess import FairnessView, GroupRow, Interval
from mlops_actions.evaluation.diff import as_number

CLASSIFICATION_RATES = ("selection_rate", "tpr", "fpr", "accuracy", "precision")
REGRESSION_RATES = ("mae", "rmse", "mean_prediction")
CHART_METRIC = {"classification": "selection_rate", "regression": "mae"}


def group_label(key: Any, levels: int) -> tuple[str, ...]:
    """An index entry of ``by_group`` as a tuple of strings, one per level."""
    values = key if isinstance(key, tuple) else (key,)
    return tuple(str(v) for v in values)[:levels] if levels else (str(key),)


def view_of(report: Any) -> FairnessView:
    """Build the view from a ``FairnessReport`` (duck-typed: ``task``, ``by_group``, ``summary``...)."""
    frame = report.by_group
    features = tuple(str(n) for n in frame.index.names)
    wanted = REGRESSION_RATES if report.task == "regression" else CLASSIFICATION_RATES
    columns = tuple(c for c in wanted if c in frame.columns)
    records = frame.to_dict(orient="records")
    rows = tuple(_row(group_label(key, len(features)), rec, columns)
                 for key, rec in zip(frame.index.tolist(), records, strict=True))
    return FairnessView(features=features, columns=columns, rows=rows, summary=_numbers(report.summary),
                        warnings=tuple(str(w) for w in report.warnings),
                        chart_metric=CHART_METRIC.get(report.task), summary_ci=_intervals(report))


def view_from_dict(data: Mapping[str, Any]) -> FairnessView:
    """Build the view from ``FairnessReport.to_dict()`` (e.g. a ``fairness.json`` the training job wrote)."""
    control = tuple(str(c) for c in data.get("control_features") or ())
    sensitive = tuple(str(s) for s in data.get("sensitive_features") or ())
    task = str(data.get("task", "classification"))
    groups = list(data.get("groups") or ())
    present = set().union(*(g.keys() for g in groups)) if groups else set()
    columns = tuple(c for c in (REGRESSION_RATES if task == "regression" else CLASSIFICATION_RATES) if c in present)
    rows = tuple(_row(_dict_group(g, control, sensitive), g, columns) for g in groups)
    ci = {str(k): (as_number(v.get("lower")), as_number(v.get("upper")))
          for k, v in sorted((data.get("summary_ci") or {}).items()) if isinstance(v, Mapping)}
    return FairnessView(features=control + sensitive, columns=columns, rows=rows,
                        summary=_numbers(data.get("summary") or {}),
                        warnings=tuple(str(w) for w in data.get("warnings") or ()),
                        chart_metric=CHART_METRIC.get(task), summary_ci=ci)


def _dict_group(row: Mapping[str, Any], control: Sequence[str], sensitive: Sequence[str]) -> tuple[str, ...]:
    keys, values = row.get("control") or {}, row.get("group") or {}
    return tuple(str(keys.get(c)) for c in control) + tuple(str(values.get(s)) for s in sensitive)


def _row(group: tuple[str, ...], rec: Mapping[str, Any], columns: Sequence[str]) -> GroupRow:
    n = as_number(rec.get("n"))
    values = {c: as_number(rec.get(c)) for c in columns}
    intervals: dict[str, Interval] = {
        c: (as_number(rec.get(f"{c}_lower")), as_number(rec.get(f"{c}_upper")))
        for c in columns if f"{c}_lower" in rec}
    return GroupRow(group, None if n is None else int(n), values, intervals)


def _numbers(summary: Mapping[str, Any]) -> dict[str, float | None]:
    return {str(k): as_number(v) for k, v in sorted(summary.items())}


def _intervals(report: Any) -> dict[str, Interval]:
    ci = getattr(report, "summary_ci", None) or {}
    return {str(k): (as_number(lo), as_number(hi)) for k, (lo, hi) in sorted(ci.items())}


def chart_values(view: FairnessView) -> dict[tuple[str, ...], float | None]:
    """The chart metric of each group (to draw a baseline's line next to a candidate's bars)."""
    metric = view.chart_metric or ""
    return {r.group: r.values.get(metric) for r in view.rows}
