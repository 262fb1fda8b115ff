"""The promotion world: the example repository with a trained, merged and approved pull request against the
GitHub emulator (``template`` trains once per module, ``world`` copies it per test); register and deploy run in
process through ``_run``."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.commands.publish import with_evidence
from mlops_actions.github.client import ClientConfig
from mlops_actions.github.repo import GitHubRepo
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import EXAMPLE, git
from testkit.registrykit import reviewed

REPO = "acme/arrests"
USERS = ["mlops-bot:bot-token:write", "author:author-token:write", "alice:alice-token:write",
         "carol:carol-token:write", "dave:dave-token:read", "root:root-token:admin"]


@dataclass
class World:
    root: Path
    gh: GitHubEmulator
    bot: GitHubRepo
    head: str
    merge: str
    pr: int


def _train(root: Path, out: str) -> None:
    assert main(["-C", str(root), "train", "arrests", "--out", out]) == 0


def _run(world: World, monkeypatch: pytest.MonkeyPatch, *args: str, sha: str | None = None) -> int:
    monkeypatch.setenv("GITHUB_API_URL", world.gh.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", REPO)
    monkeypatch.setenv("GITHUB_TOKEN", "bot-token")
    monkeypatch.setenv("GITHUB_SHA", sha or world.merge)
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.example")
    monkeypatch.setenv("GITHUB_RUN_ID", "42")
    return main(["-C", str(world.root), *args])


def _merge_pr(root: Path, gh: GitHubEmulator, branch: str, files: list[str], *, title: str) -> tuple[str, str, int]:
    """Merge ``branch`` into main with a merge commit; the emulator knows it as a merged PR."""
    head = git(root, "rev-parse", branch)
    base = git(root, "rev-parse", "main")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", branch, "-m", f"Merge {branch}")
    merge = git(root, "rev-parse", "HEAD")
    pull = gh.add_pull(REPO, head_ref=branch, head_sha=head, base_sha=base, user="author", title=title,
                       merged=True, merge_commit_sha=merge, merged_by={"login": "carol"}, state="closed")
    pull.files = [{"filename": f} for f in files]
    return head, merge, pull.number


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repository with a feature branch retraining arrests, trained once for the module."""
    root = tmp_path_factory.mktemp("template") / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / ".gitignore").write_text("mlops-out/\npr-out/\n")
    for args in (("init", "-q", "-b", "main"), ("add", "-A"), ("commit", "-q", "-m", "initial"),
                 ("checkout", "-q", "-b", "feature")):
        _git_env(root, *args)
    spec = root / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("C: 1.0", "C: 0.5"))
    _git_env(root, "commit", "-q", "-am", "arrests: C=0.5")
    _train(root, "pr-out")
    _git_env(root, "checkout", "-q", "main")
    _git_env(root, "merge", "-q", "--no-ff", "feature", "-m", "Merge feature")
    _train(root, "mlops-out")
    _git_env(root, "reset", "-q", "--hard", "HEAD~1")  # each test merges again, as the emulator's PR
    return root


def _git_env(root: Path, *args: str) -> None:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-11-27T10:00:00Z",
           "GIT_COMMITTER_DATE": "2026-11-27T10:00:00Z"}
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, env=env)


@pytest.fixture
def world(template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    root = tmp_path / "repo"
    shutil.copytree(template, root, symlinks=True)
    monkeypatch.setenv("MLOPS_GITHUB_WRITE_PAUSE", "0")
    gh = GitHubEmulator(users=USERS, repo_dir=root, repos=[REPO]).start()
    gh.add_team_member("acme", "ml-team", "alice")
    gh.add_team_member("acme", "ml-leads", "alice")
    gh.add_team_member("acme", "ml-leads", "carol")
    head, merge, number = _merge_pr(root, gh, "feature", ["models/arrests/model.yaml"], title="Retrain arrests")
    assert git(root, "rev-parse", "HEAD^2") == head
    bot = GitHubRepo.open(ClientConfig(api_url=gh.url, token="bot-token", repository=REPO,
                                       seconds_between_writes=0))
    bot.upsert_comment(number, with_evidence("### mlops-actions report\n", head, reviewed(root, "pr-out")),
                       "mlops-actions:report")
    yield World(root, gh, bot, head, merge, number)
    gh.stop()


def _tags(world: World) -> list[str]:
    return sorted(t for t in git(world.root, "tag", "--list").splitlines() if t)
