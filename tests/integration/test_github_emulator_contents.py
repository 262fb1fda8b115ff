"""PUT contents in an emulator backed by a real repository: a real commit on the branch, made with git plumbing."""

from __future__ import annotations

from pathlib import Path

import pytest
from github import Auth, Github, GithubException

from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import git

REPO = "octo/arrests"


def test_put_contents_commits_on_the_branch_only(example_repo: Path) -> None:
    main_before = git(example_repo, "rev-parse", "main")
    with GitHubEmulator(users=["bot:t"], repo_dir=example_repo, repos=[REPO]) as gh:
        repo = Github(auth=Auth.Token("t"), base_url=gh.url, retry=None, seconds_between_requests=0,
                      seconds_between_writes=0).get_repo(REPO)
        repo.create_git_ref("refs/heads/topic", main_before)
        old = repo.get_contents("models/arrests/model.yaml", ref="topic")
        made = repo.update_file(old.path, "Pin new data", b"name: arrests\n", old.sha, branch="topic")
        pull = repo.create_pull(base="main", head="topic", title="Pin new data")
        assert pull.head.sha == made["commit"].sha == git(example_repo, "rev-parse", "topic")
        assert [f.filename for f in pull.get_files()] in ([], ["models/arrests/model.yaml"])
    assert git(example_repo, "rev-parse", "main") == main_before  # nothing else moved
    assert git(example_repo, "show", "topic:models/arrests/model.yaml") == "name: arrests"
    assert git(example_repo, "rev-parse", "topic^") == main_before
    assert git(example_repo, "log", "-1", "--format=%an|%s", "topic") == "bot|Pin new data"
    assert git(example_repo, "diff", "--name-only", "main", "topic") == "models/arrests/model.yaml"
    assert git(example_repo, "status", "--porcelain") == ""  # the work tree and index are untouched


def test_an_object_missing_at_first_is_found_once_git_has_it(example_repo: Path) -> None:
    """What a full object id names is read from git once and remembered, but a miss is not: an object written
    into the repository later (a push, a tag made by hand) is then found."""
    import subprocess

    head = git(example_repo, "rev-parse", "HEAD")
    text = f"object {head}\ntype commit\ntag v9\ntagger T <t@example.com> 1700000000 +0000\n\nby hand\n"

    def hash_tag(*write: str) -> str:
        return subprocess.run(["git", "hash-object", "-t", "tag", "--stdin", *write], cwd=example_repo, input=text,
                              capture_output=True, text=True, check=True).stdout.strip()

    sha = hash_tag()
    with GitHubEmulator(users=["bot:t"], repo_dir=example_repo, repos=[REPO]) as gh:
        repo = Github(auth=Auth.Token("t"), base_url=gh.url, retry=None, seconds_between_requests=0,
                      seconds_between_writes=0).get_repo(REPO)
        with pytest.raises(GithubException) as missing:
            repo.get_git_tag(sha)
        assert missing.value.status == 404
        assert hash_tag("-w") == sha
        assert [repo.get_git_tag(sha).tag for _ in range(2)] == ["v9", "v9"]
        assert repo.get_git_tag(sha).object.sha == head
