"""The sections of one model in the PR report, each rendered from a ``ModelReport`` into Markdown.

Everything that comes from users or data goes through ``md_text`` / ``md_cell`` / ``md_code``; numbers are
formatted by ``reporting.format``. Tables are tabulate's ``github`` format with number parsing off (cells are
already formatted text).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from tabulate import tabulate

from mlops_actions.evaluation.assess import FairnessView, GroupRow, ModelReport
from mlops_actions.evaluation.baseline import BASE_REF, DEPLOYED, REGISTERED, Baseline
from mlops_actions.evaluation.diff import DataDiff, MetricDiff
from mlops_actions.evaluation.gates import GateResult
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting import mermaid
from mlops_actions.reporting.markdown import md_cell, md_code, md_text

DETAILS_ROWS = 8
COMPACT_ROWS = 10
COMPACT_WARNINGS = 5
MAX_REASONS = 20
MAX_VALUE = 80


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return tabulate(rows, headers=list(headers), tablefmt="github", disable_numparse=True)


def details(summary: str, body: str) -> str:
    """A collapsed block; ``summary`` must be our own text (no user data)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def maybe_details(summary: str, body: str, rows: int) -> str:
    return details(summary, body) if rows > DETAILS_ROWS else body


def heading(m: ModelReport) -> str:
    return f"### {fmt.verdict(m.verdict)} · model {md_code(m.name, table=False)}"


def baseline_line(b: Baseline) -> str:
    name = md_code(f"{b.model}@{b.version}") if b.version else ""
    if b.kind == DEPLOYED:
        text = f"{name}, deployed to {md_code(b.environment, table=False)}"
    elif b.kind == REGISTERED:
        text = f"{name}, the latest registered version"
    elif b.kind == BASE_REF:
        text = "the model trained at the base ref" + (f" {md_code(b.ref, table=False)}" if b.ref else "")
    else:
        text = "none: **new model** (nothing to compare with)"
    notes = "; ".join(md_text(n) for n in b.notes)
    return f"**Baseline:** {text}" + (f"  \n<sub>{notes}</sub>" if notes else "")


def why(m: ModelReport) -> str:
    lines = ["**Why it was retrained:**"]
    reasons = list(m.reasons[:MAX_REASONS])
    lines.extend(f"- {md_text(r)}" for r in reasons)
    if len(m.reasons) > MAX_REASONS:
        lines.append(f"- … and {len(m.reasons) - MAX_REASONS} more")
    if not reasons:
        lines = ["**Why it was retrained:** _the plan lists no reason (its fingerprint is unchanged)_"]
    notes = [f"- ℹ️ {md_text(n)}" for n in m.notes]
    return "\n".join([*lines, *(["", *notes] if notes else []), "", baseline_line(m.baseline)])


def metrics(m: ModelReport) -> str:
    if not m.metrics:
        return "#### Metrics\n\n_no metrics reported_"
    rows = [_metric_row(d) for d in m.metrics]
    head = ("metric", "better", "baseline", "candidate", "change", "relative", "")
    return "#### Metrics (held-out split) vs baseline\n\n" + table(head, rows)


def _metric_row(d: MetricDiff) -> list[str]:
    return [md_cell(d.name), d.direction, fmt.number(d.old), fmt.number(d.new), fmt.signed(d.delta),
            fmt.signed_percent(d.relative), fmt.arrow(d.change)]


def _value(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    if len(text) > MAX_VALUE:
        text = text[: MAX_VALUE - 1] + "…"
    return md_code(text)


def changes(m: ModelReport) -> str:
    parts = ["#### What changed"]
    if not m.baseline.exists:
        parts.append("_Everything is new: there is no baseline._")
    elif m.params:
        rows = [[md_cell(p.name), p.kind, "" if p.kind == "added" else _value(p.old),
                 "" if p.kind == "removed" else _value(p.new)] for p in m.params]
        body = table(("parameter", "change", "baseline", "candidate"), rows)
        parts.append(maybe_details(f"Parameters: {len(rows)} changed", body, len(rows)))
    else:
        parts.append("Parameters: unchanged.")
    parts.append(data_table(m.data, m.baseline.exists))
    return "\n\n".join(parts)


def data_table(d: DataDiff, has_baseline: bool) -> str:
    rows = [["rows", fmt.number(d.old_rows, 12) if has_baseline else "", fmt.number(d.new_rows, 12)],
            ["content hash", _hashes(d.old_hashes) if has_baseline else "", _hashes(d.new_hashes)]]
    if d.added or d.removed or d.retyped:
        rows.append(["columns", "", _columns(d)])
    if d.old_balance or d.new_balance:
        rows.append(["class balance (held-out)", _balance(d.old_balance), _balance(d.new_balance)])
    return table(("data", "baseline", "candidate"), rows)


def _hashes(hashes: Sequence[str]) -> str:
    return ", ".join(md_code(fmt.short_sha(h)) for h in hashes) or fmt.NA


def _columns(d: DataDiff) -> str:
    parts = [f"added {', '.join(md_code(c) for c in d.added)}" if d.added else "",
             f"removed {', '.join(md_code(c) for c in d.removed)}" if d.removed else "",
             ", ".join(f"{md_code(c)} {md_code(a)} → {md_code(b)}" for c, a, b in d.retyped)]
    return "; ".join(p for p in parts if p)


def _balance(balance: Mapping[str, float] | None) -> str:
    if not balance:
        return fmt.NA
    return ", ".join(f"{md_code(k)} {fmt.percent(v)}" for k, v in balance.items())


def fairness(m: ModelReport, *, compact: bool = False) -> str:
    """Disparities then and now with intervals, and the warnings; ``compact`` keeps the main ones only."""
    view = m.fairness
    if view is None and not m.fairness_changes:
        return "#### Fairness\n\n" + _no_fairness(m)
    parts = ["#### Fairness", _groups_by(view), _disparities(m, compact), _warnings(view, compact)]
    return "\n\n".join(p for p in parts if p)


def _no_fairness(m: ModelReport) -> str:
    if m.spec is not None and not m.spec.data.sensitive:
        return "_No sensitive features in the spec: no fairness report._"
    return "_Per-group fairness is not available (see the notes above)._"


def _groups_by(view: FairnessView | None) -> str:
    if view is None or not view.features:
        return ""
    return "Groups by " + ", ".join(md_code(f, table=False) for f in view.features) + "."


def _disparities(m: ModelReport, compact: bool) -> str:
    ci = m.fairness.summary_ci if m.fairness is not None else {}
    shown = [f for f in m.fairness_changes if not compact or "@" not in f.name]
    rows = [[md_cell(f.name), fmt.number(f.old), fmt.number(f.new), fmt.interval(*ci.get(f.name, (None, None))),
             fmt.signed(f.delta), fmt.arrow(f.change)] for f in shown]
    if not rows:
        return ""
    body = table(("disparity", "baseline", "candidate", "95% interval", "change", ""), rows)
    if len(shown) < len(m.fairness_changes):
        body += f"\n\n_{len(m.fairness_changes) - len(shown)} more (to overall, mean) in the job summary._"
    return maybe_details(f"Disparities: {len(rows)}", body, len(rows))


def _warnings(view: FairnessView | None, compact: bool) -> str:
    if view is None or not view.warnings:
        return ""
    shown = view.warnings[:COMPACT_WARNINGS] if compact else view.warnings
    lines = [f"- ⚠️ {md_text(fmt.clip(w, 300))}" for w in shown]
    if len(shown) < len(view.warnings):
        lines.append(f"- … and {len(view.warnings) - len(shown)} more warnings in the job summary")
    return maybe_details(f"Warnings: {len(view.warnings)}", "\n".join(lines), len(lines))


def groups(m: ModelReport, limit: int | None = None) -> str:
    """The per-group table with intervals, collapsed; ``limit`` keeps the first rows only (compact form)."""
    view = m.fairness
    if view is None or not view.rows:
        return ""
    shown = view.rows if limit is None else view.rows[:limit]
    body = table(_group_headers(view), [_group_row(view, r) for r in shown])
    if len(shown) < len(view.rows):
        body += f"\n\n_… {len(view.rows) - len(shown)} more groups left out to fit the comment; " \
                "the job summary has them all._"
    return details(f"Per group: {fmt.plural(len(view.rows), 'group')}, 95% intervals", body)


def _group_headers(view: FairnessView) -> list[str]:
    return [*(md_cell(fmt.clip(f)) for f in view.features), "n", *(md_cell(fmt.clip(c)) for c in view.columns)]


def _group_row(view: FairnessView, row: GroupRow) -> list[str]:
    cells = [md_cell(fmt.clip(g)) for g in row.group] + [fmt.number(row.n, 12)]
    for col in view.columns:
        value = fmt.number(row.values.get(col), 3)
        low, high = row.intervals.get(col, (None, None))
        cells.append(value if fmt.is_undefined(low) else f"{value} {fmt.interval(low, high)}")
    return cells


def chart(m: ModelReport) -> str:
    view = m.fairness
    if view is None or not view.rows or not view.chart_metric:
        return ""
    metric = view.chart_metric
    names = [" / ".join(r.group) for r in view.rows]
    values = [r.values.get(metric) for r in view.rows]
    base = [m.baseline_groups.get(r.group) for r in view.rows] if m.baseline_groups else None
    legend = "bars: candidate" + ("; line: baseline" if base else "")
    more = f", first {mermaid.MAX_GROUPS} of {len(names)} groups" if len(names) > mermaid.MAX_GROUPS else ""
    title = f"{metric} by group"
    return f"<sub>{md_text(title)} ({legend}{more})</sub>\n\n" + mermaid.group_chart(title, metric, names, values, base)


def gates(m: ModelReport, *, compact: bool = False) -> str:
    """The gate table; ``compact`` keeps only the results that did not pass, and counts the others."""
    if not m.gates.results:
        return "#### Gates\n\n_No gates configured (spec or policy): verdict pass by default._"
    shown = [r for r in m.gates.results if not compact or r.status != "pass"]
    passed = len(m.gates.results) - len(shown)
    head = ("gate", "bound", "from (action)", "value", "threshold", "baseline", "status", "why")
    parts = ["#### Gates", table(head, [_gate_row(r) for r in shown]) if shown else ""]
    if passed:
        which = f"all {fmt.plural(passed, 'gate')}" if not shown else fmt.plural(passed, "other gate")
        parts.append(f"✅ {which} passed (details in the job summary).")
    return "\n\n".join(p for p in parts if p)


def _gate_row(r: GateResult) -> list[str]:
    return [md_cell(r.label), r.bound, f"{r.gate.source} ({r.gate.action})", fmt.number(r.value),
            fmt.number(r.threshold), fmt.number(r.baseline), fmt.verdict(r.status), md_cell(r.message)]


def identity(m: ModelReport) -> str:
    """What reviewers approve, in full: the fingerprint (spec, data, code, libraries) and the artifact sha256."""
    size = _size((m.record.get("artifact") or {}).get("size"))
    return (f"**Identity** (what you approve): fingerprint {md_code(m.fingerprint or fmt.NA)}  \n"
            f"artifact sha256 {md_code(m.artifact_sha256 or fmt.NA)}{size}")


def identity_table(m: ModelReport) -> str:
    """The model card's identity: fingerprint, artifact, spec and data hashes, in full."""
    rec = m.record
    rows = [["fingerprint", md_code(m.fingerprint or fmt.NA)],
            ["artifact sha256", md_code(m.artifact_sha256 or fmt.NA) + _size((rec.get("artifact") or {}).get("size"))],
            ["spec sha256", md_code(rec.get("spec_sha256") or fmt.NA)]]
    rows.extend([f"data {md_code(d.get('path', ''))}", md_code(d.get("hash", fmt.NA))]
                for d in rec.get("data") or ())
    return "## Identity\n\n" + table(("", "value"), rows)


def _size(size: Any) -> str:
    return f" ({fmt.number(size, 12)} bytes)" if isinstance(size, int) else ""
