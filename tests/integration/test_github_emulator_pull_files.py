"""A pull request's files, from a repository-backed emulator: derived from git like GitHub does, unless seeded.

GitHub lists the files the head changes since its merge base with the base; CODEOWNERS approvals depend on
that list, so the end-to-end tests (which seed pull requests from webhook payloads, which carry no files)
need it from the real repository.
"""

from __future__ import annotations

from pathlib import Path

from github import Auth, Github

from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import git

REPO = "acme/files"


def _repo(root: Path) -> tuple[str, str]:
    root.mkdir()
    (root / "keep.txt").write_text("one\ntwo\n")
    (root / "gone.txt").write_text("bye\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "base")
    base = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "-b", "feature")
    (root / "keep.txt").write_text("one\n2\nthree\n")
    (root / "gone.txt").unlink()
    (root / "models").mkdir()
    (root / "models" / "new é.yaml").write_text("a: 1\n")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "change")
    return base, git(root, "rev-parse", "HEAD")


def _files(gh: GitHubEmulator, number: int) -> list[tuple[str, str, int, int]]:
    client = Github(auth=Auth.Token("t0ken"), base_url=gh.url, retry=None, seconds_between_requests=0,
                    seconds_between_writes=0)
    pull = client.get_repo(REPO).get_pull(number)
    return sorted((f.filename, f.status, f.additions, f.deletions) for f in pull.get_files())


def test_files_of_a_pull_request_come_from_git(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _base, head = _repo(root)
    git(root, "checkout", "-q", "main")
    (root / "later-on-main.txt").write_text("not in the pull request\n")  # the base moves on: not listed
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "main moves on")
    with GitHubEmulator(users=["octo:t0ken"], repo_dir=root, repos=[REPO], strict=True) as gh:
        number = gh.add_pull(REPO, head_ref="feature", head_sha=head, base_sha=git(root, "rev-parse", "HEAD")).number
        assert _files(gh, number) == [("gone.txt", "removed", 0, 1), ("keep.txt", "modified", 2, 1),
                                      ("models/new é.yaml", "added", 1, 0)]


def test_seeded_files_win_over_git(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    base, head = _repo(root)
    with GitHubEmulator(users=["octo:t0ken"], repo_dir=root, repos=[REPO]) as gh:
        pull = gh.add_pull(REPO, head_ref="feature", head_sha=head, base_sha=base)
        pull.files = [{"filename": "only-this.txt"}]
        assert [name for name, *_ in _files(gh, pull.number)] == ["only-this.txt"]
