"""``mlops-actions demo``: the whole story, offline, in under a minute.

A temporary repository from ``init --example arrests`` (three models, one per way of building: ``arrests``
declarative, ``arrests-gbm`` a pipeline factory with LightGBM, ``arrests-np`` a numpy trainer run as a
command), the GitHub emulator started in-process, then: a PR retrains the models (validate, plan, train,
report → the sticky comment), a second push updates the same comment, the required reviewer approves, the
merge registers ``<model>@v1`` for each, a promotion to staging deploys, a promotion to production with one
approval is refused with the reason, and with the second approval it deploys. Every step runs the real CLI
against the emulator through PyGithub.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.convention.discovery import RESULTS_DIR
from mlops_actions.errors import EXIT_OK, InputError

if TYPE_CHECKING:
    from mlops_actions.testing.github_emulator import GitHubEmulator

REPO = "your-org/arrests"
BOT, AUTHOR, LEAD_A, LEAD_B = "mlops-bot", "ada", "alice", "carol"
USERS = (f"{BOT}:demo-bot-token:write", f"{AUTHOR}:demo-ada-token:write", f"{LEAD_A}:demo-alice-token:write",
         f"{LEAD_B}:demo-carol-token:write")
Main = Callable[..., int]
# model -> (an edit of its spec for the PR, the commit message): one model per way of building
MODELS = {
    "arrests": (("    citizen: boolean\n", "    citizen: boolean\n    colour: categorical\n"),
                "arrests: use colour as a feature"),
    "arrests-gbm": (("n_estimators: 80", "n_estimators: 100"), "arrests-gbm: 100 trees"),
    "arrests-np": (("steps: 400", "steps: 500"), "arrests-np: 500 gradient steps"),
}


@dataclass
class Story:
    """The demo's state: the repository, the emulator (its public API only), and how to run our CLI against them."""

    root: Path
    gh: GitHubEmulator
    main: Main
    pulls: dict[str, int] = field(default_factory=dict)
    step: int = 0
    models: tuple[str, ...] = tuple(MODELS)

    def env(self, sha: str) -> dict[str, str]:
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))}
        return {**clean, "GITHUB_API_URL": self.gh.url, "GITHUB_REPOSITORY": REPO,
                "GITHUB_TOKEN": "demo-bot-token", "GITHUB_SHA": sha, "MLOPS_GITHUB_WRITE_PAUSE": "0",
                "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": str(1000 + self.step)}

    def run(self, *argv: str, sha: str | None = None, expect: int = EXIT_OK) -> int:
        sha = sha or self.git("rev-parse", "HEAD")
        print(f"$ mlops-actions {' '.join(argv)}", flush=True)
        code = self.main(["-C", str(self.root), *argv], env=self.env(sha))
        if code != expect:
            raise InputError(f"demo: `mlops-actions {' '.join(argv)}` exited {code}, expected {expect}")
        return code

    def git(self, *args: str) -> str:
        return _git(self.root, *args)

    def say(self, title: str, why: str) -> None:
        self.step += 1
        print(f"\n=== step {self.step}: {title}\n    {why}\n", flush=True)


def _git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com",
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com"}
    done = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True, env=env)
    return done.stdout.strip()


def demo(main: Main, *, keep: Path | None = None) -> int:
    """Run the story; ``main`` is the CLI entry point (``mlops_actions.cli.main``)."""
    started = time.perf_counter()
    with ExitStack() as stack:
        root = _workspace(stack, keep)
        story = _setup(root, main, stack)
        _pull_request(story)
        _second_push(story)
        _approve_and_merge(story)
        _promote(story)
    print(f"\ndemo finished in {time.perf_counter() - started:.1f} s; repository: "
          f"{root if keep else '(temporary, removed)'}")
    return EXIT_OK


def _workspace(stack: ExitStack, keep: Path | None) -> Path:
    if keep is not None:
        blocker = next(p for p in (keep, *keep.parents) if p.exists() or p.is_symlink())
        if not blocker.is_dir():
            raise InputError(f"--keep {keep}: {blocker} is not a folder", hint="pass an empty or new folder to --keep")
        if keep.exists() and any(keep.iterdir()):
            raise InputError(f"{keep} exists and is not empty", hint="pass an empty or new folder to --keep")
        keep.mkdir(parents=True, exist_ok=True)
        return keep
    return Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mlops-demo-")))


def _setup(root: Path, main: Main, stack: ExitStack) -> Story:
    from mlops_actions.testing.github_emulator import GitHubEmulator

    print("=== setup: a repository that follows the convention, and a local GitHub", flush=True)
    if main(["init", str(root), "--example", "arrests"], env=dict(os.environ)) != EXIT_OK:
        raise InputError("demo: init failed")
    models = _available_models(root)
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "Scaffold with mlops-actions init --example arrests")
    gh = stack.enter_context(GitHubEmulator(users=USERS, repo_dir=root, repos=[REPO]))
    for team, member in (("ml-team", LEAD_A), ("ml-leads", LEAD_A), ("ml-leads", LEAD_B)):
        gh.add_team_member("your-org", team, member)
    story = Story(root, gh, main, models=models)
    print(f"GitHub emulator at {gh.url}; @{LEAD_A} is in your-org/ml-team and ml-leads, @{LEAD_B} in ml-leads")
    return story


def _available_models(root: Path) -> tuple[str, ...]:
    """The example's models this installation can train: the factory model needs LightGBM (an optional
    package); without it, that model is left out of the demo's repository and the demo says so."""
    from importlib.util import find_spec

    if find_spec("lightgbm") is not None:
        return tuple(MODELS)
    shutil.rmtree(root / "models" / "arrests-gbm")
    print("note: lightgbm is not installed, so the pipeline-factory model arrests-gbm is left out "
          "(pip install lightgbm to see it)", flush=True)
    return tuple(m for m in MODELS if m != "arrests-gbm")


def _open_pr(story: Story, branch: str, title: str, files: list[str]) -> int:
    head = story.git("rev-parse", branch)
    base = story.git("rev-parse", "main")
    pull = story.gh.add_pull(REPO, head_ref=branch, head_sha=head, base_sha=base, user=AUTHOR, title=title,
                             files=files)
    story.pulls[branch] = pull.number
    print(f"@{AUTHOR} opened PR #{pull.number} “{title}” ({branch} @ {head[:7]})")
    return int(pull.number)


def _pull_request(story: Story) -> None:
    story.say("a pull request retrains the three models",
              "validate → plan → train → report: the sticky PR comment (declarative, factory, command)")
    story.git("checkout", "-q", "-b", "retrain")
    for model in story.models:
        (old, new), message = MODELS[model]
        _edit_spec(story, old, new, model)
        story.git("commit", "-q", "-am", message)
    _open_pr(story, "retrain", "Retrain the arrests models", [f"models/{m}/model.yaml" for m in story.models])
    story.run("validate")
    story.run("plan", "--base", "main")
    for model in story.models:
        story.run("train", model)
    _report(story)
    _glance(story, "demographic\\_parity\\_difference")
    story.say("a push drops arrests' balanced class weights",
              "the report refuses: balanced accuracy falls to a coin's 0.52, below the spec's floor of 0.65")
    _edit_spec(story, "    colour: categorical\n", "")
    _edit_spec(story, "    class_weight: balanced\n", "")
    story.git("commit", "-q", "-am", "arrests: no colour, no class weights")
    _pushed(story)
    story.run("train", "arrests")
    _report(story, expect=1)
    _glance(story, "balanced\\_accuracy")


def _pushed(story: Story) -> int:
    """The PR's head moves to the new commit (as a push does); its number."""
    number = story.pulls["retrain"]
    story.gh.push(REPO, number, story.git("rev-parse", "HEAD"))
    return number


def _report(story: Story, expect: int = EXIT_OK) -> None:
    story.run("report", "--base", "main", "--publish", "--out", str(story.root / RESULTS_DIR / "report.md"),
              expect=expect)


def _glance(story: Story, gate: str) -> None:
    """The gate line of the report the last step published (as the PR comment shows it)."""
    report = story.root / RESULTS_DIR / "report.md"
    text = report.read_text(encoding="utf-8") if report.is_file() else ""
    lines = [line for line in text.splitlines() if f"**{gate}**" in line and line.startswith(("❌", "⚠️"))]
    shown = lines[0].rstrip().replace("**", "").replace("\\", "") if lines else "(no such gate line)"
    print(f"the comment says: {shown}")


def _edit_spec(story: Story, old: str, new: str, model: str = "arrests") -> None:
    spec = story.root / "models" / model / "model.yaml"
    text = spec.read_text(encoding="utf-8")
    if old not in text:
        raise InputError(f"demo: the example spec no longer contains {old!r}")
    spec.write_text(text.replace(old, new), encoding="utf-8")


def _second_push(story: Story) -> None:
    story.say("a third push to the same PR", "balanced weights back, more regularisation: the report passes; "
              "the same comment is updated in place: still one comment")
    _edit_spec(story, "    max_iter: 1000\n", "    class_weight: balanced\n    max_iter: 1000\n")
    _edit_spec(story, "C: 1.0", "C: 0.25")
    story.git("commit", "-q", "-am", "arrests: balanced weights, C=0.25 after review")
    number = _pushed(story)
    story.run("train", "arrests")
    _report(story)
    ours = [c for c in story.gh.comments(REPO, number) if c.user == BOT]
    print(f"PR #{number} has {len(ours)} mlops-actions comment(s)")


def _approve_and_merge(story: Story) -> None:
    story.say("review, merge, register", "@alice (CODEOWNER of /models/) approves; the merge retrains on main and "
              "registers <model>@v1 for each (exact rebuild for two, metrics within tolerance for the command)")
    number = story.pulls["retrain"]
    head = story.git("rev-parse", "retrain")
    story.gh.add_review(REPO, number, LEAD_A, "APPROVED", commit_id=head)
    print(f"@{LEAD_A} approved PR #{number} at {head[:7]}")
    merge = _merge(story, "retrain", number)
    shutil.rmtree(story.root / RESULTS_DIR, ignore_errors=True)
    story.run("govern", sha=merge)  # the rules in force (mlops.yaml, CODEOWNERS): tagged mlops-policy@v1
    for model in story.models:
        story.run("train", model, sha=merge)
    story.run("register", sha=merge)
    _show_record(story, f"{story.models[1]}@v1")


def _show_record(story: Story, tag: str) -> None:
    """The version record the tag's message holds (the main fields; `git show <tag>` has it all)."""
    record = json.loads(story.git("tag", "-l", "--format=%(contents)", tag))
    keys = ("model", "version", "commit", "pr", "approvers", "merged_by", "fingerprint", "build", "code",
            "artifact", "metrics", "fairness", "gates")
    shown = {k: record[k] for k in keys if k in record}
    shown["gates"] = {"verdict": record.get("gates", {}).get("verdict")}
    print(f"git tag {tag}: annotated; its message is the version record (main fields):")
    print(json.dumps(shown, indent=2, sort_keys=False))


def _merge(story: Story, branch: str, number: int) -> str:
    story.git("checkout", "-q", "main")
    story.git("merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #{number} from {branch}")
    merge = story.git("rev-parse", "HEAD")
    story.gh.merge(REPO, number, merge, merged_by=LEAD_B)
    print(f"@{LEAD_B} merged PR #{number} as {merge[:7]}")
    return merge


def _promote(story: Story) -> None:
    story.say("promote to staging", "a PR sets environments/staging.yaml to v1 of each model; one CODEOWNER approves")
    _promotion(story, "staging", approvals=(LEAD_A,), expect=EXIT_OK)
    story.say("promote to production without enough approvals",
              "production needs 2 approvals from your-org/ml-leads: the deploy is refused, nothing is created")
    _promotion(story, "production", approvals=(LEAD_A,), expect=1)
    story.say("the second ml-lead approves", "the deploy job is re-run and now creates the deployment")
    number = story.pulls["promote-production"]
    head = story.git("rev-parse", "promote-production")
    story.gh.add_review(REPO, number, LEAD_B, "APPROVED", commit_id=head)
    print(f"@{LEAD_B} approved PR #{number}")
    story.run("deploy")


def _promotion(story: Story, env: str, *, approvals: tuple[str, ...], expect: int) -> None:
    branch = f"promote-{env}"
    story.git("checkout", "-q", "-b", branch, "main")
    path = f"environments/{env}.yaml"
    wanted = "".join(f"{model}: v1\n" for model in story.models)
    (story.root / path).write_text(f"# Desired state of {env}.\n{wanted}", encoding="utf-8")
    story.git("commit", "-q", "-am", f"Promote the arrests models v1 to {env}")
    number = _open_pr(story, branch, f"Promote the arrests models v1 to {env}", [path])
    head = story.git("rev-parse", branch)
    for login in approvals:
        story.gh.add_review(REPO, number, login, "APPROVED", commit_id=head)
        print(f"@{login} approved PR #{number}")
    _merge(story, branch, number)
    story.run("validate")
    story.run("deploy", expect=expect)
