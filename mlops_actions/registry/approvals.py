"""What "approved" means, decided by our code (pure: reviews, rule and lookups come from the caller).

Counted from the PR's reviews: the latest review of each reviewer decides; COMMENTED (and PENDING) is
ignored; DISMISSED cancels; an outstanding CHANGES_REQUESTED from someone with write access blocks; the
PR author never counts, nor does whoever pushed the PR's last commit (GitHub's "most recent reviewable
push" rule: a pusher could otherwise approve their own last change); an approval given on an older commit
than the merged head does not count unless the policy says stale approvals count; a reviewer without write
permission does not count; when the policy names users, teams or CODEOWNERS, only those reviewers count
(CODEOWNERS: the owners of what is promoted, as the caller names them). Every refusal names the rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from mlops_actions.convention.model import ApprovalRule

WRITE_PERMISSIONS = frozenset({"write", "maintain", "admin"})
_DECIDING = frozenset({"APPROVED", "CHANGES_REQUESTED", "DISMISSED"})


@dataclass(frozen=True)
class ReviewVote:
    """One review as GitHub reports it (mirrors ``github.values.Review`` without importing it)."""

    login: str
    state: str
    commit_id: str | None
    submitted_at: str | None


@dataclass(frozen=True)
class ReviewedPull:
    """A pull request as the approval rules see it: its reviews, its author, the head commit an approval must
    name, who pushed its last commit and who merged it."""

    reviews: tuple[ReviewVote, ...]
    author: str
    head_sha: str
    merged_by: str | None = None
    pushers: tuple[str, ...] = ()


@dataclass(frozen=True)
class Approver:
    login: str
    commit: str
    submitted_at: str

    def to_dict(self) -> dict[str, str]:
        return {"login": self.login, "commit": self.commit, "submitted_at": self.submitted_at}


@dataclass(frozen=True)
class Lookups:
    """How to ask GitHub about people: permission of a login, membership of a login in ``org/team``."""

    permission: Callable[[str], str]
    in_team: Callable[[str, str], bool]
    codeowners: tuple[str, ...] = ()  # owners (``@user`` / ``@org/team``) of the paths being promoted


@dataclass(frozen=True)
class Decision:
    approved: bool
    required: int
    approvers: tuple[Approver, ...]
    not_counted: tuple[str, ...]  # "@login: why", for the record and the refusal comment
    blockers: tuple[str, ...]  # reasons that block whatever the count

    @property
    def reasons(self) -> tuple[str, ...]:
        """Why the decision is a refusal (empty when approved)."""
        if self.approved:
            return ()
        shortfall: tuple[str, ...] = ()
        if len(self.approvers) < self.required:
            shortfall = (f"rule 'required approvals': {len(self.approvers)} of {self.required} qualifying "
                         "approval(s)",)
        return self.blockers + shortfall


def latest_votes(reviews: Iterable[ReviewVote]) -> dict[str, ReviewVote]:
    """Each reviewer's latest deciding review (COMMENTED and PENDING never decide)."""
    latest: dict[str, ReviewVote] = {}
    for review in sorted(reviews, key=lambda r: r.submitted_at or ""):
        if review.state in _DECIDING:
            latest[review.login.lower()] = review
    return latest


def decide(pull: ReviewedPull, rule: ApprovalRule, *, lookups: Lookups) -> Decision:
    """Apply the approval rule to a PR's reviews."""
    votes = latest_votes(pull.reviews)
    approvers: list[Approver] = []
    not_counted: list[str] = []
    blockers = [f"rule 'changes requested': @{v.login} requested changes and has not approved since"
                for v in votes.values() if v.state == "CHANGES_REQUESTED" and _can_write(lookups, v.login)]
    for vote in votes.values():
        if vote.state != "APPROVED":
            continue
        why = _why_not_counted(vote, rule, pull=pull, lookups=lookups)
        if why:
            not_counted.append(f"@{vote.login}: {why}")
        else:
            approvers.append(Approver(vote.login, vote.commit_id or "", vote.submitted_at or ""))
    approved = not blockers and len(approvers) >= rule.required
    if not approved and pull.merged_by and lookups.permission(pull.merged_by) == "admin":
        blockers.append(f"rule 'no bypass': @{pull.merged_by} merged without the required approvals "
                        "(branch protection bypassed?); nothing is promoted")
    return Decision(approved, rule.required, tuple(sorted(approvers, key=lambda a: a.login.lower())),
                    tuple(sorted(not_counted)), tuple(blockers))


def _why_not_counted(vote: ReviewVote, rule: ApprovalRule, *, pull: ReviewedPull, lookups: Lookups) -> str | None:
    head_sha = pull.head_sha
    if vote.login.lower() == pull.author.lower():
        return "rule 'no self-approval': the PR author never counts"
    if vote.login.lower() in {p.lower() for p in pull.pushers}:
        return "rule 'last pusher': whoever pushed the PR's last commit never counts (most recent reviewable push)"
    if not rule.stale_approvals_count and vote.commit_id != head_sha:
        return (f"rule 'stale approval': approved commit {(vote.commit_id or '?')[:7]}, "
                f"not the merged head {head_sha[:7]}")
    if not _can_write(lookups, vote.login):
        return "rule 'write access': the reviewer has no write permission on the repository"
    if rule.restricted and not _allowed(vote.login, rule, lookups):
        return f"rule 'allowed reviewers': not one of {_allowed_text(rule, lookups)}"
    return None


def _can_write(lookups: Lookups, login: str) -> bool:
    return lookups.permission(login) in WRITE_PERMISSIONS


def _allowed(login: str, rule: ApprovalRule, lookups: Lookups) -> bool:
    if login.lower() in {u.lower() for u in rule.users}:
        return True
    if any(lookups.in_team(team, login) for team in rule.teams):
        return True
    return rule.codeowners and _is_codeowner(login, lookups)


def _is_codeowner(login: str, lookups: Lookups) -> bool:
    for owner in lookups.codeowners:
        name = owner.lstrip("@")
        if "/" in name and lookups.in_team(name, login):
            return True
        if name.lower() == login.lower():
            return True
    return False


def _allowed_text(rule: ApprovalRule, lookups: Lookups) -> str:
    parts = [f"@{u}" for u in rule.users] + [f"@{t}" for t in rule.teams]
    if rule.codeowners:
        parts.append("CODEOWNERS of what is promoted" + (f" ({', '.join(lookups.codeowners)})"
                                                          if lookups.codeowners else " (none found)"))
    return ", ".join(parts)
