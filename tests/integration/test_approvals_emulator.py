"""Each approval rule against the emulator, seeded from the real pull_request / review payloads.

The reviews, permissions, teams and CODEOWNERS come back through the GitHub layer (PyGithub), so the
rules are checked on what GitHub really answers, not on hand-made values.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from mlops_actions.convention.model import ApprovalRule
from mlops_actions.github.client import ClientConfig
from mlops_actions.github.repo import GitHubRepo
from mlops_actions.registry import people
from mlops_actions.registry.approvals import Decision, ReviewedPull, decide
from mlops_actions.testing.github_emulator import WEBHOOKS, GitHubEmulator

OPENED = json.loads((WEBHOOKS / "pull_request.opened.1.json").read_text())
SUBMITTED = json.loads((WEBHOOKS / "pull_request_review.submitted.1.json").read_text())
REPO = OPENED["repository"]["full_name"]  # Codertocat/Hello-World
NUMBER = OPENED["pull_request"]["number"]
AUTHOR = OPENED["pull_request"]["user"]["login"]  # Codertocat
HEAD = OPENED["pull_request"]["head"]["sha"]
OLDER = "1" * 40


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(users=["bot:bot-token:write"], events=[OPENED, SUBMITTED]) as emulator:
        for login, permission in (("alice", "write"), ("bob", "admin"), ("carol", "maintain"), ("dave", "read"),
                                  (AUTHOR, "admin")):
            emulator.set_permission(REPO, login, permission)
        emulator.add_team_member("acme", "ml-leads", "carol")
        emulator.add_file(REPO, ".github/CODEOWNERS", "/models/  @bob\n/environments/  @acme/ml-leads\n")
        yield emulator


def run(gh: GitHubEmulator, rule: ApprovalRule, paths: tuple[str, ...] = ("models/m/model.yaml",),
        merged_by: str | None = None) -> Decision:
    client = GitHubRepo.open(ClientConfig(api_url=gh.url, token="bot-token", repository=REPO,
                                          seconds_between_writes=0))
    owners = client.codeowners("main")
    lookups = people.Approvals(client).lookups(rule, codeowners_text=owners.text if owners else None, paths=paths)
    pull = ReviewedPull(tuple(people.votes(client.reviews(NUMBER))), AUTHOR, HEAD, merged_by)
    return decide(pull, rule, lookups=lookups)


def test_the_real_payload_review_is_commented_and_does_not_count(gh: GitHubEmulator) -> None:
    assert SUBMITTED["review"]["state"] == "commented"
    decision = run(gh, ApprovalRule(required=1))
    assert not decision.approved and decision.approvers == ()


def test_an_approval_on_the_head_counts(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, "alice", "APPROVED", commit_id=HEAD)
    decision = run(gh, ApprovalRule(required=1))
    assert decision.approved and [a.login for a in decision.approvers] == ["alice"]


def test_the_latest_review_of_each_reviewer_decides(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, "alice", "APPROVED", commit_id=HEAD)
    gh.add_review(REPO, NUMBER, "alice", "CHANGES_REQUESTED", commit_id=HEAD)
    decision = run(gh, ApprovalRule(required=1))
    assert not decision.approved and "rule 'changes requested': @alice" in decision.reasons[0]


def test_dismissed_cancels(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, "alice", "DISMISSED", commit_id=HEAD)
    assert not run(gh, ApprovalRule(required=1)).approved


def test_outstanding_changes_requested_blocks(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, "alice", "APPROVED", commit_id=HEAD)
    gh.add_review(REPO, NUMBER, "carol", "CHANGES_REQUESTED", commit_id=HEAD)
    decision = run(gh, ApprovalRule(required=1))
    assert not decision.approved and "@carol requested changes" in decision.reasons[0]


def test_the_author_never_counts(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, AUTHOR, "APPROVED", commit_id=HEAD)
    decision = run(gh, ApprovalRule(required=1))
    assert not decision.approved and "rule 'no self-approval'" in decision.not_counted[0]


def test_a_stale_approval_counts_only_when_the_policy_says_so(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, "alice", "APPROVED", commit_id=OLDER)
    assert "rule 'stale approval'" in run(gh, ApprovalRule(required=1)).not_counted[0]
    assert run(gh, ApprovalRule(required=1, stale_approvals_count=True)).approved


def test_a_reviewer_without_write_permission_does_not_count(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, "dave", "APPROVED", commit_id=HEAD)
    decision = run(gh, ApprovalRule(required=1))
    assert not decision.approved and "rule 'write access'" in decision.not_counted[0]


def test_only_codeowners_of_the_changed_paths_count(gh: GitHubEmulator) -> None:
    gh.add_review(REPO, NUMBER, "alice", "APPROVED", commit_id=HEAD)
    gh.add_review(REPO, NUMBER, "bob", "APPROVED", commit_id=HEAD)
    rule = ApprovalRule(required=1, codeowners=True)
    assert [a.login for a in run(gh, rule).approvers] == ["bob"]  # /models/ @bob
    decision = run(gh, rule, paths=("environments/production.yaml",))  # @acme/ml-leads: carol only
    assert not decision.approved and any("allowed reviewers" in n for n in decision.not_counted)


def test_only_team_members_count_and_two_are_needed(gh: GitHubEmulator) -> None:
    rule = ApprovalRule(required=2, teams=("acme/ml-leads",))
    gh.add_review(REPO, NUMBER, "carol", "APPROVED", commit_id=HEAD)
    gh.add_review(REPO, NUMBER, "alice", "APPROVED", commit_id=HEAD)
    decision = run(gh, rule)
    assert not decision.approved and "1 of 2" in decision.reasons[-1]
    gh.add_team_member("acme", "ml-leads", "alice")
    assert run(gh, rule).approved


def test_an_admin_merging_without_the_approvals_is_refused(gh: GitHubEmulator) -> None:
    decision = run(gh, ApprovalRule(required=1), merged_by="bob")
    assert not decision.approved and any("rule 'no bypass': @bob" in r for r in decision.reasons)
