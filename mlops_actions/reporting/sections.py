"""The sections of one model in the PR report, each rendered from a ``ModelReport`` into Markdown.

A model's part opens with its *glance* (``glance``: at most ``GLANCE_LINES`` lines: the verdict, why it was
retrained, the metric changes with their 95% intervals, the gates that did not pass, one line of fairness);
everything else (``more``) is folded in one ``<details>``: what changed, every metric, the pictures, fairness
by group, every gate and the identity.

Everything that comes from users or data goes through ``md_text`` / ``md_cell`` / ``md_code``; numbers are
formatted by ``reporting.format``. Tables are tabulate's ``github`` format with number parsing off (cells are
already formatted text).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

from mlops_actions.evaluation.assess import FairnessView, GroupRow, ModelReport
from mlops_actions.evaluation.baseline import BASE_REF, DEPLOYED, REGISTERED, Baseline
from mlops_actions.evaluation.diff import DataDiff, MetricDiff
from mlops_actions.evaluation.gates import GateResult
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting import mermaid
from mlops_actions.reporting.markdown import md_cell, md_code, md_text
from mlops_actions.reporting.tables import details, table

DETAILS_ROWS = 8
COMPACT_ROWS = 10
COMPACT_WARNINGS = 5
MAX_REASONS = 20
MAX_VALUE = 80


__all__ = ["details", "table"]


def maybe_details(summary: str, body: str, rows: int) -> str:
    return details(summary, body) if rows > DETAILS_ROWS else body


def heading(m: ModelReport) -> str:
    return f"### {fmt.verdict(m.verdict)} · model {md_code(m.name, table=False)}"



def baseline_line(b: Baseline, *, notes: bool = True) -> str:
    name = md_code(f"{b.model}@{b.version}") if b.version else ""
    if b.kind == DEPLOYED:
        text = f"{name}, deployed to {md_code(b.environment, table=False)}"
    elif b.kind == REGISTERED:
        text = f"{name}, the latest registered version"
    elif b.kind == BASE_REF:
        text = "the model trained at the base ref" + (f" {md_code(b.ref, table=False)}" if b.ref else "")
    else:
        text = "none: **new model** (nothing to compare with)"
    why = "; ".join(md_text(n) for n in b.notes) if notes else ""
    return f"**Baseline:** {text}" + (f"  \n<sub>{why}</sub>" if why else "")


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
    """Every metric: baseline, candidate, change with its 95% interval, relative change, judgement."""
    if not m.metrics:
        return "#### Metrics\n\n_no metrics reported_"
    rows = [[*metric_cells(d), fmt.signed_percent(d.relative)] for d in m.metrics]
    head = ("metric", "better", "baseline", "candidate", "change [95% interval]", "", "relative")
    return "#### Metrics (held-out split) vs baseline\n\n" + table(head, rows) + _interval_note(m)


def metric_cells(d: MetricDiff) -> list[str]:
    change = fmt.signed(d.delta)
    if d.interval is not None:
        change += f" {fmt.interval(d.interval.low, d.interval.high)}"
    judged = "≈ within noise" if d.within_noise and d.change in ("better", "worse") else fmt.arrow(d.change)
    return [md_cell(d.name), d.direction, fmt.number(d.old), fmt.number(d.new), change, judged]


INTERVAL_WORDS = {
    "paired": "paired bootstrap: the baseline was evaluated on the same held-out rows",
    "unpaired": "unpaired bootstrap: the baseline was evaluated on other rows",
    "assumed": "the baseline's held-out predictions are not available, so its spread is taken to be the "
               "candidate's (scaled by its rows)",
}


def _interval_note(m: ModelReport) -> str:
    methods = sorted({d.interval.method for d in m.metrics if d.interval is not None})
    if not methods:
        return ""
    how = "; ".join(INTERVAL_WORDS.get(x, x) for x in methods)
    return (f"\n\n<sub>95% intervals of the change: {md_text(how)}; 1,000 replicates over 1,000 seeded blocks "
            "of rows (seed 0). ≈ within noise: the interval contains 0.</sub>")


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
    parts = ["#### Fairness", _groups_by(view), _disparities(m, compact), _left_out(view), _warnings(view, compact)]
    return "\n\n".join(p for p in parts if p)


def _no_fairness(m: ModelReport) -> str:
    if m.spec is not None and not m.spec.data.sensitive:
        return "_No sensitive features in the spec: no fairness report._"
    if m.fairness_note:
        return f"_Fairness was not measured: {md_text(m.fairness_note)}._"
    return "_Per-group fairness is not available (see the notes above)._"


def _groups_by(view: FairnessView | None) -> str:
    if view is None or not view.features:
        return ""
    groupings = view.groupings or (view.features,)
    shown = ", ".join(" × ".join(md_code(c, table=False) for c in g) for g in groupings)
    classes = (" Classes measured one against the rest: " + ", ".join(md_code(c, table=False) for c in view.classes)
               + ".") if view.classes else ""
    return f"Groups by {shown} (each on its own unless joined by ×).{classes}"


def _left_out(view: FairnessView | None) -> str:
    if view is None or not view.small_groups:
        return ""
    return (f"▫ {fmt.plural(view.small_groups, 'group')} under {view.min_group_size} rows "
            f"({fmt.plural(view.left_out_rows, 'row')}) shown but left out of disparities and gates.")


MAIN_DISPARITIES = ("demographic_parity_difference", "demographic_parity_ratio", "equal_opportunity_difference",
                    "equal_opportunity_ratio", "equalized_odds_difference", "equalized_odds_ratio",
                    "mae_difference", "rmse_difference", "mean_prediction_difference")


def _part_label(part: str) -> str:
    """``@class=low@by=sex`` -> ``class low by sex`` (a word between the class and the grouping)."""
    return part.replace("@class=", "class ").replace("@by=", " by ").replace("×", " × ").strip()


def _disparities(m: ModelReport, compact: bool) -> str:
    """The main disparities (between groups, worst case): baseline, candidate with its interval, change,
    and (unless ``compact``) the value within each grouping and class."""
    view = m.fairness
    ci = view.summary_ci if view is not None else {}
    summary = view.summary if view is not None else {}
    changes = {f.name: f for f in m.fairness_changes}
    names = [n for n in MAIN_DISPARITIES if n in changes]
    parts = [] if compact or view is None else _parts(view, names)
    rows = [[md_cell(n), fmt.number(changes[n].old), f"{fmt.number(changes[n].new)} "
             f"{fmt.interval(*ci.get(n, (None, None)))}", fmt.signed(changes[n].delta), fmt.arrow(changes[n].change),
             *(fmt.number(summary.get(n + p)) for p in parts)] for n in names]
    if not rows:
        return ""
    head = ("disparity (worst)", "baseline", "candidate [95% interval]", "change", "",
            *(md_cell(_part_label(p)) for p in parts))
    note = ("<sub>Between groups, worst case (fairlearn's defaults): the worst over the groupings"
            f"{' and classes' if view is not None and view.classes else ''}. Intervals: basic bootstrap over "
            "1,000 redraws of the per-group counts (seed 0). Each group against everyone (`@to_overall`) and the "
            "mean of TPR and FPR gaps (`@mean`) are in fairness.json and the gates.</sub>")
    return table(head, rows) + "\n\n" + note + _undefined_note(
        view, [changes[n].new for n in names] + [summary.get(n + p) for n in names for p in parts])


def _undefined_note(view: FairnessView | None, values: Sequence[object]) -> str:
    """Why a disparity reads n/a: a gap between groups needs two groups to compare."""
    if view is None or not any(v is None or (isinstance(v, float) and math.isnan(v)) for v in values):
        return ""
    return ("\n\n▫ n/a: fewer than two groups of a grouping had the rows to compare (at least "
            f"{view.min_group_size} rows; for TPR, FPR and equalized odds that many positives or negatives), so "
            "the disparity is undefined, not 0, and a gate on it counts as its `undefined` setting.")


def _parts(view: FairnessView, names: Sequence[str]) -> list[str]:
    """The suffixes of the per-grouping (and per-class) values, in the order they appear."""
    found: dict[str, None] = {}
    for key in view.summary:
        name, sep, suffix = key.partition("@")
        if sep and name in names and not suffix.startswith(("to_overall", "mean")):
            found.setdefault("@" + suffix, None)
    order = {"@by=" + "×".join(g): i for i, g in enumerate(view.groupings)}
    return sorted(found, key=lambda s: (s.split("@by=")[0], order.get("@by=" + s.split("@by=")[-1], len(order))))


def _warnings(view: FairnessView | None, compact: bool) -> str:
    if view is None or not view.warnings:
        return ""
    shown = view.warnings[:COMPACT_WARNINGS] if compact else view.warnings
    lines = [f"- ⚠️ {md_text(fmt.clip(w, 300))}" for w in shown]
    if len(shown) < len(view.warnings):
        lines.append(f"- … and {len(view.warnings) - len(shown)} more warnings in the job summary")
    return "\n".join(lines)


def groups(m: ModelReport, limit: int | None = None) -> str:
    """The per-group table (▫ marks groups under the minimum); ``limit`` keeps the first rows only."""
    view = m.fairness
    if view is None or not view.rows:
        return ""
    shown = view.rows if limit is None else view.rows[:limit]
    body = table(_group_headers(view), [_group_row(view, r) for r in shown])
    if len(shown) < len(view.rows):
        body += f"\n\n_… {len(view.rows) - len(shown)} more groups left out to fit the comment; " \
                "the job summary has them all._"
    if view.empty:
        body += f"\n\n_{fmt.plural(view.empty, 'empty intersection')} (no rows) not shown._"
    return f"**Per group** ({fmt.plural(len(view.rows), 'group')}){_caption(view)}\n\n{body}"


def _caption(view: FairnessView) -> str:
    if not any(r.intervals for r in view.rows):
        return ""
    return ": MAE with its 95% normal interval" if "mae" in view.columns else ": rates with 95% Wilson intervals"


def _group_headers(view: FairnessView) -> list[str]:
    target = ["class"] if view.classes else []
    return [*target, "group", "n", *(md_cell(fmt.clip(c)) for c in view.columns)]


def _group_row(view: FairnessView, row: GroupRow) -> list[str]:
    target = [md_cell(fmt.clip(row.target))] if view.classes else []
    names = row.by or view.features
    group = ", ".join(f"{md_cell(fmt.clip(n, 40))}: {md_cell(fmt.clip(v, 60))}"
                      for n, v in zip(names, row.group, strict=False))
    cells = [*target, group or md_cell(" / ".join(row.group)), fmt.number(row.n, 12) + (" ▫" if row.small else "")]
    for col in view.columns:
        value = fmt.number(row.values.get(col), 3)
        low, high = row.intervals.get(col, (None, None))
        cells.append(value if fmt.is_undefined(low) else f"{value} {fmt.interval(low, high)}")
    return cells


def chart(m: ModelReport) -> str:
    """One chart of the chart metric per group with its interval; groups under the minimum left out."""
    view = m.fairness
    if view is None or not view.rows or not view.chart_metric:
        return ""
    metric = view.chart_metric
    rows = [r for r in view.rows if not r.small]
    if not rows:
        return ""
    names = [r.label(view.features) for r in rows]
    values = [r.values.get(metric) for r in rows]
    lines = [[r.intervals.get(metric, (None, None))[0] for r in rows],
             [r.intervals.get(metric, (None, None))[1] for r in rows]]
    base = [m.baseline_groups.get(n) for n in names] if m.baseline_groups else None
    legend = "bars: candidate; lines: 95% interval low, high" + ("; last line: baseline" if base else "")
    more = f"; first {mermaid.MAX_GROUPS} of {len(names)} groups" if len(names) > mermaid.MAX_GROUPS else ""
    small = f"; {fmt.plural(view.small_groups, 'group')} under {view.min_group_size} rows left out" \
        if view.small_groups else ""
    title = f"{metric} by group"
    return (f"<sub>{md_text(title)} ({legend}{more}{small})</sub>\n\n"
            + mermaid.bar_chart(title, metric, names, values, [*lines, *([base] if base else [])]))


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
        parts.append(f"✅ {which} passed.")
    return "\n\n".join(p for p in parts if p)


def _gate_row(r: GateResult) -> list[str]:
    return [md_cell(r.label), r.bound, f"{r.gate.source} ({r.gate.action})", fmt.number(r.value),
            fmt.number(r.threshold), fmt.number(r.baseline), status(r), md_cell(r.message)]


def status(r: GateResult) -> str:
    """``❌ fail``; an undefined value shows what it counts as: ``❔ undefined → ❌ fail``."""
    if r.status == "undefined" and r.counts_as:
        return f"❔ undefined → {fmt.verdict(r.effect)}"
    return fmt.verdict(r.status)


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
