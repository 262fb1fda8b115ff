"""Rendering a ``MonitorResult`` (``mlops-actions monitor``): Markdown (tables + one Mermaid chart) and
deterministic JSON (``RENDERERS``), and the drift issue's title, body and closing comment.

Every column and level name is escaped with ``md_cell``/``md_text`` before it reaches Markdown; Mermaid
labels keep only letters, digits, space and ``._-`` so they cannot leave their quotes or the code fence.
Reports carry aggregates only (rates, statistics, level names), never rows.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from mlops_actions.monitoring.engine import ColumnResult, MonitorResult
from mlops_actions.monitoring.fairness_check import FairnessChange
from mlops_actions.monitoring.performance import MetricChange
from mlops_actions.monitoring.thresholds import FAIL, PASS, WARN
from mlops_actions.reporting.markdown import md_cell, md_code, md_text
from mlops_actions.reporting.render import Renderers
from mlops_actions.reporting.tables import table

CHART_FEATURES = 10
MAX_LEVELS = 20
_ICON = {PASS: "✅ pass", WARN: "⚠️ warn", FAIL: "❌ fail"}
_HEADLINE = {PASS: "✅ no drift", WARN: "⚠️ drift warnings", FAIL: "❌ drift"}
_UNSAFE_LABEL = re.compile(r"[^\w .-]")
BODY_LIMIT = 65_536  # characters GitHub accepts in an issue body (the marker line included)
MARKER_PREFIX = "mlops-actions:drift"  # of the drift issue's hidden marker, which the GitHub layer puts first
CUT_NOTE = "_… the report was cut here to fit GitHub's 65,536-character limit; the run's job summary has all of it._"
_SAFE_URL = re.compile(r"^https?://[A-Za-z0-9.:/_-]+$")


def issue_title(result: MonitorResult) -> str:
    """Plain-text title of the drift issue, one per model and environment: ``Drift: churn@v4 in production``."""
    where = f" in {result.environment}" if result.environment else ""
    return f"Drift: {_subject(result)}{where}"


def _subject(result: MonitorResult) -> str:
    return f"{result.model}@{result.version}" if result.version else result.model


def _num(value: float | None, digits: int = 3) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.{digits}f}" if abs(value) >= 10 ** -digits or value == 0 else f"{value:.1e}"


def _p(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2g}"


def markdown(result: MonitorResult) -> str:
    """The whole report as GitHub-flavoured Markdown."""
    parts = [_header(result), chart(result.columns), _table(_ordered(result.columns)), _levels(result.columns),
             _metrics(result.metrics), _fairness(result.fairness), _notes(result)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _header(result: MonitorResult) -> str:
    where = f" in {md_text(result.environment)}" if result.environment else ""
    counts = {v: sum(c.verdict == v for c in result.columns) for v in (FAIL, WARN)}
    t = result.thresholds
    return "\n".join([
        f"## Drift: {md_code(_subject(result))}{where} — {_HEADLINE[result.verdict]}", "",
        f"Reference: {md_code(result.reference)} ({result.reference_rows:,} rows) · "
        f"current: {md_code(result.current)} ({result.current_rows:,} rows)", "",
        f"**{counts[FAIL]}** of {len(result.columns)} columns drifted (fail), **{counts[WARN]}** with warnings. "
        f"Fail: PSI ≥ {t.psi_fail:g} with p < {t.p_value:g}, or missing rate moved ≥ {t.missing_fail:.0%}; "
        f"warn: PSI ≥ {t.psi_warn:g}, p < {t.p_value:g}, missing rate moved ≥ {t.missing_warn:.0%}, "
        f"or new levels."])


def _ordered(columns: tuple[ColumnResult, ...]) -> list[ColumnResult]:
    rank = {FAIL: 0, WARN: 1, PASS: 2}
    return sorted(columns, key=lambda c: (rank[c.verdict], -(c.drift.psi or 0.0), c.name))


def chart(columns: tuple[ColumnResult, ...]) -> str:
    """One Mermaid ``xychart-beta`` bar chart of the columns with the highest PSI."""
    top = sorted((c for c in columns if c.drift.psi is not None), key=lambda c: (-(c.drift.psi or 0), c.name))
    top = top[:CHART_FEATURES]
    if not top:
        return ""
    values = [float(c.drift.psi or 0.0) for c in top]
    return "\n".join([
        "```mermaid", "xychart-beta", f'    title "Most drifted columns (PSI, top {len(top)})"',
        f"    x-axis [{', '.join(_label(c.name) for c in top)}]",
        f'    y-axis "PSI" 0 --> {max(0.5, float(f"{max(values) * 1.1:.2g}")):.2f}',
        f"    bar [{', '.join(f'{v:.4f}' for v in values)}]", "```"])  # plain decimals: Mermaid reads no exponents


def _label(name: str, limit: int = 24) -> str:
    safe = _UNSAFE_LABEL.sub("_", " ".join(name.split()))
    return f'"{(safe[: limit - 1] + "…") if len(safe) > limit else safe or "_"}"'


def _table(columns: list[ColumnResult]) -> str:
    rows = [[_column_name(c), c.drift.kind, _num(c.drift.psi),
             c.drift.test, _num(c.drift.statistic), _p(c.drift.p_value),
             f"{c.drift.missing_reference:.1%} → {c.drift.missing_current:.1%}", _ICON[c.verdict],
             md_cell("; ".join(c.reasons))] for c in columns]
    head = ["column", "type", "PSI", "test", "statistic", "p-value", "missing (ref → cur)", "verdict", "why"]
    return table(head, rows)


def _column_name(c: ColumnResult) -> str:
    return md_cell(c.name) if c.role in ("feature", c.name) else f"{md_cell(c.name)} ({c.role})"


def _level_list(levels: tuple[str, ...]) -> str:
    shown = ", ".join(md_code(level) for level in levels[:MAX_LEVELS])
    more = len(levels) - MAX_LEVELS
    return f"{shown} and {more} more" if more > 0 else shown or "—"


def _levels(columns: tuple[ColumnResult, ...]) -> str:
    changed = [c for c in columns if c.drift.new_levels or c.drift.vanished_levels]
    if not changed:
        return ""
    rows = [[md_cell(c.name), _level_list(c.drift.new_levels), _level_list(c.drift.vanished_levels)]
            for c in changed]
    return "### Levels\n\n" + table(["column", "new levels", "vanished levels"], rows)


def _metrics(metrics: tuple[MetricChange, ...]) -> str:
    if not metrics:
        return ""
    rows = [[m.name, m.direction, _num(m.recorded, 4), _num(m.current, 4),
             "n/a" if m.delta is None else f"{m.delta:+.4f}", _ICON[m.verdict]] for m in metrics]
    head = ["metric", "better", "recorded", "current data", "change", "verdict"]
    return "### Model on current data\n\n" + table(head, rows)


def _fairness(changes: tuple[FairnessChange, ...]) -> str:
    if not changes:
        return ""
    rows = [[md_cell(f.name), _num(f.recorded, 4), _num(f.current, 4), f.limit or "—", _ICON[f.verdict]]
            for f in changes]
    head = ["disparity", "recorded", "current data", "gate", "verdict"]
    return "### Fairness on current data\n\n" + table(head, rows)


def _notes(result: MonitorResult) -> str:
    return "\n".join(f"- {md_text(note)}" for note in result.notes)


def as_dict(result: MonitorResult) -> dict[str, Any]:
    """JSON-ready and deterministic: floats rounded to 6 significant digits, NaN as null."""
    return {
        "model": result.model, "version": result.version, "environment": result.environment,
        "verdict": result.verdict, "drift": result.drift, "retrain": result.retrain,
        "reference": {"source": result.reference, "rows": result.reference_rows},
        "current": {"source": result.current, "rows": result.current_rows},
        "thresholds": result.thresholds.as_dict(),
        "columns": [_column_dict(c) for c in result.columns],
        "metrics": [_metric_dict(m) for m in result.metrics],
        "fairness": [{"name": f.name, "recorded": _round(f.recorded), "current": _round(f.current),
                      "gate": f.limit, "verdict": f.verdict} for f in result.fairness],
        "notes": list(result.notes),
    }


def _round(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(f"{value:.6g}")


def _column_dict(c: ColumnResult) -> dict[str, Any]:
    d = c.drift
    return {"name": c.name, "role": c.role, "type": d.kind, "psi": _round(d.psi), "test": d.test,
            "statistic": _round(d.statistic), "p_value": _round(d.p_value),
            "missing_reference": _round(d.missing_reference), "missing_current": _round(d.missing_current),
            "new_levels": list(d.new_levels), "vanished_levels": list(d.vanished_levels),
            "verdict": c.verdict, "reasons": list(c.reasons)}


def _metric_dict(m: MetricChange) -> dict[str, Any]:
    return {"name": m.name, "direction": m.direction, "recorded": _round(m.recorded),
            "current": _round(m.current), "delta": _round(m.delta), "verdict": m.verdict}


def as_json(result: MonitorResult) -> str:
    return json.dumps(as_dict(result), indent=2, sort_keys=True, ensure_ascii=False)


RENDERERS: Renderers[MonitorResult] = {"markdown": markdown, "json": as_json}


def issue_body(report: str, run_url: str | None = None, limit: int = BODY_LIMIT) -> str:
    """The report with a line linking the run, cut at a line (closing an open code block) to fit ``limit``."""
    footer = f"\n_Last checked by [this run]({run_url})._\n" if run_url and _SAFE_URL.match(run_url) else ""
    body = report.rstrip("\n") + "\n" + footer
    reserve = len(MARKER_PREFIX) + 200  # the marker line the GitHub layer puts first
    return body if len(body) <= limit - reserve else _cut(body, limit - reserve)


def _cut(text: str, budget: int) -> str:
    tail = "\n\n" + CUT_NOTE + "\n"
    kept: list[str] = []
    used, fenced = 0, False
    for line in text.split("\n"):
        closing = 4 if fenced else 0  # room to close an open ``` block
        if used + len(line) + 1 + closing + len(tail) + 4 > budget:
            break
        kept.append(line)
        used += len(line) + 1
        fenced ^= line.lstrip().startswith("```")
    if fenced:
        kept.append("```")
    return "\n".join(kept) + tail


def resolved_comment(result: MonitorResult, run_url: str | None = None) -> str:
    """The comment that closes the drift issue."""
    where = f" in {md_text(result.environment)}" if result.environment else ""
    run = f" ([run]({run_url}))" if run_url and _SAFE_URL.match(run_url) else ""
    return (f"Drift resolved: the latest check of {md_code(_subject(result))}{where} found no failing column, "
            f"metric or fairness gate{run}. Closing.")
