"""`mlops-actions refresh` end to end: data served on loopback, a real git repository, the GitHub emulator
backed by that repository (the pull request's commit is a real commit there)."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import DataServer, git

REPO = "octo/arrests"
SPEC = "models/arrests/model.yaml"
BRANCH = "mlops-actions/refresh-arrests"


@pytest.fixture
def server(data_server: DataServer) -> DataServer:
    return data_server


@pytest.fixture
def pinned(example_repo: Path, server: DataServer) -> Path:
    """The example model with its data pinned by URL + sha256 (of today's file), committed."""
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    server.answers = [data]
    spec = (example_repo / SPEC).read_text()
    assert "  path: data/arrests.csv\n" in spec
    spec = spec.replace("  path: data/arrests.csv\n", f"  url: {server.url}  # the monthly export\n"
                        f"  sha256: {hashlib.sha256(data).hexdigest()}  # refresh updates this\n")
    (example_repo / SPEC).write_text(spec)
    git(example_repo, "commit", "-qam", "pin the data by URL")
    return example_repo


@pytest.fixture
def gh(pinned: Path) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(users=["mlops-bot:bot-token:write"], repo_dir=pinned, repos=[REPO]) as emulator:
        yield emulator


def _env(gh: GitHubEmulator | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GITHUB_")}
    if gh is not None:
        env |= {"GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "bot-token",
                "MLOPS_GITHUB_WRITE_PAUSE": "0", "MLOPS_GITHUB_BACKOFF": "0.01"}
    return env


def _refresh(root: Path, *args: str, gh: GitHubEmulator | None = None) -> int:
    return main(["-C", str(root), "refresh", "arrests", *args], env=_env(gh))


def _pulls(gh: GitHubEmulator) -> list:
    return [p for p in gh.state.pulls.values() if p.head_ref == BRANCH]


def _changed(server: DataServer, root: Path, extra: bytes = b"2026,32,White,Male,No,Yes,1,Yes\n") -> str:
    data = (root / "data" / "arrests.csv").read_bytes() + extra
    server.answers = [data]
    return hashlib.sha256(data).hexdigest()


def test_unchanged_source_is_up_to_date_and_opens_nothing(pinned: Path, server: DataServer, gh: GitHubEmulator,
                                                          capsys) -> None:
    before = (pinned / SPEC).read_bytes()
    assert _refresh(pinned, "--publish", gh=gh) == 0
    assert "up to date" in capsys.readouterr().out
    assert (pinned / SPEC).read_bytes() == before and _pulls(gh) == [] and server.requests == 2
    assert [r.method for r in gh.requests if r.method != "GET"] == []


def test_changed_source_repins_caches_and_opens_one_pull_request(pinned: Path, server: DataServer,
                                                                 gh: GitHubEmulator, capsys) -> None:
    old_spec = (pinned / SPEC).read_text()
    new = _changed(server, pinned)
    assert _refresh(pinned, "--publish", gh=gh) == 0
    out = capsys.readouterr().out
    assert "the source changed" in out and f"pull request #{_pulls(gh)[0].number} created from {BRANCH}" in out
    spec = (pinned / SPEC).read_text()
    assert f"  sha256: {new}  # refresh updates this\n" in spec  # comments kept
    assert spec.replace(new, "") == old_spec.replace(old_spec.split("sha256: ")[1][:64], "")
    assert (pinned / ".mlops" / "cache" / "data" / new).read_bytes() == server.answers[0]
    [pull] = _pulls(gh)
    assert (pull.state, pull.base_ref, pull.user) == ("open", "main", "mlops-bot")
    assert pull.title == f"Refresh data of arrests: sha256 {new[:12]}" and f"`{new}`" in (pull.body or "")
    assert git(pinned, "show", f"{BRANCH}:{SPEC}") + "\n" == spec  # a real commit in the repository
    assert git(pinned, "rev-parse", f"{BRANCH}^") == git(pinned, "rev-parse", "HEAD")
    assert git(pinned, "diff", "--name-only", "HEAD", BRANCH) == SPEC


def test_later_runs_update_the_same_pull_request(pinned: Path, server: DataServer, gh: GitHubEmulator,
                                                 capsys) -> None:
    _changed(server, pinned)
    assert _refresh(pinned, "--publish", gh=gh) == 0
    git(pinned, "checkout", "-q", "--", SPEC)  # the workflow's next run starts from a fresh checkout
    assert _refresh(pinned, "--publish", gh=gh) == 0  # same bytes again: nothing new
    assert "unchanged" in capsys.readouterr().out
    git(pinned, "checkout", "-q", "--", SPEC)
    newer = _changed(server, pinned, b"2026,40,Black,Female,Yes,Yes,0,No\n")
    assert _refresh(pinned, "--publish", gh=gh) == 0
    assert "updated" in capsys.readouterr().out
    [pull] = _pulls(gh)
    assert pull.title.endswith(newer[:12]) and pull.head_sha == git(pinned, "rev-parse", BRANCH)
    assert git(pinned, "rev-list", "--count", f"HEAD..{BRANCH}") == "1"  # one commit on the base, not two
    assert newer in git(pinned, "show", f"{BRANCH}:{SPEC}")


def test_without_publish_only_the_work_tree_changes(pinned: Path, server: DataServer, capsys) -> None:
    new = _changed(server, pinned)
    assert _refresh(pinned) == 0
    assert new in (pinned / SPEC).read_text()
    assert git(pinned, "status", "--porcelain", "--untracked-files=no") == f"M {SPEC}"
    assert _refresh(pinned) == 0 and "up to date" in capsys.readouterr().out


def _bad(capsys, code: int) -> str:
    err = capsys.readouterr().err
    assert code == 1 and "Traceback" not in err
    return err


def test_url_that_fails(pinned: Path, server: DataServer, gh: GitHubEmulator, capsys) -> None:
    server.answers = [404]
    err = _bad(capsys, _refresh(pinned, "--publish", gh=gh))
    assert f"{SPEC}:13:8: {server.url}: the server answered 404" in err
    assert _pulls(gh) == [] and git(pinned, "status", "--porcelain") == ""


def test_unreachable_url(pinned: Path, server: DataServer, capsys) -> None:
    server.httpd.shutdown()
    server.httpd.server_close()
    err = _bad(capsys, _refresh(pinned))
    assert "cannot fetch it" in err and git(pinned, "status", "--porcelain") == ""


def test_different_bytes_on_the_second_read(pinned: Path, server: DataServer, gh: GitHubEmulator, capsys) -> None:
    data = (pinned / "data" / "arrests.csv").read_bytes()
    server.answers = [data + b"1,2\n", data + b"3,4\n"]
    err = _bad(capsys, _refresh(pinned, "--publish", gh=gh))
    assert "two reads returned different bytes" in err and "nothing was pinned" in err
    assert _pulls(gh) == [] and git(pinned, "status", "--porcelain") == ""


def test_verify_refuses_a_pin_the_first_read_does_not_match(pinned: Path, server: DataServer, capsys) -> None:
    new = _changed(server, pinned)
    err = _bad(capsys, _refresh(pinned, "--verify"))
    assert f"the server returned bytes with sha256 {new}, but the spec pins" in err
    assert server.requests == 1 and git(pinned, "status", "--porcelain") == ""


def test_verify_passes_when_the_pin_holds(pinned: Path, server: DataServer, capsys) -> None:
    assert _refresh(pinned, "--verify") == 0 and "up to date" in capsys.readouterr().out


def test_data_kept_in_the_repository_has_nothing_to_refresh(example_repo: Path, capsys) -> None:
    err = _bad(capsys, main(["-C", str(example_repo), "refresh", "arrests"], env=_env()))
    assert f"{SPEC}:13:9" in err  # the line of data.path and "is a file in the repository (data/arrests.csv)" in err


def test_a_workflow_refreshing_every_model_skips_repository_data_with_a_notice(example_repo: Path, tmp_path: Path,
                                                                             capsys) -> None:
    output = tmp_path / "output.txt"
    env = {**_env(), "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)}
    assert main(["-C", str(example_repo), "refresh", "arrests", "--skip-unpinned"], env=env) == 0
    out = capsys.readouterr().out
    assert "::notice title=mlops-actions refresh::arrests: the data is a file in the repository" in out
    assert "\nfalse\n" in output.read_text()


def test_unknown_model(pinned: Path, capsys) -> None:
    err = _bad(capsys, main(["-C", str(pinned), "refresh", "nope"], env=_env()))
    assert "unknown model 'nope'" in err


def test_publish_refuses_an_uncommitted_spec(pinned: Path, server: DataServer, gh: GitHubEmulator, capsys) -> None:
    (pinned / SPEC).write_text((pinned / SPEC).read_text() + "# local edit\n")
    _changed(server, pinned)
    err = _bad(capsys, _refresh(pinned, "--publish", gh=gh))
    assert "differs from the one in commit" in err and _pulls(gh) == [] and server.requests == 0


def test_read_only_token_names_the_permissions_and_leaves_the_work_tree(pinned: Path, server: DataServer,
                                                                        gh: GitHubEmulator, capsys) -> None:
    gh.set_permission(REPO, "mlops-bot", "read")
    _changed(server, pinned)
    err = _bad(capsys, _refresh(pinned, "--publish", gh=gh))
    assert "contents: write" in err and _pulls(gh) == [] and git(pinned, "status", "--porcelain") == ""


def test_verify_and_publish_are_exclusive(pinned: Path, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["-C", str(pinned), "refresh", "arrests", "--verify", "--publish"])
    assert stop.value.code == 2 and "not allowed with" in capsys.readouterr().err
