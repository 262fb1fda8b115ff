"""The "Promotions" section of the PR report: what the environment files change against what runs now.

Rendered from a ``registry.preview.PromotionPreview``. Model names, versions, environment names and every
message go through ``md_code`` / ``md_cell`` / ``md_text`` (names in deployment payloads come from GitHub
and are not schema-checked). Approvals are listed as what the merge will need, never as a failure.
"""

from __future__ import annotations

from mlops_actions.registry.approval_words import ApprovalWords, anyone
from mlops_actions.registry.preview import (
    BASE_FILES,
    FIRST,
    PROMOTION,
    ROLLBACK,
    Item,
    PromotionPreview,
)
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting.markdown import md_cell, md_code, md_text
from mlops_actions.reporting.sections import details, table

_KIND_MARK = {PROMOTION: "⏫ promotion", ROLLBACK: "⏪ rollback", FIRST: "🆕 first deployment"}
_VERSION = {"valid": "✅ tag with a valid record", "unknown": "❌ unknown: no such tag",
            "untrusted": "❌ not trusted: invalid record",
            "pending": "⏳ this merge registers it (retrained in this PR)"}
_ORDER_MARK = {"pass": "✅", "fail": "❌", "later": "⏳"}
COMPACT_ITEMS = 40  # the compact form (to fit the comment) keeps this many changes and refusals


def facts(p: PromotionPreview) -> str:
    """For the headline: ``2 environment changes (1 refused) · ℹ️ the merge needs approvals: 2 for `production```."""
    refused = sum(1 for i in p.items if i.problems)
    text = fmt.plural(len(p.items), "environment change") + (f" ({refused} refused)" if refused else "")
    needed = [f"{a.count} for {md_code(a.environment, table=False)}" for a in p.approvals if a.count > 0]
    return text + (" · ℹ️ the merge needs approvals: " + ", ".join(needed) if needed else "")


def promotions(p: PromotionPreview, *, compact: bool = False) -> str:
    """The whole section; ``compact`` leaves out the per-change metric tables and keeps the first changes."""
    limit = COMPACT_ITEMS if compact else None
    parts = [f"### {fmt.verdict(p.verdict)} · Promotions", _intro(p), _table(p, limit), _problems(p, limit),
             _removals(p), _approvals(p), _notes(p)]
    if not compact:
        parts.extend(_metrics(i) for i in p.items)
    return "\n\n".join(part for part in parts if part)


def _intro(p: PromotionPreview) -> str:
    files = ", ".join(md_code(f, table=False) for f in p.files)
    if p.current.source == BASE_FILES:
        ref = f" {md_code(p.current.ref, table=False)}" if p.current.ref else ""
        now = (f"the environment files at the base ref{ref} (offline: GitHub Deployments were not read; "
               "the deploy step compares with them)")
    else:
        now = "**GitHub Deployments** (the latest successful deployment per environment and model)"
    return f"This pull request edits {files}. Compared with what runs now, according to {now}."


def _table(p: PromotionPreview, limit: int | None) -> str:
    if not p.items:
        return "_No model's version changes: merging deploys nothing._"
    rows = [_row(i) for i in p.items[:limit]]
    text = table(("environment", "model", "change", "version", "gates at registration", "environment order",
                  "verdict"), rows)
    return text + _more(len(p.items) - len(rows), "change")


def _more(left: int, what: str) -> str:
    return f"\n\n_… and {fmt.plural(left, 'more ' + what)} in the job summary._" if left > 0 else ""


def _row(i: Item) -> list[str]:
    c = i.change
    change = (f"{md_code(c.current)} → {md_code(c.version)}" if c.current else f"→ {md_code(c.version)}")
    kind = _KIND_MARK.get(i.kind, md_cell(i.kind))
    return [md_code(c.environment), md_code(c.model), f"{change} {kind}", _VERSION.get(i.version.status, "❔"),
            fmt.verdict(i.gates) if i.gates else fmt.NA, _order(i), fmt.verdict(i.verdict)]


def _order(i: Item) -> str:
    o = i.order
    if not o.requires:
        return "— none required"
    needs = ", ".join(md_code(e) for e in o.requires)
    words = {"pass": f"reached {needs} before", "fail": f"never deployed to {needs}",
             "later": f"needs {needs}: checked at deploy against GitHub Deployments"}
    return f"{_ORDER_MARK.get(o.status, '❔')} {words.get(o.status, md_cell(o.text))}"


def _problems(p: PromotionPreview, limit: int | None) -> str:
    lines = [f"- ❌ {md_code(i.change.environment, table=False)} {md_code(i.change.model, table=False)}: "
             f"{md_text(problem)}" for i in p.items for problem in i.problems]
    if not lines:
        return ""
    return "**The deploy step will refuse this merge** (nothing is deployed when any change is refused):\n\n" + \
        "\n".join(lines[:limit]) + _more(len(lines) - len(lines[:limit]), "refusal")


def _removals(p: PromotionPreview) -> str:
    lines = [f"- {md_code(r.environment, table=False)}: {md_code(r.model, table=False)} "
             f"{md_code(r.version, table=False)} is no longer named; deploy removes "
             "nothing, so it keeps running there" for r in p.removals]
    return "**Removed entries:**\n\n" + "\n".join(lines) if lines else ""


def _approvals(p: PromotionPreview) -> str:
    if not p.approvals:
        return ""
    lines = [f"- {md_code(a.environment, table=False)}: {approval_line(a)}" for a in p.approvals]
    return ("**Approvals the merge will need** (ℹ️ counted when the merge deploys, not part of this verdict):\n\n"
            + "\n".join(lines))


def approval_line(a: ApprovalWords) -> str:
    """``2 approvals from `@acme/ml-leads`; stale approvals don't count; ...``."""
    if a.count <= 0:
        return "no approval required; " + "; ".join(md_text(r) for r in a.rules[1:]) + "."
    who = [md_code(w, table=False) for w in a.who]
    if a.owners_of is not None:
        who.append(f"a code owner of {md_code(a.owners_of, table=False)}{_owners(a.owners)}")
    whom = " or ".join(who) if not anyone(a) else "reviewers with write access"
    return f"{fmt.plural(a.count, 'approval')} from {whom}; " + "; ".join(md_text(r) for r in a.rules) + "."


def _owners(owners: tuple[str, ...] | None) -> str:
    if owners is None:
        return " (no CODEOWNERS file at the base ref: no one qualifies that way)"
    if not owners:
        return " (CODEOWNERS at the base ref names no owner for it: no one qualifies that way)"
    return " (" + ", ".join(md_code(o, table=False) for o in owners) + " per CODEOWNERS at the base ref)"


def _notes(p: PromotionPreview) -> str:
    return "\n".join(f"- ℹ️ {md_text(n)}" for n in p.notes)


def _metrics(i: Item) -> str:
    if not i.metrics and not i.metrics_note:
        return ""
    c = i.change
    old = f"{md_code(c.current)} (now)" if c.current else "now"
    rows = [[md_cell(d.name), d.direction, fmt.number(d.old), fmt.number(d.new), fmt.signed(d.delta),
             fmt.signed_percent(d.relative), fmt.arrow(d.change)] for d in i.metrics]
    body = table(("metric", "better", old, md_code(c.version), "change", "relative", ""), rows) \
        if rows else "_no metrics in the record_"
    if i.metrics_note:
        body += f"\n\n<sub>{md_text(i.metrics_note)}</sub>"
    summary = f"Key metrics: {md_text(c.environment)} {md_text(c.model)} {md_text(c.current or 'nothing')} → " \
              f"{md_text(c.version)}"
    return details(summary, body)
