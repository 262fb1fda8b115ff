"""What ``mlops-actions register`` writes for people: the release notes of a version, the PR comment that
announces the versions (or why a model was refused), and the refusal when nothing could be registered.

Logins, metric names, tags and problems are escaped; a login never becomes a mention (``@`` + zero-width
space).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting.markdown import md_cell, md_code, md_list
from mlops_actions.reporting.tables import table


class Released(Protocol):
    """A registered version as the announcement shows it (``commands.register.Registered``)."""

    @property
    def tag(self) -> str: ...

    @property
    def release_url(self) -> str: ...

    @property
    def created(self) -> bool: ...


class Refused(Protocol):
    """A model that was not registered, and why (``commands.register.Verdict``)."""

    @property
    def model(self) -> ModelReport: ...

    @property
    def problems(self) -> tuple[str, ...]: ...


def release_body(m: ModelReport, tag: str, record: Mapping[str, Any]) -> str:
    """The release notes: provenance, approvers, the recorded metrics, fingerprint and artifact hash."""
    approvers = ", ".join(f"@\u200b{md_cell(a['login'])}" for a in record.get("approvers", [])) or "none"
    rows = [[md_cell(k), str(v if v is not None else "n/a")] for k, v in sorted((record.get("metrics") or {}).items())]
    return (f"Version {md_code(tag)} of model {md_code(m.name)}, from PR #{record.get('pr')} "
            f"(commit {md_code(str(record.get('commit', ''))[:12])}), approved by {approvers}.\n\n"
            f"{table(['metric', 'value'], rows, compact=True, right={1})}\n\n"
            f"Fingerprint {md_code(m.fingerprint)}; artifact sha256 {md_code(m.artifact_sha256)} (skops format; "
            "load with `skops.io.load` after checking `get_untrusted_types`). The version record is the tag "
            "message.\n")


ANNOUNCEMENT_LIMIT = 65_536 - 200  # GitHub's comment limit, less the marker line the GitHub layer adds
LISTED_REFUSED = 40  # refused models listed, with their reasons, in a shortened comment
FULL_WHERE = "this run's job summary"


def announcement(done: Sequence[Released], refused: Sequence[Refused], *, limit: int | None = None,
                 where: str = FULL_WHERE) -> str:
    """The PR comment after a merge: each version with its release, then the models refused and why. With
    ``limit`` (characters, as GitHub counts them) and more than fits (a thousand models), a summary instead:
    the counts, the refused models with their reasons (the first ``LISTED_REFUSED``), every tag without its
    link, and ``where`` every version's release link and every reason are."""
    full = _full(done, refused)
    if limit is None or _length(full) <= limit:
        return full
    return _summary(done, refused, limit, where)


def _full(done: Sequence[Released], refused: Sequence[Refused]) -> str:
    lines = [f"### mlops-actions: {_title(done, refused)}", ""]
    lines += [f"- {md_code(d.tag)}: [release]({d.release_url})" + ("" if d.created else " (already registered)")
              for d in done]
    if refused:
        lines += ["Refused (nothing was tagged or released for these models):", ""]
        lines += [f"- {md_code(v.model.name)}: {md_cell(p.strip())}" for v in refused for p in v.problems]
    return "\n".join(lines) + "\n"


def _title(done: Sequence[Released], refused: Sequence[Refused]) -> str:
    return "registered" if not refused else "registration refused" if not done else "registered, some models refused"


def _summary(done: Sequence[Released], refused: Sequence[Refused], limit: int, where: str) -> str:
    again = sum(not d.created for d in done)
    head = [f"### mlops-actions: {_title(done, refused)}", "",
            f"**{len(done):,} versions registered** ({len(done) - again:,} new, {again:,} already registered), "
            f"**{len(refused):,} models refused.** Too many for one comment: every version with its release "
            f"and every reason is in {where}."]
    if refused:
        rows = [[md_code(v.model.name), md_cell(fmt.clip("; ".join(p.strip() for p in v.problems), 300))]
                for v in refused[:LISTED_REFUSED]]
        more = len(refused) - len(rows)
        head += ["", "**Refused** (nothing was tagged or released for these models)", "",
                 table(("model", "why"), rows)] + ([f"_… and {more:,} more in {where}._"] if more > 0 else [])
    releases = _releases_page(done)
    tags = [md_code(d.tag) for d in done]
    intro = "**Versions**" + (f" ([releases]({releases}))" if releases else "") + ": "
    text = "\n".join(head) + "\n\n" + intro
    room = limit - _length(text) - 120
    shown = _fitting(tags, room)
    text += ", ".join(tags[:shown])
    if shown < len(tags):
        text += f" _… and {len(tags) - shown:,} more in {where}._"
    return text + "\n"


def _fitting(items: Sequence[str], room: int) -> int:
    """How many of ``items``, joined by ``, ``, fit in ``room`` characters."""
    used = 0
    for index, item in enumerate(items):
        used += len(item) + 2
        if used > room:
            return index
    return len(items)


def _releases_page(done: Sequence[Released]) -> str:
    """The repository's releases page, from a release's URL (``…/releases/tag/<tag>``)."""
    url = done[0].release_url if done else ""
    return url.split("/releases/tag/", 1)[0] + "/releases" if "/releases/tag/" in url else ""


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2  # as GitHub counts a comment (UTF-16 code units)


def refusal_comment(problems: Sequence[str]) -> str:
    """The PR comment when nothing was registered."""
    return ("### mlops-actions: registration refused\n\nNothing was tagged or released. What is missing:\n\n"
            + md_list(p.strip() for p in problems) + "\n")


def refusal_summary(problems: Sequence[str]) -> str:
    """The job summary when nothing was registered."""
    return "### mlops-actions register: refused\n\n" + md_list(p.strip() for p in problems) + "\n"
