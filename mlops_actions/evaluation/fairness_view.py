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
    read = [c for c in ("n", *columns, *(f"{c}_{end}" for c in columns for end in ("lower", "upper")))
            if c in frame.columns]
    values = {c: frame[c].tolist() for c in read}  # column by column: a few lists, not a Series per row
    rows = tuple(_row(group_label(key, len(features)), {c: v[i] for c, v in values.items()}, columns)
                 for i, key in enumerate(frame.index.tolist()))
    return FairnessView(features=features, columns=columns, rows=rows, summary=_numbers(report.summary),
                        warnings=tuple(str(w) for w in report.warnings),
                        chart_metric=CHART_METRIC.get(report.task), summary_ci=_intervals(report))


VIEW_FORMAT = "mlops-actions/fairness-view@1"


def view_to_dict(view: FairnessView) -> dict[str, Any]:
    """The view as JSON-ready data (what ``train`` writes to ``fairness.json``: aggregates only)."""
    return {"format": VIEW_FORMAT, "features": list(view.features), "columns": list(view.columns),
            "rows": [_row_dict(r) for r in view.rows], "summary": dict(view.summary),
            "summary_ci": {k: list(v) for k, v in view.summary_ci.items()}, "warnings": list(view.warnings),
            "chart_metric": view.chart_metric, "min_group_size": view.min_group_size,
            "left_out_rows": view.left_out_rows, "empty": view.empty,
            "groupings": [list(g) for g in view.groupings], "classes": list(view.classes)}


def _row_dict(r: GroupRow) -> dict[str, Any]:
    return {"group": list(r.group), "n": r.n, "values": dict(r.values),
            "intervals": {k: list(v) for k, v in r.intervals.items()}, "by": list(r.by), "small": r.small,
            "target": r.target}


def _view_from_own(data: Mapping[str, Any]) -> FairnessView:
    rows = tuple(GroupRow(tuple(map(str, r["group"])), None if r["n"] is None else int(r["n"]),
                          {str(k): as_number(v) for k, v in r["values"].items()},
                          {str(k): (as_number(v[0]), as_number(v[1])) for k, v in r["intervals"].items()},
                          tuple(map(str, r["by"])), bool(r["small"]), str(r["target"])) for r in data["rows"])
    return FairnessView(
        features=tuple(map(str, data["features"])), columns=tuple(map(str, data["columns"])), rows=rows,
        summary=_numbers(data["summary"]),
        summary_ci={str(k): (as_number(v[0]), as_number(v[1])) for k, v in sorted(data["summary_ci"].items())},
        warnings=tuple(map(str, data["warnings"])), chart_metric=data.get("chart_metric"),
        min_group_size=data.get("min_group_size"), left_out_rows=int(data.get("left_out_rows") or 0),
        empty=int(data.get("empty") or 0), groupings=tuple(tuple(map(str, g)) for g in data.get("groupings", [])),
        classes=tuple(map(str, data.get("classes", []))))


def view_from_dict(data: Mapping[str, Any]) -> FairnessView:
    """Build the view from ``view_to_dict`` (the ``fairness.json`` train writes) or from
    ``FairnessReport.to_dict()`` (the engine's JSON, as the ``fairness`` command prints it)."""
    if data.get("format") == VIEW_FORMAT:
        return _view_from_own(data)
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


def chart_values(view: FairnessView) -> dict[str, float | None]:
    """The chart metric of each group by its label (to draw a baseline's line next to a candidate's bars)."""
    metric = view.chart_metric or ""
    return {r.label(view.features): r.values.get(metric) for r in view.rows}
