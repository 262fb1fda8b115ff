"""A ``FairnessReport`` (``mlops-actions fairness``) as GitHub-flavoured Markdown or JSON: ``RENDERERS``.

Every group value, feature name, label and warning is escaped with ``md_cell``/``md_code``: data cannot break
a table, open HTML, mention people or create links. Undefined values print as "n/a".
"""

from __future__ import annotations

import json
import math
from typing import Any

import pandas as pd

from mlops_actions.fairness.report import FairnessReport
from mlops_actions.reporting.markdown import md_cell, md_code
from mlops_actions.reporting.render import Renderers
from mlops_actions.reporting.tables import table

NA = "n/a"
SHOWN_RATES = (("selection_rate", "selection rate"), ("tpr", "TPR"), ("fpr", "FPR"),
               ("accuracy", "accuracy"), ("precision", "precision"))
REGRESSION_COLUMNS = (("mae", "MAE"), ("rmse", "RMSE"), ("mean_prediction", "mean prediction"))
DISPARITIES = (
    ("demographic parity difference", "demographic_parity_difference"),
    ("demographic parity ratio", "demographic_parity_ratio"),
    ("equal opportunity difference", "equal_opportunity_difference"),
    ("equal opportunity ratio", "equal_opportunity_ratio"),
    ("equalized odds difference (worst case)", "equalized_odds_difference"),
    ("equalized odds difference (mean)", "equalized_odds_difference@mean"),
    ("equalized odds ratio (worst case)", "equalized_odds_ratio"),
    ("equalized odds ratio (mean)", "equalized_odds_ratio@mean"),
)

Columns = tuple[tuple[str, str], ...]  # (column of the report, its heading)


def as_json(report: FairnessReport) -> str:
    """Deterministic JSON: sorted keys, NaN as null, two-space indent, trailing newline."""
    return json.dumps(report.to_dict(), indent=2, sort_keys=True, allow_nan=False, ensure_ascii=False) + "\n"


def fmt(value: Any, digits: int = 3) -> str:
    """A number to ``digits`` decimals; None/NaN → "n/a"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return NA
    return f"{float(value):.{digits}f}"


def with_interval(row: pd.Series | dict[str, Any], rate: str) -> str:
    """``0.412 [0.380, 0.445]`` (Wilson 95%), or "n/a"."""
    value = fmt(row[rate])
    if value == NA or fmt(row[f"{rate}_lower"]) == NA:
        return value
    return f"{value} [{fmt(row[f'{rate}_lower'])}, {fmt(row[f'{rate}_upper'])}]"


def markdown(report: FairnessReport, *, title: str = "Fairness") -> str:
    """The whole report: heading, per-group table, disparities, warnings."""
    parts = [_heading(report, title), _group_table(report)]
    parts.append(_disparity_table(report) if report.task == "classification" else _gap_table(report))
    if report.summary_by_stratum:
        parts.append(_strata_table(report))
    if report.warnings:
        parts.append("**Warnings**\n\n" + "\n".join(f"- {md_cell(w)}" for w in report.warnings))
    return "\n\n".join(parts) + "\n"


def _heading(report: FairnessReport, title: str) -> str:
    features = " × ".join(md_cell(name) for name in report.sensitive_features)
    control = ", ".join(md_cell(name) for name in report.control_features)
    head = f"### {md_cell(title)} by {features}" + (f" (within each {control})" if control else "")
    if report.task == "regression":
        return head + ("\n\nRegression errors per group (MAE with its 95% normal interval in brackets); "
                       "differences are max − min over groups.")
    return (f"{head}\n\nPositive label: {md_code(report.settings.get('pos_label'))} · "
            "95% Wilson intervals in brackets · a rate with a zero denominator is n/a")


def _key_cells(report: FairnessReport, key: Any) -> list[str]:
    key = key if isinstance(key, tuple) else (key,)
    return [md_cell(v) for v in key]


def _group_table(report: FairnessReport) -> str:
    names = [*report.control_features, *report.sensitive_features]
    columns = SHOWN_RATES if report.task == "classification" else REGRESSION_COLUMNS
    extra = ["positives"] if report.task == "classification" else []
    headers = [md_cell(n) for n in names] + ["n", *extra] + [label for _, label in columns]
    rows = [_key_cells(report, key) + _metric_cells(report, row, columns, extra)
            for key, row in report.by_group.iterrows()]  # one table row per group
    rows += _overall_rows(report, len(names), columns, extra)
    return table(headers, rows)


def _metric_cells(report: FairnessReport, row: Any, columns: Columns, extra: list[str]) -> list[str]:
    counts = [str(int(row["n"]))] + [str(int(row[c])) for c in extra]
    if report.task == "classification":
        return counts + [with_interval(row, rate) for rate, _ in columns]
    return counts + [with_interval(row, metric) if f"{metric}_lower" in row else fmt(row[metric])
                     for metric, _ in columns]


def _overall_rows(report: FairnessReport, width: int, columns: Columns, extra: list[str]) -> list[list[str]]:
    if isinstance(report.overall, pd.Series):
        return [["**overall**"] + [""] * (width - 1) + _metric_cells(report, report.overall, columns, extra)]
    rows = []
    for key, row in report.overall.iterrows():  # one row per control stratum
        cells = _key_cells(report, key)
        rows.append(cells + ["**overall**"] + [""] * (width - len(cells) - 1)
                    + _metric_cells(report, row, columns, extra))
    return rows


def _interval(report: FairnessReport, key: str) -> str:
    if key not in report.summary_ci:
        return NA
    lower, upper = report.summary_ci[key]
    return NA if math.isnan(lower) else f"{fmt(lower)} – {fmt(upper)}"


def _disparity_table(report: FairnessReport) -> str:
    worst = " (worst stratum)" if report.control_features else ""
    headers = [f"disparity{worst}", "between groups", "95% CI", "to overall", "95% CI"]
    rows = []
    for label, key in DISPARITIES:
        over = key.replace("@mean", "@to_overall@mean") if "@mean" in key else f"{key}@to_overall"
        rows.append([label, fmt(report.summary[key]), _interval(report, key),
                     fmt(report.summary[over]), _interval(report, over)])
    note = (f"\n\nIntervals: basic bootstrap over {report.settings.get('bootstrap')} redraws of the "
            f"per-group counts (seed {report.settings.get('seed')}).") if report.summary_ci else ""
    return table(headers, rows) + note


def _gap_table(report: FairnessReport) -> str:
    rows = [[f"{metric}_difference", fmt(report.summary[f"{metric}_difference"])] for metric, _ in REGRESSION_COLUMNS]
    return table(["difference (max − min)", "value"], rows)


def _strata_table(report: FairnessReport) -> str:
    keys = [key for _, key in DISPARITIES[::2]] if report.task == "classification" else \
        [f"{m}_difference" for m, _ in REGRESSION_COLUMNS]
    headers = ["stratum", *[k.replace("_", " ") for k in keys]]
    rows = [[md_cell(label)] + [fmt(values[k]) for k in keys]
            for label, values in report.summary_by_stratum.items()]
    return "**Per stratum** (between groups)\n\n" + table(headers, rows)


RENDERERS: Renderers[FairnessReport] = {"markdown": markdown, "json": as_json}
