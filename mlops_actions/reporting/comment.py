"""The PR comment of ``mlops-actions report``: one Markdown document, verdict line first, then one part per
model.

Two variants: the PR comment (hidden marker on the first line, at most 65,536 characters) and the job
summary (at most 1 MiB). Each model shows its glance (≤ 25 lines: verdict, reasons, metric changes
with intervals, gates that did not pass, fairness in one line) and folds the rest in ``<details>``. When the
document is too long it degrades in steps: the folds lose their pictures and per-group tables, then whole
folds are cut from the last model backwards, then glances (the overview table keeps every model's row),
then the promotion preview (compacted first), and a note says what was left out. The output depends only
on the inputs: same inputs, same bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.evaluation.gates import FAIL, PASS, UNDEFINED, WARN, verdict_of
from mlops_actions.registry.preview import PromotionPreview
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting import glance, many, sections
from mlops_actions.reporting import promotions as promo
from mlops_actions.reporting.markdown import md_code, md_text

MARKER_NAME = "mlops-actions:report"  # for the GitHub layer: upsert_comment(pr, body, MARKER_NAME)
MARKER = f"<!-- {MARKER_NAME} -->"
COMMENT_LIMIT = 65_536
CHECK_TEXT_LIMIT = 65_535  # a check run's output.text (and output.summary), in characters
MANY_MODELS = 50  # more models than this: the comment summarises, the job summary has every model
SUMMARY_LIMIT = 1024 * 1024
NOTE_RESERVE = 800
CUT_ORDER = ("more", "glance", "promotions")
_CUT_NAMES = {"more": "folded details", "glance": "model summaries", "promotions": "promotion previews"}


@dataclass(frozen=True)
class RenderedReport:
    """What ``report`` rendered, for the CLI to publish: the comment, the job summary, the check run's text,
    the verdict and the models shown (``commands.publish`` posts it)."""

    comment: str
    summary: str
    check_text: str
    verdict: str
    models: Sequence[ModelReport]


@dataclass(frozen=True)
class ReportContext:
    """What the report says about the run as a whole; all optional, all escaped when rendered."""

    base_ref: str | None = None
    head_ref: str | None = None
    unchanged: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    promotions: PromotionPreview | None = None
    notes: tuple[str, ...] = ()  # said once, under the refs (where the numbers come from, for a fork)
    full_report: str | None = None  # where the complete report is when a shortened one leaves models out
    # each model's blocks, rendered once for the comment, the summary, the check run and the full report
    # (keyed by the report object, which the entry keeps alive: an id is never reused while cached)
    rendered: dict[int, tuple[ModelReport, list[Block]]] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Block:
    """A piece of the document; ``kind`` says when it may be cut, ``compact`` is its collapsed form."""

    kind: str
    text: str
    compact: str | None = None


def github_length(text: str) -> int:
    """Length as GitHub counts a comment body (UTF-16 code units; an emoji counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def utf8_length(text: str) -> int:
    return len(text.encode("utf-8"))


def overall_verdict(models: Sequence[ModelReport], problems: Sequence[str] = (),
                    promotions: PromotionPreview | None = None) -> str:
    """The verdict of the whole report: the worst model verdict; problems loading results fail it, and so
    does a promotion the deploy step will refuse (approvals are not judged: they come at merge)."""
    return verdict_of([*(m.verdict for m in models), *([FAIL] if problems else []),
                       *([promotions.verdict] if promotions is not None else [])])


def render_comment(models: Sequence[ModelReport], ctx: ReportContext, limit: int = COMMENT_LIMIT) -> str:
    """The sticky PR comment: marker first, at most ``limit`` characters as GitHub counts them. With more
    than ``MANY_MODELS`` models, or when every model's glance would not fit, it summarises: the models that
    fail or warn and those that changed most, their glances, and where the full report is (the job
    summary)."""
    if len(models) > MANY_MODELS:  # summarised whatever the glances' length: only the models shown are rendered
        return _fit(_blocks(models, ctx, marker=True, summarise=True), limit, github_length)
    blocks = _blocks(models, ctx, marker=True)
    glances = sum(github_length(b.text) + 2 for b in blocks if b.kind in ("marker", "overview", "glance"))
    summarise = len(models) > 1 and glances + NOTE_RESERVE > limit
    return _fit(_blocks(models, ctx, marker=True, summarise=True) if summarise else blocks, limit, github_length)


def render_summary(models: Sequence[ModelReport], ctx: ReportContext, limit: int = SUMMARY_LIMIT) -> str:
    """The job-summary variant: the same content, at most ``limit`` UTF-8 bytes."""
    return _fit(_blocks(models, ctx, marker=False), limit, utf8_length, where=ctx.full_report)


def render_full(models: Sequence[ModelReport], ctx: ReportContext) -> str:
    """Every model in full, never shortened: the file the workflow uploads as an artifact when the job
    summary or the check run had to leave something out."""
    return _join(_blocks(models, ctx, marker=False))


def render_check_text(models: Sequence[ModelReport], ctx: ReportContext, limit: int = CHECK_TEXT_LIMIT) -> str:
    """The check run's text: each model's glance and details, those that fail or warn first, at most
    ``limit`` characters (the check run's summary holds the comment)."""
    ordered = [*many.open_models(models, limit=None), *sorted((m for m in models if m.verdict == PASS),
                                                              key=lambda m: m.name)]
    blocks = [b for m in ordered for b in blocks_of(m, ctx)]
    return _fit(blocks, limit, github_length, where=ctx.full_report) if blocks else ""


def _blocks(models: Sequence[ModelReport], ctx: ReportContext, *, marker: bool,
            summarise: bool = False) -> list[Block]:
    ordered = sorted(models, key=lambda m: m.name)
    head = headline(ordered, ctx)
    first = many.overview(ordered, ctx) if summarise else overview(ordered, ctx)
    blocks = [Block("marker", MARKER + "\n" + head if marker else head), Block("overview", first)]
    if ctx.promotions is not None:
        blocks.append(Block("promotions", promo.promotions(ctx.promotions),
                            promo.promotions(ctx.promotions, compact=True)))
    for m in (many.open_models(ordered) if summarise else ordered):
        blocks.extend(blocks_of(m, ctx))
    return blocks


def headline(models: Sequence[ModelReport], ctx: ReportContext) -> str:
    verdict = overall_verdict(models, ctx.problems, ctx.promotions)
    failed = sum(m.gates.count(FAIL) for m in models)
    warned = sum(m.gates.count(WARN) for m in models)
    facts = [fmt.plural(len(models), "model") + " retrained", fmt.plural(failed, "gate") + " failed",
             fmt.plural(warned, "warning")]
    if ctx.promotions is not None:
        facts.append(promo.facts(ctx.promotions))
    return f"## {fmt.verdict(verdict)} · mlops-actions report: **{verdict}** — " + " · ".join(facts)


def overview(models: Sequence[ModelReport], ctx: ReportContext) -> str:
    refs = []
    if ctx.base_ref:
        refs.append(f"base {md_code(ctx.base_ref, table=False)}")
    if ctx.head_ref:
        refs.append(f"head {md_code(ctx.head_ref, table=False)}")
    parts = [" · ".join(refs)] if refs else []
    parts.extend(f"> ℹ️ {md_text(n)}" for n in ctx.notes)
    parts.extend(f"- ❌ {md_text(p)}" for p in ctx.problems)
    if models:
        rows = [_overview_row(m) for m in models]
        parts.append(sections.table(("model", "verdict", "baseline", "gates", "artifact sha256"), rows))
    elif not ctx.problems:
        parts.append("No model needs retraining: nothing to review." if ctx.promotions is None
                     else "No model needs retraining.")
    if ctx.unchanged:
        parts.append("Unchanged: " + ", ".join(md_code(n, table=False) for n in ctx.unchanged) + ".")
    return "\n\n".join(parts)


def _overview_row(m: ModelReport) -> list[str]:
    b = m.baseline
    base = f"{md_code(b.version)} ({b.kind})" if b.version else ("base ref" if b.exists else "new model")
    return [md_code(m.name), fmt.verdict(m.verdict), base, _gate_tally(m), md_code(fmt.short_sha(m.artifact_sha256))]


def _gate_tally(m: ModelReport) -> str:
    g = m.gates
    counts = [(g.count("pass"), "passed"), (g.count(FAIL), "failed"), (g.count(WARN), "warned"),
              (g.count(UNDEFINED), "n/a")]
    return ", ".join(f"{n} {word}" for n, word in counts if n) or "none"


def model_blocks(m: ModelReport) -> list[Block]:
    """The glance (always shown) and the fold (compacted, then cut, when the document is too long)."""
    return [Block("glance", glance.glance(m)), Block("more", glance.more(m), glance.more(m, compact=True))]


def blocks_of(m: ModelReport, ctx: ReportContext) -> list[Block]:
    """``model_blocks(m)``, rendered once per context."""
    found = ctx.rendered.get(id(m))
    if found is None or found[0] is not m:
        found = ctx.rendered[id(m)] = (m, model_blocks(m))
    return found[1]


def _join(blocks: Sequence[Block]) -> str:
    return "\n\n".join(b.text for b in blocks) + "\n"


def _fit(blocks: list[Block], limit: int, length: Callable[[str], int], where: str | None = None) -> str:
    """``blocks`` joined, shortened to ``limit``; the note says where the full report is (``where``, else
    the job summary: the comment's case)."""
    text = _join(blocks)
    if length(text) <= limit:
        return text
    blocks = [replace(b, text=b.compact) if b.compact is not None else b for b in blocks]
    sizes = [length(b.text) + 2 for b in blocks]
    total, cut = sum(sizes) + 1, {kind: 0 for kind in CUT_ORDER}
    for kind in CUT_ORDER:
        for i in range(len(blocks) - 1, -1, -1):
            if total + NOTE_RESERVE <= limit:
                break
            if blocks[i].kind == kind and blocks[i].text:
                total -= sizes[i]
                blocks[i], cut[kind] = replace(blocks[i], text=""), cut[kind] + 1
    kept = [b for b in blocks if b.text]
    return _hard_cut(_join([*kept, Block("note", _cut_note(cut, where))]), limit, length, where)


def _cut_note(cut: dict[str, int], where: str | None = None) -> str:
    left_out = ", ".join(f"{n} {_CUT_NAMES[k]}" for k, n in cut.items() if n)
    full = f"The full report is in {where}" if where else "The job summary of this run has the full report"
    return ("---\n_Shortened to fit GitHub's size limit: collapsed long tables"
            + (f" and left out {left_out}" if left_out else "")
            + f". {full}; `mlops-actions report` prints it locally._")


def _hard_cut(text: str, limit: float, length: Callable[[str], int], where: str | None = None) -> str:
    """Last resort (thousands of models): cut whole lines from the end and say so."""
    if length(text) <= limit:
        return text
    note = f"\n\n_… cut here to fit GitHub's size limit; see {where or 'the job summary'}._\n"
    lines = text.split("\n")
    budget = limit - length(note)
    kept, used = [], 0
    for line in lines:
        size = length(line) + 1
        if used + size > budget:
            break
        kept.append(line)
        used += size
    return "\n".join(kept) + note
