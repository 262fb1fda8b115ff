"""The approval rule of an environment in words, for the promotion preview (pure).

"2 approvals from @acme/ml-leads; stale approvals don't count" -- what ``registry.approvals.decide`` will
require when the merge deploys. Names are returned as parts so the renderer can escape each one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from mlops_actions.convention.model import ApprovalRule


@dataclass(frozen=True)
class ApprovalWords:
    """``count`` approvals from ``who`` (people or teams, as ``@name``; ``owners_of`` a path), then ``rules``."""

    environment: str
    count: int
    who: tuple[str, ...]
    owners_of: str | None
    owners: tuple[str, ...] | None
    rules: tuple[str, ...]


def approval_words(environment: str, rule: ApprovalRule, path: str,
                   owners: Sequence[str] | None) -> ApprovalWords:
    """``owners``: the CODEOWNERS of ``path`` at the base (None when no CODEOWNERS file was found)."""
    who = tuple(f"@{u}" for u in rule.users) + tuple(f"@{t}" for t in rule.teams)
    return ApprovalWords(environment, rule.required, who, path if rule.codeowners else None,
                         tuple(owners) if owners is not None and rule.codeowners else None, _rules(rule))


def _rules(rule: ApprovalRule) -> tuple[str, ...]:
    stale = "stale approvals count" if rule.stale_approvals_count else "stale approvals don't count"
    return (stale, "the PR author never counts", "an outstanding request for changes blocks")


def anyone(words: ApprovalWords) -> bool:
    """True when any reviewer with write access counts (no users, teams or CODEOWNERS named)."""
    return not words.who and words.owners_of is None
