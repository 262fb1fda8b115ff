"""What ``mlops-actions register`` writes for people: the release notes of a version, the PR comment that
announces the versions (or why a model was refused), and the refusal when nothing could be registered.

Logins, metric names, tags and problems are escaped; a login never becomes a mention (``@`` + zero-width
space).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from mlops_actions.evaluation.assess import ModelReport
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


def announcement(done: Sequence[Released], refused: Sequence[Refused]) -> str:
    """The PR comment after a merge: each version with its release, then the models refused and why."""
    title = ("registered" if not refused else "registration refused" if not done
             else "registered, some models refused")
    lines = [f"### mlops-actions: {title}", ""]
    lines += [f"- {md_code(d.tag)}: [release]({d.release_url})" + ("" if d.created else " (already registered)")
              for d in done]
    if refused:
        lines += ["Refused (nothing was tagged or released for these models):", ""]
        lines += [f"- {md_code(v.model.name)}: {md_cell(p.strip())}" for v in refused for p in v.problems]
    return "\n".join(lines) + "\n"


def refusal_comment(problems: Sequence[str]) -> str:
    """The PR comment when nothing was registered."""
    return ("### mlops-actions: registration refused\n\nNothing was tagged or released. What is missing:\n\n"
            + md_list(p.strip() for p in problems) + "\n")


def refusal_summary(problems: Sequence[str]) -> str:
    """The job summary when nothing was registered."""
    return "### mlops-actions register: refused\n\n" + md_list(p.strip() for p in problems) + "\n"
