"""A model's first screen (at most ``GLANCE_LINES`` lines) and the fold that holds the rest.

The glance holds what a reviewer decides on: the verdict, why the model was retrained and against what,
the metric changes with their 95% intervals ("≈ within noise" when an interval contains 0), the gates that
did not pass, and one line of fairness. ``more`` folds everything else in one ``<details>``.
"""

from __future__ import annotations

from mlops_actions.evaluation.assess import FairnessView, GroupRow, ModelReport
from mlops_actions.evaluation.gates import PASS, GateResult
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting import pictures, sections
from mlops_actions.reporting.markdown import md_text
from mlops_actions.reporting.tables import details, table

GLANCE_LINES = 25
GLANCE_METRICS = 6
GLANCE_GATES = 4
HEADLINE = {"classification": "demographic_parity_difference", "regression": "mae_difference"}


def glance(m: ModelReport) -> str:
    """Verdict, reasons, baseline, metric changes, gates that did not pass, fairness in one line."""
    lines = [sections.heading(m), "", _why(m), _baseline(m), *_notes(m), "", *_metrics(m), "", *_gates(m), "",
             _fairness(m)]
    return "\n".join(lines)


def _why(m: ModelReport) -> str:
    if not m.reasons:
        return "**Why retrained:** _the plan lists no reason (its fingerprint is unchanged)_  "
    shown = "; ".join(md_text(fmt.clip(r, 120)) for r in m.reasons[:2])
    more = f" (+{len(m.reasons) - 2} more below)" if len(m.reasons) > 2 else ""
    return f"**Why retrained:** {shown}{more}  "


def _baseline(m: ModelReport) -> str:
    return sections.baseline_line(m.baseline, notes=False)


def _notes(m: ModelReport) -> list[str]:
    if not m.notes:
        return []
    more = f" (+{len(m.notes) - 1} more below)" if len(m.notes) > 1 else ""
    return [f"ℹ️ {md_text(fmt.clip(m.notes[0], 240))}{more}"]


def _metrics(m: ModelReport) -> list[str]:
    if not m.metrics:
        return ["_No metrics reported._"]
    rows = [sections.metric_cells(d) for d in m.metrics[:GLANCE_METRICS]]
    head = ("metric", "better", "baseline", "candidate", f"change [95% {_kind(m)}interval]", "")
    out = table(head, rows).split("\n")
    if len(m.metrics) > GLANCE_METRICS:
        out.append(f"_… {len(m.metrics) - GLANCE_METRICS} more metrics below._")
    return out


def _kind(m: ModelReport) -> str:
    """``paired `` / ``unpaired `` when every interval was made one way (the fold explains the methods)."""
    methods = {d.interval.method for d in m.metrics if d.interval is not None}
    return f"{methods.pop()} " if len(methods) == 1 and methods <= {"paired", "unpaired"} else ""


def _gates(m: ModelReport) -> list[str]:
    results = m.gates.results
    if not results:
        return ["_No gates configured (spec or policy): verdict pass by default._"]
    open_ = [r for r in results if r.effect != PASS or r.status == "undefined"]
    lines = [gate_line(r) for r in open_[:GLANCE_GATES]]
    if len(open_) > GLANCE_GATES:
        lines.append(f"… and {len(open_) - GLANCE_GATES} more below  ")
    passed = sum(r.status == PASS for r in results)
    if passed:
        lines.append(f"✅ {'all ' if passed == len(results) else ''}{fmt.plural(passed, 'gate')} passed")
    return lines


def gate_line(r: GateResult) -> str:
    bound = f"{r.bound} {fmt.number(r.threshold)}"
    return f"{sections.status(r)} **{md_text(r.label)}** ({bound}): {md_text(fmt.clip(r.message, 200))}  "


def _fairness(m: ModelReport) -> str:
    view = m.fairness
    if view is None:
        if m.spec is not None and not m.spec.data.sensitive:
            return "**Fairness:** no sensitive features in the spec."
        if m.fairness_note:
            return f"**Fairness:** not measured: {md_text(m.fairness_note)}."
        return "**Fairness:** per-group results not available (see the notes below)."
    return "**Fairness:** " + " · ".join(p for p in (_headline(m, view), _small(view)) if p)


def _headline(m: ModelReport, view: FairnessView) -> str:
    key = HEADLINE.get(m.task, "")
    value = view.summary.get(key)
    if key not in view.summary:
        return ""
    low, high = view.summary_ci.get(key, (None, None))
    ci = f" {fmt.interval(low, high)}" if not fmt.is_undefined(low) else ""
    old = next((f.old for f in m.fairness_changes if f.name == key), None)
    was = f" (baseline {fmt.number(old)})" if old is not None else ""
    return f"{md_text(key)} {fmt.number(value)}{ci}{was}{_where(view, key, value)}"


def _where(view: FairnessView, key: str, value: float | None) -> str:
    """Within the grouping (and class) that gives the worst value: its lowest and highest group."""
    if value is None:
        return ""
    suffix = next((k[len(key):] for k in view.summary if k.startswith(key + "@") and view.summary[k] == value
                   and not k[len(key):].startswith(("@to_overall", "@mean"))), "")
    target = suffix.split("@class=")[1].split("@")[0] if "@class=" in suffix else None
    by = tuple(suffix.split("@by=")[1].split("×")) if "@by=" in suffix else tuple(view.features[:1])
    rows = [r for r in view.rows if not r.small and r.by[-len(by):] == by and (target is None or r.target == target)]
    metric = view.chart_metric or ""
    ranked = sorted((r for r in rows if r.values.get(metric) is not None), key=lambda r: r.values[metric] or 0.0)
    if len(ranked) < 2:
        return ""
    return f": {md_text(metric)} from {_group(ranked[0], metric)} to {_group(ranked[-1], metric)}"


def _group(row: GroupRow, metric: str) -> str:
    return f"{md_text(fmt.clip(row.label(), 60))} {fmt.number(row.values[metric], 3)}"


def _small(view: FairnessView) -> str:
    if not view.small_groups:
        return ""
    return (f"▫ {fmt.plural(view.small_groups, 'group')} under {view.min_group_size} rows left out "
            f"({fmt.plural(view.left_out_rows, 'row')})")


def more(m: ModelReport, *, compact: bool = False) -> str:
    """Everything else, folded: ``compact`` leaves out the pictures and the per-group table."""
    parts = [sections.why(m), sections.changes(m), sections.metrics(m),
             "" if compact else _pictures(m), sections.fairness(m, compact=compact),
             "" if compact else sections.groups(m), "" if compact else sections.chart(m),
             sections.gates(m), sections.identity(m)]
    body = "\n\n".join(p for p in parts if p)
    return details(f"Details: what changed, metrics, {'' if compact else 'pictures, '}fairness by group, gates, "
                   "identity", body)


def _pictures(m: ModelReport) -> str:
    found = pictures.pictures(m)
    return f"#### Pictures (held-out split)\n\n{found}" if found else ""

