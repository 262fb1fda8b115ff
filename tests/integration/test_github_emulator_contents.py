"""PUT contents in an emulator backed by a real repository: a real commit on the branch, made with git plumbing."""

from __future__ import annotations

from pathlib import Path

from github import Auth, Github

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
