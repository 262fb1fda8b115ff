"""Governance values, policy-tag records, the numbers evidence and the last-pusher rule, piece by piece."""

from __future__ import annotations

import copy
import json

import pytest

from mlops_actions.convention.model import GOVERNANCE_DEFAULT, ApprovalRule, Policy
from mlops_actions.convention.schemas import POLICY_RECORD, validator
from mlops_actions.registry import evidence as ev
from mlops_actions.registry import governance as gov
from mlops_actions.registry.approvals import Approver, Lookups, ReviewedPull, ReviewVote, decide
from testkit.github_helpers import REPO, client, emulator, payload

HEAD = "a" * 40


def snapshot(commit: str, policy: str | None = "environments: [{name: prod}]\n",
             owners: str | None = "/mlops.yaml @leads\n", where: str = ".github/CODEOWNERS") -> gov.Governance:
    return gov.Governance(commit, "mlops.yaml", policy, where if owners is not None else None, owners)


def step(commit: str, position: int, status: str = gov.IN_FORCE, pr: int | None = 3, **kw) -> gov.Step:
    return gov.Step(commit, position, status, snapshot(commit, **kw), Policy(), pr=pr,
                    approvers=(Approver("alice", HEAD, "2026-01-01T00:00:00Z"),))


def test_changed_paths_name_each_governance_file_that_differs_and_both_places_of_a_moved_codeowners() -> None:
    base = snapshot("1" * 40)
    assert base.changed_paths(snapshot("2" * 40)) == ()
    assert base.changed_paths(snapshot("2" * 40, policy="x: 1\n")) == ("mlops.yaml",)
    moved = snapshot("2" * 40, where="CODEOWNERS")
    assert base.changed_paths(moved) == (".github/CODEOWNERS", "CODEOWNERS")


def test_the_rules_judging_a_merge_are_those_in_force_before_it() -> None:
    timeline = gov.Timeline((step("0" * 40, 0, gov.BOOTSTRAP, None), step("1" * 40, 3, gov.REFUSED),
                             step("2" * 40, 5)), head_position=6)
    assert timeline.in_force_before(5).commit == "0" * 40  # the merge at 5 never judges itself
    assert timeline.in_force_before(6).commit == "2" * 40
    assert timeline.in_force().commit == "2" * 40
    assert timeline.in_force_before(0).status == gov.BOOTSTRAP
    assert [s.commit[0] for s in timeline.recorded()] == ["0", "2"]


def test_a_policy_record_is_valid_and_tags_are_trusted_only_where_the_replay_reaches() -> None:
    bootstrap, change = step("0" * 40, 0, gov.BOOTSTRAP, None), step("2" * 40, 5)
    timeline = gov.Timeline((bootstrap, change), head_position=5)
    records = [gov.policy_record(s, n, created_at="2026-01-01T00:00:00Z", run_url=None)
               for n, s in ((1, bootstrap), (2, change))]
    assert [e.message for r in records for e in validator(POLICY_RECORD).iter_errors(r)] == []
    forged = dict(records[1], commit="9" * 40)
    edited = dict(records[1], policy={"path": "mlops.yaml", "sha256": "0" * 64})
    check = gov.check_tags(timeline, [("mlops-policy@v1", "0" * 40, records[0], None),
                                      ("mlops-policy@v2", "2" * 40, records[1], None),
                                      ("mlops-policy@v3", "9" * 40, forged, None),
                                      ("mlops-policy@v4", "2" * 40, edited, None),
                                      ("mlops-policy@v5", "2" * 40, None, "a lightweight tag")])
    assert check.trusted == {"0" * 40: "mlops-policy@v1", "2" * 40: "mlops-policy@v2"}
    assert [u.split(":")[0] for u in check.untrusted] == ["mlops-policy@v3", "mlops-policy@v4", "mlops-policy@v5"]
    assert check.next_number == 6


@pytest.mark.parametrize("name, number", [("mlops-policy@v1", 1), ("mlops-policy@v0", None),
                                          ("mlops-policy@v01", None), ("mlops-policy@vx", None),
                                          ("arrests@v1", None)])
def test_policy_tag_grammar(name: str, number: int | None) -> None:
    assert gov.tag_number(name) == number


def test_the_governance_rule_defaults_to_two_codeowners() -> None:
    assert Policy().governance == GOVERNANCE_DEFAULT == ApprovalRule(required=2, codeowners=True)
    rule = Policy.from_dict({"environments": [{"name": "prod"}],
                             "approvals": {"governance": {"users": ["alice"]}}}).governance
    assert (rule.required, rule.users, rule.codeowners) == (2, ("alice",), True)


def test_the_last_pusher_never_counts_and_the_refusal_names_the_rule() -> None:
    lookups = Lookups(permission=lambda login: "write", in_team=lambda team, login: False)
    votes = [ReviewVote("carol", "APPROVED", HEAD, "2026-01-01T00:00:00Z"),
             ReviewVote("alice", "APPROVED", HEAD, "2026-01-01T00:00:00Z")]
    decision = decide(ReviewedPull(tuple(votes), "author", HEAD, pushers=("Carol",)), ApprovalRule(required=1),
                      lookups=lookups)
    assert decision.approved and [a.login for a in decision.approvers] == ["alice"]
    assert decision.not_counted == ("@carol: rule 'last pusher': whoever pushed the PR's last commit never counts "
                                    "(most recent reviewable push)",)


def test_who_pushed_is_read_from_the_real_synchronize_payload_and_force_pushes() -> None:
    pushed = copy.deepcopy(payload("pull_request.synchronize.1.json"))
    pushed["sender"]["login"] = "alice"  # a collaborator pushed to Codertocat's pull request
    with emulator(events=()) as gh:
        gh.add_event(pushed)
        github = client(gh)
        pr = github.pull_request(2)
        assert github.last_pushers(pr) == ("alice",)
        gh.add_issue_event(REPO, 2, "head_ref_force_pushed", "reader", commit_id=pr.head_sha)
        assert github.last_pushers(pr) == ("alice", "reader")


# --- the numbers evidence ---------------------------------------------------------------------------------

def test_evidence_round_trips_with_its_numbers_digest_and_stays_inside_its_html_comment() -> None:
    shown = {"m": ev.Shown("a" * 64, "b" * 64, digest="c" * 64, each={"0123abcd": "89abcdef"})}
    line = ev.render("d" * 40, shown)
    assert line.count("-->") == 1 and "--" not in line[4:-3]
    parsed = ev.parse(f"report\n{line}\n")
    assert parsed is not None and parsed.models == shown and parsed.head_sha == "d" * 40


@pytest.mark.parametrize("digest, each", [("not hex", {}), ("c" * 64, {"x": "y"}), ("c" * 64, ["a"])])
def test_a_malformed_numbers_digest_is_no_evidence(digest: str, each: object) -> None:
    line = ev.render("d" * 40, {"m": ev.Shown("a" * 64, "b" * 64)})
    broken = line.replace('"fingerprint"', f'"digest":"{digest}","each":{json.dumps(each)},"fingerprint"')
    assert ev.parse(broken) is None
