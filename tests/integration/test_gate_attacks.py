"""The promotion gate against the pull request it gates: every way in found so far, and the defences kept.

Each test is a hostile contributor's pull request (author ``author``, read access, sometimes helped by a
write-access ``mallory``), merged by one of GitHub's three merge methods into a real git repository, with
register / deploy / govern run through the CLI against the OpenAPI-strict emulator.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from mlops_actions.commands.publish import with_evidence
from mlops_actions.registry import evidence as ev
from mlops_actions.registry.approvals import Approver
from mlops_actions.registry.records import local_versions
from mlops_actions.registry.versioning import Provenance, tag_message, version_record
from testkit.govkit import CODEOWNERS, METHODS, MODELS, REBASE, REPO, Kit, build_template, run_git, start

LOWER_REGISTER = ("  register:\n    required: 1\n    codeowners: true\n", "  register:\n    required: 0\n")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("gate") / "repo"
    build_template(root)
    return root


@pytest.fixture
def kit(template: Path, tmp_path: Path):
    made = start(template, tmp_path)
    yield made
    made.gh.stop()


def policy(kit: Kit, old: str, new: str) -> dict[str, str]:
    text = (kit.root / "mlops.yaml").read_text()
    assert old in text
    return {"mlops.yaml": text.replace(old, new)}


def retrain_pr(kit: Kit, name: str, method: str = "merge", *, extra: dict[str, str] | None = None,
               first: dict[str, str] | None = None, reviewers: tuple[str, ...] = ("alice",)):
    """A PR retraining both models (``first``: a commit before, ``extra``: one after), reported and reviewed."""
    kit.branch(name)
    if first:
        kit.commit(first, "first")
    kit.retrain_commit()
    if extra:
        kit.commit(extra, "extra")
    merged = kit.merge(name, method)
    kit.report(merged)
    kit.approve(merged, *reviewers)
    return merged


def registered(kit: Kit) -> list[str]:
    return kit.tags("arrests")


# --- the rules come from the governance in force before the merge --------------------------------------

@pytest.mark.parametrize("method", METHODS)
def test_a_pr_that_drops_the_register_rule_is_judged_by_the_rule_before_it(kit: Kit, method: str, capsys) -> None:
    retrain_pr(kit, "lower", method, first=policy(kit, *LOWER_REGISTER), reviewers=())
    assert kit.run("register") == 1
    assert registered(kit) == []
    assert "rule 'required approvals': 0 of 1" in capsys.readouterr().out


@pytest.mark.parametrize("method", METHODS)
def test_a_pr_cannot_make_its_helper_a_codeowner_in_an_earlier_commit(kit: Kit, method: str, capsys) -> None:
    owners = {".github/CODEOWNERS": CODEOWNERS.replace("/models/        @acme/ml-team", "/models/  @mallory")}
    retrain_pr(kit, "own", method, first=owners, reviewers=("mallory",))
    assert kit.run("register") == 1
    assert registered(kit) == []
    assert "@mallory: rule 'allowed reviewers'" in capsys.readouterr().out


def _register_v1(kit: Kit) -> None:
    retrain_pr(kit, "retrain", reviewers=("alice",))
    assert kit.run("register") == 0


def _promote(kit: Kit, env: str, name: str, method: str, reviewers: tuple[str, ...],
             first: dict[str, str] | None = None) -> str:
    kit.branch(name)
    if first:
        kit.commit(first, "first")
    kit.commit({f"environments/{env}.yaml": "arrests: v1\n"}, f"promote to {env}")
    merged = kit.merge(name, method)
    kit.approve(merged, *reviewers)
    return merged.merge


@pytest.mark.parametrize("method", METHODS)
def test_a_promotion_pr_cannot_drop_requires_staging(kit: Kit, method: str, capsys) -> None:
    _register_v1(kit)
    drop = policy(kit, "    requires: [staging]\n", "")
    sha = _promote(kit, "production", "skip-staging", method, ("alice", "carol"), first=drop)
    assert kit.run("deploy", sha=sha) == 1
    assert "rule 'environment order'" in capsys.readouterr().out
    assert kit.bot.deployments("production") == ()


def test_a_promotion_pr_cannot_lower_its_environment_approvals(kit: Kit, capsys) -> None:
    _register_v1(kit)
    lower = policy(kit, "      required: 2\n      teams: [\"acme/ml-leads\"]\n", "      required: 0\n")
    lower |= {"environments/staging.yaml": "arrests: v1\n"}
    kit.branch("first-staging")
    kit.commit({"environments/staging.yaml": "arrests: v1\n"}, "staging")
    staged = kit.merge("first-staging")
    kit.approve(staged, "alice")
    assert kit.run("deploy", sha=staged.merge) == 0
    sha = _promote(kit, "production", "lower-prod", REBASE, (), first=lower)
    assert kit.run("deploy", sha=sha) == 1
    assert "rule 'required approvals': 0 of 2" in capsys.readouterr().out


# --- governance is promoted like a model -----------------------------------------------------------------

def _governance_pr(kit: Kit, files: dict[str, str], method: str, reviewers: tuple[str, ...], name: str = "gov"):
    kit.branch(name)
    kit.commit(files, "change the rules")
    merged = kit.merge(name, method)
    kit.approve(merged, *reviewers)
    return merged


def test_a_governance_change_without_two_owner_approvals_is_not_in_force(kit: Kit, capsys) -> None:
    gov = _governance_pr(kit, policy(kit, *LOWER_REGISTER), "merge", ("alice",))
    assert kit.run("govern") == 1
    out = capsys.readouterr().out
    assert "NOT in force" in out and "rule 'required approvals': 1 of 2" in out
    assert kit.tags("mlops-policy") == ["mlops-policy@v1"]  # the bootstrap only
    [check] = [c for c in kit.gh.state.check_runs.values() if c.name == "mlops-actions governance"]
    assert check.conclusion == "failure" and check.head_sha == gov.merge
    assert "not in force" in kit.bot.find_comment(gov.number, "mlops-actions:governance").body
    retrain_pr(kit, "next", reviewers=())
    assert kit.run("register") == 1  # the next PR is still judged by the rule in force: 1 approval
    assert registered(kit) == []


@pytest.mark.parametrize("method", METHODS)
def test_an_approved_governance_change_comes_into_force_and_is_tagged(kit: Kit, method: str) -> None:
    kit.branch("gov")
    kit.commit(policy(kit, *LOWER_REGISTER), "no approvals for registration")
    kit.commit({".github/CODEOWNERS": CODEOWNERS + "/data/  @acme/ml-team\n"}, "own data")
    gov = kit.merge("gov", method)
    kit.approve(gov, "alice", "carol")
    assert kit.run("govern") == 0
    assert kit.tags("mlops-policy") == ["mlops-policy@v1", "mlops-policy@v2"]
    record = json.loads(run_git(kit.root, "tag", "-l", "--format=%(contents)", "mlops-policy@v2"))
    assert record["commit"] == gov.merge and record["pr"] == gov.number
    assert [a["login"] for a in record["approvers"]] == ["alice", "carol"]
    assert kit.run("govern") == 0 and len(kit.tags("mlops-policy")) == 2  # idempotent
    retrain_pr(kit, "next", reviewers=())
    assert kit.run("register") == 0  # the new rule (no approval needed) is in force for the next PR
    assert registered(kit) == ["arrests-b@v1", "arrests@v1"]


def test_the_author_and_the_last_pusher_never_approve_a_governance_change(kit: Kit, capsys) -> None:
    kit.branch("gov")
    kit.commit(policy(kit, *LOWER_REGISTER), "lower", who="alice")
    gov = kit.merge("gov", author="alice")
    kit.approve(gov, "alice", "carol")
    assert kit.run("govern") == 1
    assert "rule 'no self-approval'" in capsys.readouterr().out


def test_a_hand_pushed_policy_tag_is_not_trusted(kit: Kit, capsys) -> None:
    gov = _governance_pr(kit, policy(kit, *LOWER_REGISTER), "merge", ())
    assert kit.run("govern") == 1
    text = (kit.root / "mlops.yaml").read_text()
    import hashlib

    fake = {"record_version": 1, "kind": "mlops-policy", "version": "v2", "commit": gov.merge, "pr": gov.number,
            "approvers": [{"login": "carol", "commit": gov.head, "submitted_at": "2026-01-01T00:00:00Z"}],
            "merged_by": "carol", "policy": {"path": "mlops.yaml", "sha256": hashlib.sha256(text.encode()).hexdigest()},
            "codeowners": None, "bootstrap": False, "created_at": "2026-01-01T00:00:00Z"}
    run_git(kit.root, "tag", "-a", "mlops-policy@v2", gov.merge, "-m", json.dumps(fake), who="mallory")
    retrain_pr(kit, "next", reviewers=())
    assert kit.run("register") == 1
    assert registered(kit) == []
    assert kit.run("govern") == 0
    assert "untrusted tag mlops-policy@v2" in capsys.readouterr().out


def test_a_change_building_on_a_refused_one_is_not_in_force(kit: Kit, capsys) -> None:
    _governance_pr(kit, policy(kit, *LOWER_REGISTER), "merge", ())
    _governance_pr(kit, {"docs/gov.md": "x\n", **policy(kit, "gates:\n", "gates:\n  - metric: recall\n    min: 0.1\n")},
                   "merge", ("alice", "carol"), name="gov2")
    assert kit.run("govern") == 1
    assert "builds on governance files an earlier change left behind" in capsys.readouterr().out


def test_a_direct_push_to_main_changing_the_policy_is_not_in_force(kit: Kit, capsys) -> None:
    kit.commit(policy(kit, *LOWER_REGISTER), "pushed straight to main", who="root")
    assert kit.run("govern") == 1
    assert "without a merged pull request" in capsys.readouterr().out


# --- CODEOWNERS count for what is promoted, and the last pusher never counts ------------------------------

def test_an_owner_of_docs_cannot_approve_a_model_by_touching_docs(kit: Kit, capsys) -> None:
    retrain_pr(kit, "docs", extra={"docs/notes.md": "edited\n"}, reviewers=("docs",))
    assert kit.run("register") == 1
    assert registered(kit) == []
    assert "@docs: rule 'allowed reviewers'" in capsys.readouterr().out


def test_an_owner_of_the_models_data_file_counts(kit: Kit) -> None:
    gov = _governance_pr(kit, {".github/CODEOWNERS": CODEOWNERS + "/data/arrests.csv  @docs\n"}, "merge",
                         ("alice", "carol"))
    assert kit.run("govern", sha=gov.merge) == 0
    retrain_pr(kit, "data-owner", reviewers=("docs",))
    assert kit.run("register") == 0
    assert registered(kit) == ["arrests-b@v1", "arrests@v1"]
    sha = _promote(kit, "staging", "promote", "merge", ("alice",))  # deploy re-checks the same owners
    assert kit.run("deploy", sha=sha) == 0
    assert [d.ref for d in kit.bot.deployments("staging")] == ["arrests@v1"]


def test_each_model_is_judged_by_its_own_owners_and_the_passing_one_registers(kit: Kit, capsys) -> None:
    owners = CODEOWNERS + "/models/arrests-b/  @lead2\n"
    gov = _governance_pr(kit, {".github/CODEOWNERS": owners}, "merge", ("alice", "carol"))
    assert kit.run("govern", sha=gov.merge) == 0
    retrain_pr(kit, "both", reviewers=("alice",))
    assert kit.run("register") == 1  # arrests-b is refused ...
    assert registered(kit) == ["arrests@v1"]  # ... and does not block arrests
    out = capsys.readouterr().out
    assert "arrests-b: approvals: rule 'required approvals': 0 of 1" in out
    comment = kit.bot.find_comment(kit.prs[-1].number, "mlops-actions:register").body
    assert "arrests@v1" in comment and "Refused" in comment


def test_a_model_whose_rebuild_differs_does_not_block_the_reproducible_one(kit: Kit, capsys) -> None:
    """The issue's case: one model that cannot register (its artifact rebuilt on main is not what was reviewed,
    as a TF-IDF model's once was) used to make register create nothing for anyone; each model has its verdict."""
    kit.branch("both")
    kit.retrain_commit()
    merged = kit.merge("both")
    kit.report(merged)
    comment = kit.bot.find_comment(merged.number, "mlops-actions:report")
    found = ev.parse(comment.body)
    assert found is not None and set(found.models) == set(MODELS)
    shown = {**found.models, "arrests-b": replace(found.models["arrests-b"], artifact_sha256="e" * 64)}
    kit.bot.upsert_comment(merged.number, with_evidence("### mlops-actions report\n", merged.head, shown),
                           "mlops-actions:report")
    kit.approve(merged, "alice")
    assert kit.run("register") == 1  # arrests-b is refused ...
    assert registered(kit) == ["arrests@v1"]  # ... and arrests registers
    out = capsys.readouterr().out
    assert "arrests-b: not reproducible: the artifact built on main has sha256" in out
    assert "what differs: no step: each has its reviewed hash and only the whole artifact's differs" in out
    body = kit.bot.find_comment(merged.number, "mlops-actions:register").body
    assert "registered, some models refused" in body and "arrests@v1" in body and "`arrests-b`" in body


def test_whoever_pushed_the_last_commit_does_not_count(kit: Kit, capsys) -> None:
    kit.branch("pushed")
    kit.retrain_commit()
    kit.commit({"docs/notes.md": "carol's touch\n"}, "a last commit by carol", who="carol")
    merged = kit.merge("pushed")
    kit.report(merged)
    kit.approve(merged, "carol")  # carol owns /models/ through ml-leads? no: give her ml-team
    kit.gh.add_team_member("acme", "ml-team", "carol")
    assert kit.run("register") == 1
    assert "@carol: rule 'last pusher'" in capsys.readouterr().out


def test_whoever_force_pushed_the_head_does_not_count(kit: Kit, capsys) -> None:
    merged = retrain_pr(kit, "forced", reviewers=("alice",))
    kit.gh.add_issue_event(REPO, merged.number, "head_ref_force_pushed", "alice", commit_id=merged.head)
    assert kit.run("register") == 1
    assert "@alice: rule 'last pusher'" in capsys.readouterr().out


# --- deploy does not take a version tag on its own word ---------------------------------------------------

def _hand_made_tag(kit: Kit, model: str, commit: str, pr: int, head: str) -> None:
    trained = json.loads((kit.root / "mlops-out" / model / "record.json").read_text())
    record = version_record(trained, 1, Provenance(commit, pr, (Approver("alice", head, "2026-01-01T00:00:00Z"),),
                                                   "carol", None, "2026-01-01T00:00:00Z"),
                            {"verdict": "pass", "results": []})
    run_git(kit.root, "tag", "-a", f"{model}@v1", commit, "-m", tag_message(record), who="mallory")


@pytest.mark.parametrize("where", ["merge", "branch"])
def test_a_hand_written_version_tag_with_a_valid_record_is_refused(kit: Kit, where: str, capsys) -> None:
    merged = retrain_pr(kit, "unapproved", reviewers=())
    assert kit.run("register") == 1
    _hand_made_tag(kit, "arrests", merged.merge if where == "merge" else merged.head, merged.number, merged.head)
    assert [v.problem for v in local_versions(kit.root, "arrests")] == [None]  # schema-valid
    sha = _promote(kit, "staging", "promote", "merge", ("alice",))
    assert kit.run("deploy", sha=sha) == 1
    out = capsys.readouterr().out
    assert "version arrests@v1 is not trusted" in out
    assert kit.bot.deployments("staging") == ()


def test_a_hand_pushed_tag_posing_as_an_earlier_run_of_this_merge_gets_no_release(kit: Kit, capsys) -> None:
    merged = retrain_pr(kit, "unapproved", reviewers=())
    _hand_made_tag(kit, "arrests", merged.merge, merged.number, merged.head)  # fingerprint and commit match
    assert kit.run("register") == 1
    assert kit.bot.get_release("arrests@v1") is None
    assert "arrests: approvals: rule 'required approvals': 0 of 1" in capsys.readouterr().out


# --- what was reviewed is what ships, numbers included ---------------------------------------------------

def test_forged_numbers_next_to_the_true_artifact_are_refused(kit: Kit, capsys) -> None:
    forged = kit.root / "forged-out"
    shutil.copytree(kit.root / "pr-out", forged)
    for name in MODELS:
        for file in ("metrics.json", "record.json"):
            data = json.loads((forged / name / file).read_text())
            data["metrics"]["balanced_accuracy"] = 0.988
            (forged / name / file).write_text(json.dumps(data))
    kit.branch("fork")
    kit.retrain_commit()
    merged = kit.merge("fork")
    kit.approve(merged, "alice")
    kit.report(merged, "forged-out")  # the privileged commenter posts what the fork's run computed
    shown = ev.parse(kit.bot.find_comment(merged.number, "mlops-actions:report").body)
    assert shown is not None and shown.models["arrests"].artifact_sha256 == json.loads(
        (kit.root / "mlops-out" / "arrests" / "record.json").read_text())["artifact"]["sha256"]
    assert kit.run("register") == 1
    out = capsys.readouterr().out
    assert "metric balanced_accuracy (rebuilt on main:" in out
    assert registered(kit) == []


def test_a_second_register_run_of_the_same_merge_finds_its_work_done(kit: Kit, monkeypatch, tmp_path) -> None:
    """Two runs of one merge at once: the second checked out before the first tagged, and read the release (with
    its assets, which uploads go by) just before the first uploaded them (GitHub then answers 422
    already_exists, and the listing after it finds the same bytes)."""
    merged = retrain_pr(kit, "twice", reviewers=("alice",))
    second = tmp_path / "second"
    run_git(tmp_path, "clone", "-q", "--no-tags", str(kit.root), str(second))
    run_git(second, "checkout", "-q", merged.merge)
    shutil.copytree(kit.root / "mlops-out", second / "mlops-out")
    assert kit.run("register") == 0
    from mlops_actions.github import releases
    from mlops_actions.github.repo import GitHubRepo

    real, real_release, calls = releases.list_assets, GitHubRepo.release, {"n": 0}

    def counted(session, release_id):  # the look after 422 (the release's own assets were the stale look)
        calls["n"] += 1
        return real(session, release_id)

    monkeypatch.setattr(releases, "list_assets", counted)
    monkeypatch.setattr(GitHubRepo, "release",
                        lambda self, tag, **kw: replace(real_release(self, tag, **kw), assets=()))
    from mlops_actions.cli import main

    assert main(["-C", str(second), "register"], env=kit.env(merged.merge)) == 0
    assert registered(kit) == ["arrests-b@v1", "arrests@v1"]
    assert calls["n"] == 6  # 3 assets x 2 releases, each uploaded again and found done


# --- the defences that hold today, end to end ------------------------------------------------------------

DEFENCES = {
    "self-approval": [("author", "APPROVED", None)],
    "read-only approver": [("dave", "APPROVED", None)],
    "stale approval": [("alice", "APPROVED", "0" * 40)],
    "dismissed": [("alice", "DISMISSED", None)],
    "changes requested after approval": [("alice", "APPROVED", None), ("alice", "CHANGES_REQUESTED", None)],
    "a comment saying approved": [("alice", "COMMENTED", None)],
}


@pytest.mark.parametrize("case", sorted(DEFENCES))
def test_reviews_that_are_not_approvals_register_nothing(kit: Kit, case: str) -> None:
    merged = retrain_pr(kit, "defence", reviewers=())
    for login, state, commit in DEFENCES[case]:
        kit.gh.add_review(REPO, merged.number, login, state, commit_id=commit or merged.head, body="approved")
    kit.bot.upsert_comment(merged.number, "approved", "some-other-marker")
    assert kit.run("register") == 1
    assert registered(kit) == []


def test_an_admin_merge_without_approvals_registers_nothing(kit: Kit, capsys) -> None:
    kit.branch("admin")
    kit.retrain_commit()
    merged = kit.merge("admin", merged_by="root")
    kit.report(merged)
    assert kit.run("register") == 1
    assert "rule 'no bypass'" in capsys.readouterr().out


def test_an_evidence_comment_forged_by_the_author_is_ignored(kit: Kit, capsys) -> None:
    kit.branch("forged")
    kit.retrain_commit()
    merged = kit.merge("forged")
    kit.approve(merged, "alice")
    shown = {m: ev.Shown("0" * 64, "0" * 64, digest="0" * 64) for m in MODELS}
    kit.gh.set_permission(REPO, "author", "write")  # may comment (on github.com anyone may)
    kit.forged_report(merged, shown, as_user="author")
    assert kit.run("register") == 1
    assert "has no mlops-actions report" in capsys.readouterr().out


def test_a_pre_existing_lightweight_tag_is_neither_reused_nor_deployed(kit: Kit, capsys) -> None:
    run_git(kit.root, "tag", "arrests@v1", "main", who="mallory")
    sha = _promote(kit, "staging", "light", "merge", ("alice",))
    assert kit.run("deploy", sha=sha) == 1
    assert "lightweight tag" in capsys.readouterr().out
    retrain_pr(kit, "retrain", reviewers=("alice",))
    assert kit.run("register") == 0
    assert "arrests@v2" in registered(kit)


def test_governance_of_a_convention_kept_in_a_subfolder(tmp_path: Path, capsys) -> None:
    """working-directory: ml/ holds mlops.yaml; CODEOWNERS (at the top) name its path from the top."""
    from mlops_actions.cli import main
    from mlops_actions.testing.github_emulator import GitHubEmulator
    from testkit.govkit import USERS

    top = tmp_path / "mono"
    (top / "ml").mkdir(parents=True)
    (top / ".github").mkdir()
    (top / "ml" / "mlops.yaml").write_text("environments:\n  - name: staging\n")
    (top / ".github" / "CODEOWNERS").write_text("/ml/mlops.yaml  @carol @lead2\n")
    run_git(top, "init", "-q", "-b", "main")
    run_git(top, "add", "-A")
    run_git(top, "commit", "-q", "-m", "initial", who="root")
    with GitHubEmulator(users=USERS, repo_dir=top, repos=[REPO]) as gh:
        kit = Kit(top, gh, None)  # type: ignore[arg-type]
        kit.branch("gov")
        kit.commit({"ml/mlops.yaml": "environments:\n  - name: staging\n  - name: production\n"}, "add production")
        merged = kit.merge("gov")
        env = {**kit.env(merged.merge)}
        kit.approve(merged, "carol")
        assert main(["-C", str(top / "ml"), "govern"], env=env) == 1
        assert "1 of 2" in capsys.readouterr().out
        kit.approve(merged, "lead2")
        assert main(["-C", str(top / "ml"), "govern"], env=env) == 0
        assert kit.tags("mlops-policy") == ["mlops-policy@v1", "mlops-policy@v2"]


def test_register_paces_its_writes_and_waits_out_a_secondary_rate_limit(kit: Kit) -> None:
    """Writes keep GitHub's content-creation windows (here 4 a minute), and a secondary rate limit GitHub
    answers anyway is waited out instead of failing the run."""
    from mlops_actions.actions_runtime import ActionsRuntime
    from mlops_actions.commands.register import RegisterOptions, register
    from mlops_actions.github.client import ClientConfig
    from mlops_actions.github.pacing import Window
    from mlops_actions.github.repo import GitHubRepo
    from testkit.github_helpers import FakeTime

    merged = retrain_pr(kit, "paced", reviewers=("alice",))
    kit.gh.add_fault({"method": "POST", "path": "/repos/*/releases", "status": 403, "kind": "secondary_rate_limit",
                      "retry_after": 1})
    time = FakeTime()
    config = ClientConfig(api_url=kit.gh.url, token="bot-token", repository=REPO, seconds_between_writes=None,
                          write_limits=(Window(4, 60.0),))
    gh = GitHubRepo.open(config, sleep=time.sleep, clock=time.clock)
    options = RegisterOptions(results=kit.root / "mlops-out", sha=merged.merge, run_url=None,
                              now="2026-01-01T00:00:00Z")
    assert register(kit.root, gh, options, runtime=ActionsRuntime.from_env({})) == 0
    assert registered(kit) == ["arrests-b@v1", "arrests@v1"]
    writes = [r for r in kit.gh.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")]
    assert any(r.status == 403 for r in writes)
    assert sum(time.sleeps) >= 60 * (len(writes) // 4 - 1)
