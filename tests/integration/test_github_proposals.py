"""The GitHub layer's proposals (branch + commit through contents + pull request) against the strict emulator."""

from __future__ import annotations

import pytest

from mlops_actions.errors import GitHubError
from mlops_actions.github.proposals import Proposal
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit.github_helpers import BOT, REPO, calls, client, emulator

SPEC = "models/churn/model.yaml"
BRANCH = "mlops-actions/refresh-churn"
OLD, NEW, NEWER = b"sha256: old\n", b"sha256: new\n", b"sha256: newer\n"


def _base(gh: GitHubEmulator) -> str:
    return str(gh.state.git[REPO].resolve("refs/heads/master"))


def _proposal(gh: GitHubEmulator, content: bytes = NEW, title: str = "Refresh churn",
              body: str = "new data") -> Proposal:
    return Proposal(branch=BRANCH, base_sha=_base(gh), path=SPEC, content=content, message="Refresh churn's data",
                    title=title, body=body)


def _open_pulls(gh: GitHubEmulator) -> list:
    return [p for p in gh.state.pulls.values() if p.head_ref == BRANCH and p.state == "open"]


def _writes(gh: GitHubEmulator, since: int = 0) -> list[str]:
    return [line for line in calls(gh)[since:] if line.split()[0] in ("POST", "PUT", "PATCH")]


def test_first_run_opens_a_pull_request_with_one_commit() -> None:
    with emulator() as gh:
        gh.add_file(REPO, SPEC, OLD)
        repo = client(gh)
        result = repo.propose_file(_proposal(gh))
        assert result.action == "created" and result.pull.head_ref == BRANCH and result.pull.base_ref == "master"
        git = gh.state.git[REPO]
        head = git.resolve(f"refs/heads/{BRANCH}")
        assert result.commit == head == result.pull.head_sha and git.commit(head).parents == (_base(gh),)
        assert repo.file_at(SPEC, BRANCH) == NEW and repo.file_at(SPEC, "master") == OLD
        [pull] = _open_pulls(gh)
        assert (pull.title, pull.body, pull.user) == ("Refresh churn", "new data", BOT)
        assert repo.open_pull_from(BRANCH).number == pull.number


def test_second_run_with_the_same_content_writes_nothing() -> None:
    with emulator() as gh:
        gh.add_file(REPO, SPEC, OLD)
        repo = client(gh)
        first = repo.propose_file(_proposal(gh))
        mark = len(gh.requests)
        again = repo.propose_file(_proposal(gh))
        assert (again.action, again.commit, again.pull.number) == ("unchanged", None, first.pull.number)
        assert _writes(gh, mark) == [] and len(_open_pulls(gh)) == 1


def test_changed_content_starts_again_from_the_base_in_the_same_pull_request() -> None:
    with emulator() as gh:
        gh.add_file(REPO, SPEC, OLD)
        repo = client(gh)
        first = repo.propose_file(_proposal(gh))
        newer = repo.propose_file(_proposal(gh, NEWER, title="Refresh churn again", body="newer data"))
        assert newer.action == "updated" and newer.pull.number == first.pull.number
        [pull] = _open_pulls(gh)
        assert (pull.title, pull.body, pull.head_sha) == ("Refresh churn again", "newer data", newer.commit)
        assert gh.state.git[REPO].commit(newer.commit).parents == (_base(gh),)  # one commit on the base
        assert repo.file_at(SPEC, BRANCH) == NEWER


def test_lost_answers_are_re_read_never_written_twice() -> None:
    faults = [{"method": "PUT", "path": "/repos/*/contents/*", "status": "drop"},
              {"method": "POST", "path": "/repos/*/pulls", "status": "drop"},
              {"method": "POST", "path": "/repos/*/git/refs", "status": "drop"}]
    with emulator(faults=faults) as gh:
        gh.add_file(REPO, SPEC, OLD)
        result = client(gh).propose_file(_proposal(gh))
        assert result.action == "created" and len(_open_pulls(gh)) == 1
        writes = _writes(gh)
        assert [w.split()[0] + " " + w.split()[1].split("/")[-1] for w in writes] == [
            "POST refs", "PUT model.yaml", "POST pulls"]
        assert all(w.endswith("dropped") for w in writes)
        assert gh.state.git[REPO].commit(result.pull.head_sha).parents == (_base(gh),)


def test_a_new_file_is_created_on_the_branch() -> None:
    with emulator() as gh:
        result = client(gh).propose_file(_proposal(gh))
        assert result.action == "created" and client(gh).file_at(SPEC, BRANCH) == NEW


def test_read_only_token_names_contents_write_and_opens_nothing() -> None:
    with emulator() as gh:
        gh.add_file(REPO, SPEC, OLD)
        gh.set_permission(REPO, BOT, "read")
        with pytest.raises(GitHubError, match="contents: write"):
            client(gh).propose_file(_proposal(gh))
        assert _open_pulls(gh) == [] and gh.state.git[REPO].resolve(f"refs/heads/{BRANCH}") is None


def test_bad_branch_name_is_refused_before_any_request() -> None:
    with emulator() as gh:
        proposal = Proposal(branch="bad..name", base_sha=_base(gh), path=SPEC, content=NEW, message="m", title="t",
                            body="b")
        with pytest.raises(ValueError, match="not a valid branch name"):
            client(gh).propose_file(proposal)
        assert gh.requests == []
