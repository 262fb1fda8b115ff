"""Approval rules and CODEOWNERS matching, rule by rule (pure)."""

from __future__ import annotations

import pytest

from mlops_actions.convention.model import ApprovalRule
from mlops_actions.registry import codeowners
from mlops_actions.registry.approvals import Lookups, ReviewedPull, ReviewVote, decide

HEAD, OLD = "a" * 40, "b" * 40
PERMS = {"alice": "write", "bob": "admin", "carol": "maintain", "dave": "read", "erin": "write", "author": "write"}
TEAMS = {("acme/ml-leads", "alice"), ("acme/ml-leads", "carol")}


def lookups(owners: tuple[str, ...] = ()) -> Lookups:
    return Lookups(permission=lambda u: PERMS.get(u, "none"), in_team=lambda t, u: (t, u) in TEAMS,
                   codeowners=owners)


def vote(login: str, state: str = "APPROVED", commit: str = HEAD, at: str = "2026-11-27T10:00:00Z") -> ReviewVote:
    return ReviewVote(login, state, commit, at)


def run(reviews, rule=ApprovalRule(required=1), owners=(), merged_by=None):
    return decide(ReviewedPull(tuple(reviews), "author", HEAD, merged_by), rule, lookups=lookups(owners))


def test_one_approval_passes_and_is_recorded() -> None:
    decision = run([vote("alice")])
    assert decision.approved and [a.login for a in decision.approvers] == ["alice"]
    assert decision.approvers[0].to_dict() == {"login": "alice", "commit": HEAD, "submitted_at": "2026-11-27T10:00:00Z"}


def test_latest_review_of_each_reviewer_decides() -> None:
    reviews = [vote("alice", at="2026-11-27T10:00:00Z"), vote("alice", "CHANGES_REQUESTED", at="2026-11-27T11:00:00Z")]
    decision = run(reviews)
    assert not decision.approved
    assert any("rule 'changes requested': @alice" in r for r in decision.reasons)
    again = run([*reviews, vote("alice", at="2026-11-27T12:00:00Z")])
    assert again.approved


def test_commented_is_ignored() -> None:
    decision = run([vote("alice"), vote("alice", "COMMENTED", at="2026-11-27T11:00:00Z")])
    assert decision.approved


def test_dismissed_cancels() -> None:
    decision = run([vote("alice", "DISMISSED")])
    assert not decision.approved and "rule 'required approvals': 0 of 1" in decision.reasons[0]


def test_changes_requested_blocks_even_with_enough_approvals() -> None:
    decision = run([vote("alice"), vote("carol"), vote("erin", "CHANGES_REQUESTED")])
    assert not decision.approved and decision.reasons == (
        "rule 'changes requested': @erin requested changes and has not approved since",)


def test_changes_requested_by_a_read_only_user_does_not_block() -> None:
    assert run([vote("alice"), vote("dave", "CHANGES_REQUESTED")]).approved


def test_author_never_counts() -> None:
    decision = run([vote("author")])
    assert not decision.approved
    assert decision.not_counted == ("@author: rule 'no self-approval': the PR author never counts",)


def test_stale_approval_does_not_count_unless_policy_allows() -> None:
    decision = run([vote("alice", commit=OLD)])
    assert not decision.approved and "rule 'stale approval'" in decision.not_counted[0]
    assert run([vote("alice", commit=OLD)], ApprovalRule(required=1, stale_approvals_count=True)).approved


def test_reviewer_without_write_permission_does_not_count() -> None:
    decision = run([vote("dave")])
    assert not decision.approved and "rule 'write access'" in decision.not_counted[0]


@pytest.mark.parametrize(("rule", "owners", "counted"), [
    (ApprovalRule(required=1, users=("erin",)), (), ["erin"]),
    (ApprovalRule(required=1, teams=("acme/ml-leads",)), (), ["alice", "carol"]),
    (ApprovalRule(required=1, codeowners=True), ("@acme/ml-leads",), ["alice", "carol"]),
    (ApprovalRule(required=1, codeowners=True), ("@bob",), ["bob"]),
    (ApprovalRule(required=1), (), ["alice", "bob", "carol", "erin"]),
])
def test_only_allowed_reviewers_count(rule, owners, counted) -> None:
    decision = run([vote(u) for u in ("alice", "bob", "carol", "erin")], rule, owners)
    assert [a.login for a in decision.approvers] == counted


def test_two_required_from_a_team() -> None:
    rule = ApprovalRule(required=2, teams=("acme/ml-leads",))
    decision = run([vote("alice"), vote("erin")], rule)
    assert not decision.approved
    assert "1 of 2" in decision.reasons[-1] and any("allowed reviewers" in n for n in decision.not_counted)
    assert run([vote("alice"), vote("carol")], rule).approved


def test_admin_bypass_is_refused_and_named() -> None:
    decision = run([], merged_by="bob")
    assert not decision.approved and any("rule 'no bypass': @bob merged" in r for r in decision.reasons)


CODEOWNERS = """
# comment
*               @acme/everyone
/models/        @acme/ml-team
/environments/  @acme/ml-leads   # inline comment
*.md            @docs
models/secret/  @alice
"""


@pytest.mark.parametrize(("path", "owners"), [
    ("README.md", ("@docs",)),
    ("src/x.py", ("@acme/everyone",)),
    ("models/churn/model.yaml", ("@acme/ml-team",)),
    ("models/secret/model.yaml", ("@alice",)),
    ("environments/production.yaml", ("@acme/ml-leads",)),
    ("models/churn/README.md", ("@docs",)),
])
def test_codeowners_last_match_wins(path: str, owners: tuple[str, ...]) -> None:
    assert codeowners.owners_of(codeowners.parse(CODEOWNERS), path) == owners


def test_codeowners_patterns() -> None:
    rules = codeowners.parse("docs/*.md @a\n**/logs @b\n/build/ @c\nlib/**/x.py @d\n")
    assert codeowners.owners_of(rules, "docs/a.md") == ("@a",)
    assert codeowners.owners_of(rules, "docs/sub/a.md") == ()
    assert codeowners.owners_of(rules, "deep/logs/x.log") == ("@b",)
    assert codeowners.owners_of(rules, "build/out/x") == ("@c",)
    assert codeowners.owners_of(rules, "src/build/x") == ()
    assert codeowners.owners_of(rules, "lib/a/b/x.py") == ("@d",) == codeowners.owners_of(rules, "lib/x.py")
