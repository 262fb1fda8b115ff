"""register and deploy end to end: a real git repository, the real CLI, PyGithub against the emulator."""

from __future__ import annotations

import os

import pytest

from mlops_actions.cli import main
from mlops_actions.commands.publish import with_evidence
from mlops_actions.github.repo import GitHubRepo
from mlops_actions.registry import evidence as ev
from mlops_actions.registry.records import local_versions
from testkit import git, promokit
from testkit.promokit import REPO, World, _merge_pr, _run, _tags, _train

template, world = promokit.template, promokit.world  # the fixtures, for this module's tests


def test_approved_merge_registers_v1_with_release_and_comment(world: World, monkeypatch, capsys) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    assert _run(world, monkeypatch, "register") == 0
    assert _tags(world) == ["arrests@v1"]
    [version] = local_versions(world.root, "arrests")
    assert version.problem is None and version.record is not None
    record = version.record
    assert record["version"] == "v1" and record["pr"] == world.pr and record["commit"] == world.merge
    assert record["approvers"][0]["login"] == "alice" and record["approvers"][0]["commit"] == world.head
    assert record["merged_by"] == "carol" and record["run_url"].endswith("/acme/arrests/actions/runs/42")
    release = world.bot.get_release("arrests@v1")
    assert release is not None
    assert sorted(a.name for a in release.assets) == ["metrics.json", "model-card.md", "model.skops"]
    assert world.bot.download_asset(next(a for a in release.assets if a.name == "model.skops")) == \
        (world.root / "mlops-out" / "arrests" / "model.skops").read_bytes()
    comment = world.bot.find_comment(world.pr, "mlops-actions:register")
    assert comment is not None and "arrests@v1" in comment.body
    assert "registered arrests@v1" in capsys.readouterr().out


def test_rerun_after_success_changes_nothing(world: World, monkeypatch) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    assert _run(world, monkeypatch, "register") == 0
    writes = sum(1 for r in world.gh.requests if r.method in ("POST", "PATCH", "PUT", "DELETE"))
    assert _run(world, monkeypatch, "register") == 0
    assert _tags(world) == ["arrests@v1"]
    new_writes = [r for r in world.gh.requests if r.method in ("POST", "PUT", "DELETE")][writes:]
    assert [r for r in new_writes if "/git/refs" in r.path or "/releases" in r.path] == []


def test_rerun_after_crash_between_tag_and_release_finishes_the_release(world: World, monkeypatch) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    world.gh.add_fault({"method": "POST", "path": "/repos/*/releases", "status": 403, "count": 0})
    assert _run(world, monkeypatch, "register") == 1  # the tag is made, then the release is refused
    assert _tags(world) == ["arrests@v1"] and world.bot.get_release("arrests@v1") is None
    world.gh.app.plan.faults.clear()  # GitHub recovers
    assert _run(world, monkeypatch, "register") == 0
    assert _tags(world) == ["arrests@v1"]
    release = world.bot.get_release("arrests@v1")
    assert release is not None and len(release.assets) == 3


def test_unapproved_merge_is_refused_and_nothing_is_created(world: World, monkeypatch, capsys) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "COMMENTED", commit_id=world.head)
    world.gh.add_review(REPO, world.pr, "author", "APPROVED", commit_id=world.head)
    assert _run(world, monkeypatch, "register") == 1
    assert _tags(world) == []
    out = capsys.readouterr().out
    assert "rule 'required approvals': 0 of 1" in out and "rule 'no self-approval'" in out
    comment = world.bot.find_comment(world.pr, "mlops-actions:register")
    assert comment is not None and "registration refused" in comment.body


def test_artifact_differing_from_the_reviewed_one_is_refused(world: World, monkeypatch, capsys) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    shown = {"arrests": ev.Shown("0" * 64, "f" * 64)}
    world.bot.upsert_comment(world.pr, with_evidence("### report\n", world.head, shown), "mlops-actions:report")
    assert _run(world, monkeypatch, "register") == 1
    assert _tags(world) == []
    assert "not reproducible" in capsys.readouterr().out


def test_lost_race_takes_the_next_number(world: World, monkeypatch) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    first = git(world.root, "rev-parse", "HEAD~1")
    real = GitHubRepo.tag_messages
    calls = {"n": 0}

    def stale_then_real(self: GitHubRepo, prefix: str):  # another run tags v1 between our read and our write
        calls["n"] += 1
        if calls["n"] == 1:
            git(world.root, "tag", "-a", "arrests@v1", first, "-m", "{}")
            return ()
        return real(self, prefix)

    monkeypatch.setattr(GitHubRepo, "tag_messages", stale_then_real)
    assert _run(world, monkeypatch, "register") == 0
    assert _tags(world) == ["arrests@v1", "arrests@v2"]
    assert git(world.root, "rev-parse", "arrests@v1^{commit}") == first  # never moved


def _promote(world: World, env: str, version: str) -> tuple[str, int]:
    root = world.root
    git(root, "checkout", "-q", "-b", f"promote-{env}-{version}")
    (root / "environments" / f"{env}.yaml").write_text(f"arrests: {version}\n")
    git(root, "commit", "-q", "-am", f"promote arrests {version} to {env}")
    head, _merge, number = _merge_pr(root, world.gh, f"promote-{env}-{version}", [f"environments/{env}.yaml"],
                                    title=f"Promote arrests {version} to {env}")
    return head, number


def _registered(world: World, monkeypatch) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    assert _run(world, monkeypatch, "register") == 0


def test_deploy_with_approvals_creates_one_deployment(world: World, monkeypatch) -> None:
    _registered(world, monkeypatch)
    head, number = _promote(world, "staging", "v1")
    world.gh.add_review(REPO, number, "alice", "APPROVED", commit_id=head)  # CODEOWNERS: @acme/ml-leads
    sha = git(world.root, "rev-parse", "HEAD")
    assert _run(world, monkeypatch, "deploy", sha=sha) == 0
    [deployment] = world.bot.deployments("staging")
    assert deployment.ref == "arrests@v1" and deployment.payload["version"] == "v1"
    assert deployment.latest_status is not None and deployment.latest_status.state == "success"
    assert _run(world, monkeypatch, "deploy", sha=sha) == 0  # nothing new the second time
    assert len(world.bot.deployments("staging")) == 1


def test_production_needs_two_ml_leads_and_staging_first(world: World, monkeypatch, capsys) -> None:
    _registered(world, monkeypatch)
    head, number = _promote(world, "production", "v1")
    world.gh.add_review(REPO, number, "alice", "APPROVED", commit_id=head)
    sha = git(world.root, "rev-parse", "HEAD")
    assert _run(world, monkeypatch, "deploy", sha=sha) == 1
    out = capsys.readouterr().out
    assert "rule 'required approvals': 1 of 2" in out and "rule 'environment order'" in out
    assert world.bot.deployments("production") == ()
    comment = world.bot.find_comment(number, "mlops-actions:deploy")
    assert comment is not None and "deployment refused" in comment.body


def test_unknown_version_is_refused(world: World, monkeypatch, capsys) -> None:
    head, number = _promote(world, "staging", "v7")
    world.gh.add_review(REPO, number, "alice", "APPROVED", commit_id=head)
    assert _run(world, monkeypatch, "deploy", sha=git(world.root, "rev-parse", "HEAD")) == 1
    assert "version arrests@v7 does not exist" in capsys.readouterr().out


def test_hand_edited_version_record_is_not_trusted(world: World, monkeypatch, capsys) -> None:
    git(world.root, "tag", "-a", "arrests@v1", world.merge, "-m", '{"model": "arrests", "hand": "edited"}')
    head, number = _promote(world, "staging", "v1")
    world.gh.add_review(REPO, number, "alice", "APPROVED", commit_id=head)
    assert _run(world, monkeypatch, "deploy", sha=git(world.root, "rev-parse", "HEAD")) == 1
    assert "invalid record and is not trusted" in capsys.readouterr().out


def test_read_only_token_names_the_missing_permission_for_register(world: World, monkeypatch, capsys) -> None:
    world.gh.add_review(REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    world.gh.set_permission(REPO, "mlops-bot", "read")  # a workflow whose permissions: lack contents: write
    code = main(["-C", str(world.root), "register"], env={**os.environ, "GITHUB_API_URL": world.gh.url,
                                                          "GITHUB_REPOSITORY": REPO, "GITHUB_SHA": world.merge,
                                                          "GITHUB_TOKEN": "bot-token"})
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "contents: write" in err
    assert _tags(world) == []


def test_read_only_token_names_the_missing_permission_for_deploy(world: World, monkeypatch, capsys) -> None:
    _registered(world, monkeypatch)
    head, number = _promote(world, "staging", "v1")
    world.gh.add_review(REPO, number, "alice", "APPROVED", commit_id=head)
    world.gh.set_permission(REPO, "mlops-bot", "read")
    env = {**os.environ, "GITHUB_API_URL": world.gh.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "bot-token",
           "GITHUB_SHA": git(world.root, "rev-parse", "HEAD")}
    code = main(["-C", str(world.root), "deploy"], env=env)
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    assert "deployments: write" in err
    assert world.bot.deployments("staging") == ()


def test_report_publish_compares_with_the_version_deployed_to_production(world: World, monkeypatch) -> None:
    _registered(world, monkeypatch)
    for env, reviewers in (("staging", ("alice",)), ("production", ("alice", "carol"))):
        head, number = _promote(world, env, "v1")
        for login in reviewers:
            world.gh.add_review(REPO, number, login, "APPROVED", commit_id=head)
        assert _run(world, monkeypatch, "deploy", sha=git(world.root, "rev-parse", "HEAD")) == 0
    root = world.root
    git(root, "checkout", "-q", "-b", "next")
    spec = root / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("C: 0.5", "C: 2.0"))
    git(root, "commit", "-q", "-am", "arrests: C=2")
    head = git(root, "rev-parse", "HEAD")
    pull = world.gh.add_pull(REPO, head_ref="next", head_sha=head, base_sha=git(root, "rev-parse", "main"),
                             user="author", title="Try C=2")
    _train(root, "next-out")
    code = _run(world, monkeypatch, "report", "--results", "next-out", "--base", "main", "--publish", sha=head)
    assert code in (0, 1)  # the verdict may fail a gate; the comment is published either way
    comment = world.bot.find_comment(pull.number, "mlops-actions:report")
    assert comment is not None
    baseline = next(line for line in comment.body.splitlines() if line.startswith("**Baseline:**"))
    assert "v1" in baseline and "production" in baseline, baseline
    assert ev.parse(comment.body).head_sha == head


def test_a_promotion_pr_cannot_make_its_author_a_codeowner(world: World, monkeypatch, capsys) -> None:
    """deploy reads CODEOWNERS as they were before the merge: the PR's own edit to them does not count."""
    _registered(world, monkeypatch)
    root = world.root
    git(root, "checkout", "-q", "-b", "sneaky")
    (root / "environments" / "staging.yaml").write_text("arrests: v1\n")
    (root / ".github" / "CODEOWNERS").write_text("/environments/  @dave\n")  # dave: read-only reviewer
    git(root, "commit", "-q", "-am", "promote and own")
    head, _, number = _merge_pr(root, world.gh, "sneaky", ["environments/staging.yaml", ".github/CODEOWNERS"],
                                title="Promote (and change owners)")
    world.gh.set_permission(REPO, "dave", "write")
    world.gh.add_review(REPO, number, "dave", "APPROVED", commit_id=head)
    assert _run(world, monkeypatch, "deploy", sha=git(root, "rev-parse", "HEAD")) == 1
    assert "rule 'allowed reviewers'" in capsys.readouterr().out
    assert world.bot.deployments("staging") == ()


@pytest.mark.parametrize("state", ["queued", "in_progress"])
def test_a_deployment_under_way_is_not_made_twice(world: World, monkeypatch, capsys, state: str) -> None:
    _registered(world, monkeypatch)
    head, number = _promote(world, "staging", "v1")
    world.gh.add_review(REPO, number, "alice", "APPROVED", commit_id=head)
    sha = git(world.root, "rev-parse", "HEAD")
    assert _run(world, monkeypatch, "deploy", "--status", "queued", sha=sha) == 0
    [deployment] = world.bot.deployments("staging")
    if state == "in_progress":  # the deploy workflow has picked it up
        world.bot.set_deployment_status(deployment.id, "in_progress")
    capsys.readouterr()
    assert _run(world, monkeypatch, "deploy", "--status", "queued", sha=sha) == 0
    assert [d.id for d in world.bot.deployments("staging")] == [deployment.id]
    assert f"is already under way (deployment {deployment.id} is queued or in progress)" in capsys.readouterr().out
    world.bot.set_deployment_status(deployment.id, "failure")  # it failed: a rerun deploys it again
    assert _run(world, monkeypatch, "deploy", "--status", "queued", sha=sha) == 0
    assert len(world.bot.deployments("staging")) == 2
