"""The emulator's command line (a fixed contract other tools drive), --state, and --repo-dir backing."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from github import Auth, Github, InputGitAuthor

from mlops_actions.testing.github_emulator import WEBHOOKS as _PACKAGED_WEBHOOKS
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.seed import SeedError, parse_user
from testkit import git

WEBHOOKS = _PACKAGED_WEBHOOKS
REPO = "Codertocat/Hello-World"
MODULE = "mlops_actions.testing.github_emulator"


def start(*args: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen([sys.executable, "-m", MODULE, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    assert process.stdout is not None
    return process, process.stdout.readline().strip()


def stop(process: subprocess.Popen[str], signum: int = signal.SIGTERM) -> int:
    process.send_signal(signum)
    return process.wait(timeout=10)


def client(url: str, token: str) -> Github:
    return Github(auth=Auth.Token(token), base_url=url, retry=None, seconds_between_requests=0,
                  seconds_between_writes=0)  # fmt: skip


def test_cli_prints_url_first_serves_and_persists_state(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    event = str(WEBHOOKS / "pull_request.opened.1.json")
    process, url = start("--port", "0", "--user", "bot:t0k", "--event", event, "--state", str(state))
    try:
        assert url.startswith("http://127.0.0.1:")
        client(url, "t0k").get_repo(REPO).get_issue(2).create_comment("kept")
    finally:
        assert stop(process) == 0
    assert "kept" in state.read_text(encoding="utf-8")
    process, url = start("--state", str(state), "--user", "bot:t0k", "--event", event)
    try:
        comments = client(url, "t0k").get_repo(REPO).get_issue(2).get_comments()
        assert [c.body for c in comments] == ["kept"]
    finally:
        assert stop(process, signal.SIGINT) == 0


def test_cli_faults_file_and_permissions(tmp_path: Path) -> None:
    faults = tmp_path / "faults.json"
    faults.write_text(json.dumps([{"method": "GET", "path": "/user", "status": 502}]), encoding="utf-8")
    process, url = start("--user", "reader:r:read", "--faults", str(faults), "--event",
                         str(WEBHOOKS / "pull_request.opened.1.json"))  # fmt: skip
    try:
        headers = {"Authorization": "token r"}
        assert [requests.get(f"{url}/user", headers=headers, timeout=5).status_code for _ in range(2)] == [502, 200]
        denied = requests.post(f"{url}/repos/{REPO}/issues", headers=headers, json={"title": "t"}, timeout=5)
        assert denied.status_code == 403
    finally:
        assert stop(process) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--user", "nocolon"], "expected LOGIN:TOKEN[:PERMISSION]"),
        (["--user", "a:b:superuser"], "permission must be one of read, triage, write, maintain, admin"),
        (["--faults", "/nonexistent/faults.json"], "/nonexistent/faults.json"),
        (["--repo-dir", "/nonexistent"], "not a git repository"),
    ],
)
def test_cli_bad_input_exits_1_without_traceback(args: list[str], message: str) -> None:
    done = subprocess.run([sys.executable, "-m", MODULE, *args], capture_output=True, text=True, timeout=30)
    assert done.returncode == 1 and message in done.stderr and "Traceback" not in done.stderr
    assert done.stdout == ""


def test_user_spec_never_echoes_the_token() -> None:
    with pytest.raises(SeedError) as caught:
        parse_user("alice:s3cret:root")
    assert "s3cret" not in str(caught.value)


def test_repo_dir_backs_tags_refs_commits_and_contents(example_repo: Path) -> None:
    base = git(example_repo, "rev-parse", "HEAD")
    git(example_repo, "checkout", "-q", "-b", "feature")
    (example_repo / "note.txt").write_text("x\n", encoding="utf-8")
    git(example_repo, "add", "note.txt")
    git(example_repo, "commit", "-q", "-m", "first of the PR")
    first = git(example_repo, "rev-parse", "HEAD")
    git(example_repo, "commit", "-q", "--allow-empty", "-m", "second")
    head = git(example_repo, "rev-parse", "HEAD")
    git(example_repo, "checkout", "-q", "main")
    with GitHubEmulator(users=["bot:t"], repo_dir=example_repo, repos=["octo/arrests"]) as gh:
        gh.add_pull("octo/arrests", head_ref="feature", head_sha=head, base_sha=base, user="bot")
        repo = client(gh.url, "t").get_repo("octo/arrests")
        assert repo.default_branch == "main"
        assert [p.number for p in repo.get_commit(first).get_pulls()] == [1]
        assert [p.number for p in repo.get_commit(base).get_pulls()] == []
        assert repo.get_commit(first).commit.message == "first of the PR"
        tag = repo.create_git_tag("arrests@v1", "record\n", base, "commit",
                                  InputGitAuthor("Bot", "bot@example.com", "2026-01-02T03:04:05Z"))  # fmt: skip
        repo.create_git_ref("refs/tags/arrests@v1", tag.sha)
        owners = (example_repo / ".github/CODEOWNERS").read_bytes()
        assert repo.get_contents(".github/CODEOWNERS").decoded_content == owners
    assert git(example_repo, "cat-file", "-t", "arrests@v1") == "tag"
    assert git(example_repo, "rev-parse", "arrests@v1") == tag.sha
    assert git(example_repo, "tag", "-l", "--format=%(contents)", "arrests@v1") == "record"
    assert git(example_repo, "rev-parse", "arrests@v1^{commit}") == base
