"""Governance promoted like a model (pure): which mlops.yaml and CODEOWNERS are in force, and their records.

The governance is the policy file and the CODEOWNERS file GitHub uses. A merge that changes either is a
governance change; it comes into force only with the approvals that the governance in force *before* it
asks for (``approvals.governance``). ``registry.policy_history`` replays main's first-parent history into a
``Timeline`` of steps; this module holds the values, the policy of a step, and the records of the tags
``mlops-policy@v<N>`` that ``govern`` writes, which are trusted only when the replay reaches the same step.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from mlops_actions.convention.model import Policy
from mlops_actions.registry.approvals import Approver

TAG_PREFIX = "mlops-policy@v"
_TAG = re.compile(r"^mlops-policy@v([1-9][0-9]{0,8})$")
BOOTSTRAP, IN_FORCE, REFUSED = "bootstrap", "in force", "refused"
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's search order


@dataclass(frozen=True)
class Governance:
    """The governance files at one commit (paths relative to the top of the git repository)."""

    commit: str
    policy_path: str
    policy_text: str | None
    codeowners_path: str | None
    codeowners_text: str | None

    def rules(self) -> tuple[str | None, str | None, str | None]:
        return self.policy_text, self.codeowners_path, self.codeowners_text

    def changed_paths(self, other: Governance) -> tuple[str, ...]:
        """The governance files whose content differs between ``self`` and ``other`` (both CODEOWNERS paths
        when the file moved)."""
        paths = [self.policy_path] if self.policy_text != other.policy_text else []
        if (self.codeowners_path, self.codeowners_text) != (other.codeowners_path, other.codeowners_text):
            paths += [p for p in (self.codeowners_path, other.codeowners_path) if p]
        return tuple(dict.fromkeys(paths))


@dataclass(frozen=True)
class Step:
    """One governance change on main (or the bootstrap): whether it came into force, and why not."""

    commit: str
    position: int  # index in main's first-parent history, oldest first
    status: str
    governance: Governance
    policy: Policy | None = None  # parsed policy (in-force and bootstrap steps)
    pr: int | None = None
    approvers: tuple[Approver, ...] = ()
    merged_by: str | None = None
    reasons: tuple[str, ...] = ()

    @property
    def in_force(self) -> bool:
        return self.status in (BOOTSTRAP, IN_FORCE)


@dataclass(frozen=True)
class Timeline:
    """Every governance step on main's first-parent history up to the pushed commit, oldest first."""

    steps: tuple[Step, ...]
    head_position: int

    def in_force(self) -> Step:
        """The governance in force after the pushed commit."""
        return self.in_force_before(self.head_position + 1)

    def in_force_before(self, position: int) -> Step:
        """The governance in force just before the merge at ``position`` (the bootstrap when none earlier)."""
        earlier = [s for s in self.steps if s.in_force and s.position < position]
        return earlier[-1] if earlier else next(s for s in self.steps if s.in_force)

    def at(self, position: int) -> Step | None:
        """The step the merge at ``position`` made, if it touched the governance."""
        return next((s for s in self.steps if s.position == position), None)

    def recorded(self) -> tuple[Step, ...]:
        """The steps that deserve a ``mlops-policy`` tag, oldest first."""
        return tuple(s for s in self.steps if s.in_force)


def tag_number(name: str) -> int | None:
    match = _TAG.fullmatch(name)
    return int(match.group(1)) if match else None


def sha256_text(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def _file(path: str | None, text: str | None) -> dict[str, str] | None:
    digest = sha256_text(text)
    return {"path": path, "sha256": digest} if path and digest else None


def policy_record(step: Step, number: int, *, created_at: str, run_url: str | None) -> dict[str, Any]:
    """The record of tag ``mlops-policy@v<number>`` for an in-force step."""
    g = step.governance
    record: dict[str, Any] = {
        "record_version": 1, "kind": "mlops-policy", "version": f"v{number}", "commit": step.commit,
        "pr": step.pr, "approvers": [a.to_dict() for a in step.approvers], "merged_by": step.merged_by,
        "policy": _file(g.policy_path, g.policy_text), "codeowners": _file(g.codeowners_path, g.codeowners_text),
        "bootstrap": step.status == BOOTSTRAP, "created_at": created_at}
    if run_url:
        record["run_url"] = run_url
    return record


def record_message(record: Mapping[str, Any]) -> str:
    return json.dumps(record, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def matches(record: Mapping[str, Any], step: Step) -> bool:
    """Whether a (schema-valid) record describes ``step``: same commit, PR and governance files."""
    g = step.governance
    return (record.get("commit") == step.commit and record.get("pr") == step.pr
            and record.get("policy") == _file(g.policy_path, g.policy_text)
            and record.get("codeowners") == _file(g.codeowners_path, g.codeowners_text))


@dataclass(frozen=True)
class TagCheck:
    """Policy tags against the replay: which step each trusted tag records, and the untrusted ones."""

    trusted: Mapping[str, str]  # commit -> tag name
    untrusted: tuple[str, ...]  # "mlops-policy@v3: why"
    next_number: int


def check_tags(timeline: Timeline, tags: Iterable[tuple[str, str, Mapping[str, Any] | None, str | None]]
               ) -> TagCheck:
    """``tags``: (name, commit it peels to, valid record or None, problem). A tag is trusted only when the
    replay of main's history reaches the step it records; anyone with write access can push a tag."""
    steps = {s.commit: s for s in timeline.recorded()}
    trusted: dict[str, str] = {}
    untrusted: list[str] = []
    numbers = [0]
    for name, commit, record, problem in tags:
        numbers.append(tag_number(name) or 0)
        step = steps.get(commit)
        if record is None:
            untrusted.append(f"{name}: {problem}")
        elif step is None or not matches(record, step):
            untrusted.append(f"{name}: commit {commit[:12]} is not a governance change in force on main's history "
                             "(a hand-pushed or edited tag?); ignored")
        else:
            trusted.setdefault(commit, name)
    return TagCheck(trusted, tuple(untrusted), max(numbers) + 1)


def describe(step: Step) -> str:
    """One line for the check run and the logs."""
    where = f"PR #{step.pr}" if step.pr else "no pull request"
    if step.status == BOOTSTRAP:
        return f"bootstrap: the governance of {step.commit[:12]} (the first commit with a policy)"
    if step.in_force:
        who = ", ".join(f"@{a.login}" for a in step.approvers) or "nobody"
        return f"{step.commit[:12]} ({where}): in force, approved by {who}"
    return f"{step.commit[:12]} ({where}): NOT in force: " + "; ".join(step.reasons)
