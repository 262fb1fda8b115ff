"""Messages a newcomer meets: a ``--sha`` that is not in the clone names the checkout depth the workflows use,
a deploy refusal names a first deployment without a stray ``new:``, validate in the wrong folder (or of a
path that does not exist) says so instead of "ok", outside git the message is not a raw git command,
and a GitHub never reached points at GITHUB_API_URL."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.errors import EXIT_INVALID, GitHubError
from mlops_actions.github.errors import Op
from mlops_actions.github.retry import Retrier, RetryPolicy
from mlops_actions.registry.promotion import Change

ENV = {"GITHUB_TOKEN": "not-a-real-token", "GITHUB_REPOSITORY": "your-org/arrests",
       "GITHUB_API_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize("command", ["register", "deploy"])
def test_a_sha_not_in_the_clone_asks_for_the_full_history(example_repo: Path, command: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(example_repo), command, "--sha", "deadbeef"], env=ENV) == 2
    err = capsys.readouterr().err
    assert "'deadbeef' does not name a commit" in err
    assert "fetch-depth: 0" in err and "fetch-depth: 2" not in err


def test_a_first_deployment_reads_as_an_arrow_to_the_version() -> None:
    assert Change("production", "arrests", "v1", None).describe() == "production: arrests → v1"
    assert Change("production", "arrests", "v2", "v1").describe() == "production: arrests v1 → v2"


def test_validate_in_a_folder_without_convention_files_is_not_ok(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tmp_path), "validate"], env={}) == EXIT_INVALID
    captured = capsys.readouterr()
    assert "ok:" not in captured.out
    assert f"no convention files in {tmp_path}" in captured.err and "working-directory" in captured.err


def test_validate_names_a_path_that_does_not_exist(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = str(example_repo / "nope.yaml")
    assert main(["-C", str(example_repo), "validate", missing], env={}) == EXIT_INVALID
    err = capsys.readouterr().err
    assert f"no such file or folder: {missing}" in err and "cannot tell which schema" not in err


def test_outside_git_the_message_shows_no_git_plumbing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(tmp_path), "plan"], env={}) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "not a git repository: run mlops-actions inside a git checkout" in err
    assert "for-each-ref" not in err and "%(" not in err


def _give_up(exc: Exception) -> str:
    def call() -> None:
        raise exc

    retrier = Retrier(RetryPolicy(max_attempts=2), sleep=lambda s: None)
    with pytest.raises(GitHubError) as info:
        retrier.call(Op("list the deployments to staging", "environment staging", "deployments: read"), call)
    return str(info.value)


def test_a_github_never_reached_points_at_the_api_url_not_only_at_github_status() -> None:
    import requests
    from github import GithubException

    unreachable = _give_up(requests.ConnectionError("refused"))
    assert "kept failing to list the deployments" in unreachable and "check GITHUB_API_URL" in unreachable
    degraded = _give_up(GithubException(502, {"message": "Bad Gateway"}, {}))
    assert "githubstatus" in degraded and "GITHUB_API_URL" not in degraded


def test_a_404_hint_also_suspects_the_repository_name() -> None:
    from mlops_actions.github.errors import Failure, to_error

    op = Op("list the deployments to staging", "environment staging", "deployments: read")
    error = to_error(Failure(404, "Not Found"), op)
    assert error.hint is not None and "GITHUB_REPOSITORY names the repository" in error.hint
    assert "`deployments: read`" in error.hint


def test_an_empty_data_file_is_not_blamed_on_the_spec_alone(example_repo: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    (example_repo / "data" / "arrests.csv").write_bytes(b"")
    assert main(["-C", str(example_repo), "train", "arrests"], env={}) == EXIT_INVALID
    err = capsys.readouterr().err
    assert "the data file is empty" in err and "fix the spec or its data first" in err
    assert not (example_repo / "mlops-out").exists()


def test_a_denied_module_the_policy_lists_is_named_as_denied(example_repo: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    policy = example_repo / "mlops.yaml"
    policy.write_text(policy.read_text().replace('allowed_prefixes: ["sklearn.", "lightgbm."]',
                                                 'allowed_prefixes: ["sklearn.", "os"]'))
    spec = example_repo / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("sklearn.linear_model.LogisticRegression", "os.system"))
    assert main(["-C", str(example_repo), "validate"], env={}) == EXIT_INVALID
    out = capsys.readouterr().out
    assert "estimator 'os.system' is not allowed: module 'os' can run commands or load pickles" in out
    assert "must start with one of" not in out  # 'os.system' does start with 'os'
    assert main(["-C", str(example_repo), "train", "arrests"], env={}) == EXIT_INVALID
    assert "module 'os' can run commands" in capsys.readouterr().err


def test_a_class_outside_the_prefixes_still_names_them() -> None:
    from mlops_actions.convention.model import estimator_refusal

    assert estimator_refusal("os.system", ("sklearn.",)).startswith("import paths must start with one of [sklearn.]")


def test_results_of_another_spec_are_flagged_in_the_report(example_repo: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    from testkit import git

    root = ["-C", str(example_repo)]
    assert main([*root, "train", "arrests"], env={}) == 0
    assert main([*root, "report"], env={}) == 0
    assert "another spec" not in capsys.readouterr().out  # results of this checkout's spec: no note
    spec = example_repo / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("C: 1.0", "C: 0.5"))
    git(example_repo, "commit", "-qam", "C=0.5 after training")
    main([*root, "report"], env={})
    out = capsys.readouterr().out
    assert "these results were trained from another spec than models/arrests/model.yaml in this checkout" in out
