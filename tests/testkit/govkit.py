"""A hostile pull request against the promotion gate: a real git repository, the real CLI, PyGithub against
the emulator (OpenAPI-strict), and the three GitHub merge methods done with git as GitHub does them.

The template repository holds two models (``arrests`` and ``arrests-b``) and a CODEOWNERS where ml-leads own
the governance files. Training is done once per module: the feature branch retrains both models (C: 0.5)
into ``pr-out`` (what the PR's report showed) and the merged tree into ``mlops-out`` (main's trusted rebuild);
each test then builds its own pull request on top, merges it one way, and runs register / deploy / govern.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.cli import main
from mlops_actions.commands.publish import with_evidence
from mlops_actions.github.client import ClientConfig
from mlops_actions.github.repo import GitHubRepo
from mlops_actions.registry import evidence as ev
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import EXAMPLE
from testkit.registrykit import reviewed

REPO = "acme/arrests"
MODELS = ("arrests", "arrests-b")
USERS = ["mlops-bot:bot-token:write", "author:author-token:read", "alice:alice-token:write",
         "carol:carol-token:write", "lead2:lead2-token:write", "mallory:mallory-token:write",
         "dave:dave-token:read", "docs:docs-token:write", "root:root-token:admin"]
CODEOWNERS = ("/models/        @acme/ml-team\n/environments/  @acme/ml-leads\n/mlops.yaml     @acme/ml-leads\n"
              "/.github/       @acme/ml-leads\n/docs/          @docs\n")
MERGE, SQUASH, REBASE = "merge", "squash", "rebase"
METHODS = (MERGE, SQUASH, REBASE)


def run_git(root: Path, *args: str, who: str = "author") -> str:
    """git as ``who`` (author and committer email: GitHub's no-reply address, which links the account)."""
    email = f"{who}@users.noreply.github.com"
    env = {**os.environ, "GIT_AUTHOR_NAME": who, "GIT_AUTHOR_EMAIL": email, "GIT_COMMITTER_NAME": who,
           "GIT_COMMITTER_EMAIL": email}
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout.strip()


def build_template(root: Path) -> None:
    shutil.copytree(EXAMPLE, root)
    (root / ".gitignore").write_text("mlops-out/\npr-out/\n*-out/\n")
    spec = (root / "models" / "arrests" / "model.yaml").read_text()
    (root / "models" / "arrests-b").mkdir()
    (root / "models" / "arrests-b" / "model.yaml").write_text(spec.replace("name: arrests", "name: arrests-b"))
    (root / ".github").mkdir(exist_ok=True)
    (root / ".github" / "CODEOWNERS").write_text(CODEOWNERS)
    (root / "docs").mkdir()
    (root / "docs" / "notes.md").write_text("notes\n")
    run_git(root, "init", "-q", "-b", "main")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "initial", who="root")
    run_git(root, "checkout", "-q", "-b", "retrain")
    for name in MODELS:
        path = root / "models" / name / "model.yaml"
        path.write_text(path.read_text().replace("C: 1.0", "C: 0.5"))
    run_git(root, "commit", "-q", "-am", "retrain both models: C=0.5")
    for name in MODELS:
        assert main(["-C", str(root), "train", "--out", "pr-out", name]) == 0
    run_git(root, "checkout", "-q", "main")
    run_git(root, "merge", "-q", "--no-ff", "retrain", "-m", "merge retrain", who="carol")
    for name in MODELS:
        assert main(["-C", str(root), "train", "--out", "mlops-out", name]) == 0
    run_git(root, "reset", "-q", "--hard", "HEAD~1")  # each test merges its own PR
    run_git(root, "branch", "-q", "-D", "retrain")


@dataclass
class Merged:
    number: int
    head: str
    merge: str
    pull: Any


@dataclass
class Kit:
    root: Path
    gh: GitHubEmulator
    bot: GitHubRepo
    prs: list[Merged] = field(default_factory=list)

    def branch(self, name: str) -> None:
        run_git(self.root, "checkout", "-q", "-b", name, "main")

    def commit(self, files: dict[str, str], message: str, who: str = "author") -> str:
        for path, text in files.items():
            (self.root / path).parent.mkdir(parents=True, exist_ok=True)
            (self.root / path).write_text(text)
        run_git(self.root, "add", "-A", *files)
        run_git(self.root, "commit", "-q", "-m", message, who=who)
        return run_git(self.root, "rev-parse", "HEAD")

    def retrain_commit(self, who: str = "author") -> str:
        """The commit that retrains both models exactly as the template trained them."""
        files = {}
        for name in MODELS:
            path = f"models/{name}/model.yaml"
            files[path] = (self.root / path).read_text().replace("C: 1.0", "C: 0.5")
        return self.commit(files, "retrain both models: C=0.5", who=who)

    def merge(self, branch: str, method: str = MERGE, *, title: str = "A change", author: str = "author",
              merged_by: str = "carol") -> Merged:
        """Merge ``branch`` into main the way GitHub's button ``method`` does; the emulator learns the PR."""
        root = self.root
        head = run_git(root, "rev-parse", branch)
        base = run_git(root, "rev-parse", "main")
        commits = run_git(root, "rev-list", "--reverse", f"main..{branch}").split()
        run_git(root, "checkout", "-q", "main")
        rebased: list[str] = []
        if method == MERGE:
            run_git(root, "merge", "-q", "--no-ff", branch, "-m", f"Merge {branch}", who=merged_by)
        elif method == SQUASH:
            run_git(root, "merge", "-q", "--squash", branch)
            run_git(root, "commit", "-q", "-m", f"{title} (squashed)", who=merged_by)
        else:
            for sha in commits:
                run_git(root, "cherry-pick", "--allow-empty", sha, who=merged_by)
                rebased.append(run_git(root, "rev-parse", "HEAD"))
        merge = run_git(root, "rev-parse", "HEAD")
        pull = self.gh.add_pull(REPO, head_ref=branch, head_sha=head, base_sha=base, user=author, title=title,
                                merged=True, merge_commit_sha=merge, merged_by={"login": merged_by},
                                state="closed")
        pull.commits = commits
        pull.merged_commits = rebased
        merged = Merged(pull.number, head, merge, pull)
        self.prs.append(merged)
        return merged

    def approve(self, merged: Merged, *logins: str, state: str = "APPROVED", commit: str | None = None) -> None:
        for login in logins:
            self.gh.add_review(REPO, merged.number, login, state, commit_id=commit or merged.head)

    def report(self, merged: Merged, results: str = "pr-out", *, head: str | None = None) -> None:
        """The PR's report comment with its evidence, as ``report --publish`` makes it (by the bot)."""
        body = with_evidence("### mlops-actions report\n", head or merged.head, reviewed(self.root, results))
        self.bot.upsert_comment(merged.number, body, "mlops-actions:report")

    def forged_report(self, merged: Merged, shown: dict[str, ev.Shown], *, as_user: str = "mlops-bot") -> None:
        body = with_evidence("### mlops-actions report\n", merged.head, shown)
        token = f"{as_user}-token" if as_user != "mlops-bot" else "bot-token"
        client = GitHubRepo.open(ClientConfig(api_url=self.gh.url, token=token, repository=REPO,
                                              seconds_between_writes=0))
        client.upsert_comment(merged.number, body, "mlops-actions:report")

    def env(self, sha: str | None = None) -> dict[str, str]:
        return {**os.environ, "GITHUB_API_URL": self.gh.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "bot-token",
                "GITHUB_SHA": sha or run_git(self.root, "rev-parse", "HEAD"), "MLOPS_GITHUB_WRITE_PAUSE": "0",
                "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "7"}

    def run(self, *args: str, sha: str | None = None) -> int:
        return main(["-C", str(self.root), *args], env=self.env(sha))

    def tags(self, prefix: str = "") -> list[str]:
        return sorted(t for t in run_git(self.root, "tag", "--list").splitlines() if t.startswith(prefix))


def start(template: Path, tmp: Path) -> Kit:
    root = tmp / "repo"
    shutil.copytree(template, root, symlinks=True)
    gh = GitHubEmulator(users=USERS, repo_dir=root, repos=[REPO], strict=_openapi()).start()
    gh.add_team_member("acme", "ml-team", "alice")
    for login in ("alice", "carol", "lead2"):
        gh.add_team_member("acme", "ml-leads", login)
    bot = GitHubRepo.open(ClientConfig(api_url=gh.url, token="bot-token", repository=REPO, seconds_between_writes=0))
    return Kit(root, gh, bot)


def _openapi() -> Any:
    from testkit.github_helpers import openapi

    return openapi()
