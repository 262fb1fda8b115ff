"""Many models in one push (issue 15): a repository of ``MLOPS_SCALE_MODELS`` models (default 16) sharing one
tiny data file, trained once per module on the PR's head, merged, and a GitHub emulator that refuses more than
``EMULATOR_LIMIT`` content-creating requests a quarter second (GitHub's secondary limit, shrunk in time); the CLI
paces its writes under it with MLOPS_GITHUB_WRITE_LIMITS."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from mlops_actions.cli import main
from mlops_actions.commands.publish import evidence_comments
from mlops_actions.github.client import ClientConfig
from mlops_actions.github.repo import GitHubRepo
from mlops_actions.registry import evidence as ev
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit.registrykit import reviewed

REPO = "acme/fleet"
USERS = ["mlops-bot:bot-token:write", "author:author-token:write", "alice:alice-token:write"]
# GitHub's secondary limit, shrunk in time: the emulator refuses the 31st write within any quarter second, and
# the client paces to 20 a quarter second, under the limit whatever the request latency (the pacing's code paths
# are those of GitHub's 80 a minute; a quarter second, not a second, keeps the suite's sleeping short)
EMULATOR_LIMIT = (30, 0.25)
CLIENT_WINDOW = (20, 0.25)
CLIENT_LIMITS = f"{CLIENT_WINDOW[0]}/{CLIENT_WINDOW[1]}"
# GitHub's budget of 5,000 requests an hour holds at its real pace: writes paced at 500 an hour spread a
# thousand models' 9,400 requests (6 writes, about 3 reads each) over twelve hours. The test paces writes at
# 20 a second, squeezing those hours into minutes, so it squeezes the budget too: 15 requests per model.
PER_MODEL_BUDGET = 15
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
POLICY = ("approvals:\n  register:\n    required: 1\nenvironments:\n  - name: staging\n"
          "    approvals:\n      required: 1\n")


def scale() -> int:
    """How many models: MLOPS_SCALE_MODELS (1000 is the issue's size), else 16 so that the test stays fast (96
    writes, three times what the emulator allows in one window)."""
    return int(os.environ.get("MLOPS_SCALE_MODELS", "16"))


def names(n: int) -> list[str]:
    return [f"m{i:04d}" for i in range(n)]


def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "T",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_AUTHOR_DATE": "2026-11-27T10:00:00Z",
           "GIT_COMMITTER_DATE": "2026-11-27T10:00:00Z"}
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True,
                          env=env).stdout.strip()


def _spec(name: str, seed: int) -> str:
    return (f"name: {name}\ntask: classification\ndata:\n  path: data/shared.csv\n  format: csv\n  target: y\n"
            "  positive_label: \"yes\"\n  features:\n    a: numeric\n    b: numeric\n"
            f"split:\n  seed: {seed}\n  test_fraction: 0.25\n"
            "estimator:\n  class: sklearn.linear_model.LogisticRegression\n  params:\n    C: 1.0\n"
            "metrics:\n  accuracy: higher\n")


def _data() -> str:
    rng = random.Random(0)
    rows = [(rng.random(), rng.random(), rng.random()) for _ in range(120)]
    return "y,a,b\n" + "".join(f"{'yes' if a + b + r > 1.2 else 'no'},{a:.3f},{b:.3f}\n" for a, b, r in rows)


@dataclass(frozen=True)
class Template:
    """The trained, merged repository (copied per test) and the PR report's comments with their evidence."""

    root: Path
    models: tuple[str, ...]
    head: str
    merge: str
    report: str
    parts: tuple[str, ...]


def build_template(top: Path, n: int) -> Template:
    """main (policy, shared data, staging), a branch adding ``n`` models, trained there into pr-out (what the
    PR's report showed), merged with a merge commit; main's rebuild, mlops-out, is a copy: the merge's tree is
    the head's and training is bit-exact (``reproducibility: exact``, tested on its own elsewhere)."""
    root = top / "repo"
    (root / "data").mkdir(parents=True)
    (root / "data" / "shared.csv").write_text(_data())
    (root / "mlops.yaml").write_text(POLICY)
    (root / "environments").mkdir()
    (root / "environments" / "staging.yaml").write_text("{}\n")
    (root / ".gitignore").write_text("mlops-out/\npr-out/\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    git(root, "checkout", "-q", "-b", "feature")
    models = names(n)
    for seed, name in enumerate(models):
        (root / "models" / name).mkdir(parents=True)
        (root / "models" / name / "model.yaml").write_text(_spec(name, seed))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"{n} models")
    assert main(["-C", str(root), "run", "--base", "main", "--out", "pr-out"], env=_quiet()) == 0
    head = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "feature", "-m", "Merge feature")
    shutil.copytree(root / "pr-out", root / "mlops-out")
    report, parts = evidence_comments("### mlops-actions report\n", head, reviewed(root))
    return Template(root, tuple(models), head, git(root, "rev-parse", "HEAD"), report, tuple(parts))


def _quiet() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "MLOPS_"))}


@dataclass
class Fleet:
    root: Path
    gh: GitHubEmulator
    bot: GitHubRepo
    template: Template
    pr: int

    def env(self, sha: str, **extra: str) -> dict[str, str]:
        return {**_quiet(), "GITHUB_API_URL": self.gh.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "bot-token",
                "GITHUB_SHA": sha, "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "7",
                "MLOPS_GITHUB_WRITE_PAUSE": "0", "MLOPS_GITHUB_WRITE_LIMITS": CLIENT_LIMITS,
                "MLOPS_GITHUB_MAX_WAIT": "30", **extra}

    def run(self, *args: str, sha: str | None = None, **extra: str) -> int:
        return main(["-C", str(self.root), *args], env=self.env(sha or self.template.merge, **extra))

    def tags(self) -> list[str]:
        return sorted(t for t in git(self.root, "tag", "--list").splitlines() if t)

    def writes(self) -> list:
        return [r for r in self.gh.requests if r.method in WRITES]


def open_fleet(template: Template, top: Path) -> Iterator[Fleet]:
    root = top / "repo"
    shutil.copytree(template.root, root, symlinks=True)
    limit, window = EMULATOR_LIMIT
    gh = GitHubEmulator(users=USERS, repo_dir=root, repos=[REPO],
                        faults=[{"path": "*", "kind": "content_rate_limit", "limit": limit, "window": window}],
                        rate_limit=5000 + PER_MODEL_BUDGET * len(template.models)).start()
    try:
        base = git(root, "rev-parse", "main~1")
        pull = gh.add_pull(REPO, head_ref="feature", head_sha=template.head, base_sha=base, user="author",
                           title=f"{len(template.models)} models", merged=True, merge_commit_sha=template.merge,
                           merged_by={"login": "alice"}, state="closed")
        pull.files = [{"filename": f"models/{m}/model.yaml"} for m in template.models]
        gh.add_review(REPO, pull.number, "alice", "APPROVED")
        bot = GitHubRepo.open(ClientConfig(api_url=gh.url, token="bot-token", repository=REPO,
                                           seconds_between_writes=None))
        bot.upsert_comment(pull.number, template.report, "mlops-actions:report")
        from mlops_actions.commands.publish import EVIDENCE_PART_NOTE

        for index, part in enumerate(template.parts, 1):
            bot.upsert_comment(pull.number, EVIDENCE_PART_NOTE + part + "\n", ev.part_marker(index))
        yield Fleet(root, gh, bot, template, pull.number)
    finally:
        gh.stop()


def promote_all(fleet: Fleet) -> str:
    """A second merged, approved PR that puts every model's v1 in staging; its merge commit."""
    root = fleet.root
    git(root, "checkout", "-q", "-b", "promote")
    (root / "environments" / "staging.yaml").write_text("".join(f"{m}: v1\n" for m in fleet.template.models))
    git(root, "commit", "-q", "-am", "promote every model to staging")
    head, base = git(root, "rev-parse", "HEAD"), git(root, "rev-parse", "main")
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", "promote", "-m", "Merge promote")
    merge = git(root, "rev-parse", "HEAD")
    pull = fleet.gh.add_pull(REPO, head_ref="promote", head_sha=head, base_sha=base, user="author",
                             title="promote", merged=True, merge_commit_sha=merge, merged_by={"login": "alice"},
                             state="closed")
    pull.files = [{"filename": "environments/staging.yaml"}]
    fleet.gh.add_review(REPO, pull.number, "alice", "APPROVED")
    return merge
