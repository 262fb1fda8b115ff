"""The comment of a pull request that retrains many models: a summary, and where the full report is.

GitHub keeps a comment under 65,536 characters; a thousand models' glances do not fit. The comment then
counts the verdicts, lists the models that fail or warn (their glances follow), the models whose metrics
changed most, and says that every model's full report is in the run's job summary (and the check run).
"""

from __future__ import annotations

from collections.abc import Sequence

from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.evaluation.gates import FAIL, PASS, WARN
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting.markdown import md_cell, md_code, md_text
from mlops_actions.reporting.tables import table

LISTED = 40  # models listed (and given a glance) in the comment
CHANGED_MOST = 10
_ORDER = {FAIL: 0, WARN: 1, PASS: 2}


def open_models(models: Sequence[ModelReport], limit: int | None = LISTED) -> list[ModelReport]:
    """The models that fail, then those that warn (by name), at most ``limit``."""
    found = sorted((m for m in models if m.verdict != PASS), key=lambda m: (_ORDER.get(m.verdict, 1), m.name))
    return found if limit is None else found[:limit]


def overview(models: Sequence[ModelReport], ctx: object) -> str:
    """Verdict counts, the models that fail or warn, the largest changes, and where the rest is."""
    refs = [f"{word} {md_code(ref, table=False)}" for word, ref in (("base", getattr(ctx, "base_ref", None)),
                                                                      ("head", getattr(ctx, "head_ref", None))) if ref]
    counts = {v: sum(m.verdict == v for m in models) for v in (FAIL, WARN, PASS)}
    parts = [" · ".join(refs)] if refs else []
    parts.extend(f"- ❌ {md_text(p)}" for p in getattr(ctx, "problems", ()))
    parts.append(f"**{len(models):,} models retrained:** " + " · ".join(
        f"{fmt.verdict(v)} {n:,}" for v, n in counts.items()) + ". The comment shows the models that fail or "
        "warn and those that changed most; **every model's full report is in this run's job summary** "
        "(and the check run `mlops-actions report`)" + (f", and, where those had to be shortened, in "
                                                         f"{getattr(ctx, 'full_report', None)}"
                                                         if getattr(ctx, "full_report", None) else "")
        + "; `mlops-actions report` prints it locally.")
    listed = open_models(models)
    if listed:
        rows = [[md_code(m.name), fmt.verdict(m.verdict), _open_gates(m)] for m in listed]
        more = len([m for m in models if m.verdict != PASS]) - len(listed)
        parts.append("**Models that fail or warn**\n\n" + table(("model", "verdict", "gates that did not pass"), rows)
                     + (f"\n\n_… and {more:,} more in the job summary._" if more > 0 else ""))
    parts.append(_changed_most(models))
    unchanged = getattr(ctx, "unchanged", ())
    if unchanged:
        parts.append(f"Unchanged: {fmt.plural(len(unchanged), 'model')} (listed in the job summary).")
    return "\n\n".join(p for p in parts if p)


def _open_gates(m: ModelReport) -> str:
    names = [md_cell(fmt.clip(r.label, 40)) for r in m.gates.results if r.effect != PASS]
    return ", ".join(names[:3]) + (f" (+{len(names) - 3})" if len(names) > 3 else "")


def _changed_most(models: Sequence[ModelReport]) -> str:
    """The largest relative metric changes (one per model), with their intervals."""
    found = []
    for m in models:
        changes = [d for d in m.metrics if d.relative is not None]
        if changes:
            biggest = max(changes, key=lambda d: (abs(d.relative or 0.0), d.name))
            found.append((abs(biggest.relative or 0.0), m.name, m, biggest))
    found.sort(key=lambda t: (-t[0], t[1]))
    rows = [[md_code(m.name), md_cell(d.name), fmt.number(d.old), fmt.number(d.new),
             fmt.signed(d.delta) + (f" {fmt.interval(d.interval.low, d.interval.high)}" if d.interval else ""),
             fmt.signed_percent(d.relative), "≈ within noise" if d.within_noise else fmt.arrow(d.change)]
            for _, _, m, d in found[:CHANGED_MOST]]
    if not rows:
        return ""
    return "**Largest metric changes**\n\n" + table(("model", "metric", "baseline", "candidate",
                                                     "change [95% interval]", "relative", ""), rows)
