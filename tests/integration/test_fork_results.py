"""The privileged commenter (fork PRs, ``workflow_run``) reads only bounded JSON from the fork's artifact.

The fork edits its own workflow, so its artifact can hold anything: a crafted parquet file (CVE-2023-47248
was pyarrow's), a huge or deeply nested JSON file, links. ``report --fork-results`` (which the action passes on
``workflow_run``) reads metrics/record/fairness JSON only, each size- and depth-bounded, and the comment says the
numbers were computed by the fork's own run and are re-checked at registration."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_actions import bounded
from mlops_actions.action.entry import invocations, read_inputs
from mlops_actions.cli import main
from mlops_actions.evaluation import fork_results
from testkit import EXAMPLE, git


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("fork") / "repo"
    shutil.copytree(EXAMPLE, root)
    for other in (root / "models").iterdir():  # the declarative model alone (the example now has three)
        if other.name != "arrests":
            shutil.rmtree(other)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    assert main(["-C", str(root), "train", "arrests"]) == 0
    return root


@pytest.fixture
def artifact(trained: Path, tmp_path: Path) -> Path:
    """What a hostile fork uploads: the true JSON, plus a crafted parquet file and a file of its own."""
    folder = tmp_path / "artifact"
    shutil.copytree(trained / "mlops-out", folder)
    (folder / "arrests" / "model.skops").unlink()
    (folder / "arrests" / "predictions.parquet").write_bytes(b"PAR1" + b"\x00crafted" * 64 + b"PAR1")
    (folder / "arrests" / "payload.pkl").write_bytes(b"\x80\x04not read")
    return folder


def _report(root: Path, results: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    code = main(["-C", str(root), "report", "--results", str(results), *extra])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_fork_report_never_opens_the_parquet_file(trained: Path, artifact: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _report(trained, artifact, capsys, "--fork-results")
    assert code == 0, out + err
    assert "not read (a fork's results are read as JSON only): arrests/payload.pkl, arrests/predictions.parquet" \
        in err
    assert "computed by the fork's own run" in out and "re-checked by a trusted rebuild" in out
    assert "demographic" in out.lower() or "fairness" in out.lower()  # from fairness.json, the aggregates


def test_without_the_flag_the_parquet_file_is_parsed(trained: Path, artifact: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """The control: the same artifact read as the fork's own (unprivileged) run reads its results."""
    code, _out, err = _report(trained, artifact, capsys)
    assert code == 1 and "cannot read the predictions" in err


@pytest.mark.parametrize("case", ["too big", "too deep", "not JSON", "not UTF-8"])
def test_a_bad_json_file_in_the_artifact_is_refused_with_its_place(trained: Path, artifact: Path, case: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    metrics = artifact / "arrests" / "metrics.json"
    content = {"too big": b'{"a": "' + b"x" * fork_results.MAX_FILE_BYTES + b'"}',
               "too deep": b"\n" + b"[" * 200_000 + b"]" * 200_000,
               "not JSON": b"{\n  nope",
               "not UTF-8": b'{"a": "\xff"}'}[case]
    metrics.write_bytes(content)
    code, _out, err = _report(trained, artifact, capsys, "--fork-results")
    assert code == 1 and "Traceback" not in err
    needle = {"too big": "arrests/metrics.json: 2,097,161 bytes; a fork's results file may hold at most 2,097,152",
              "too deep": f"arrests/metrics.json:2:{bounded.MAX_NESTING + 1}: not valid JSON: nested more than",
              "not JSON": "arrests/metrics.json:2:3: not valid JSON",
              "not UTF-8": "arrests/metrics.json: not UTF-8 text"}[case]
    assert needle in err


def test_links_in_the_artifact_are_not_followed(trained: Path, artifact: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    record = artifact / "arrests" / "record.json"
    record.unlink()
    record.symlink_to("/etc/passwd")
    code, out, err = _report(trained, artifact, capsys, "--fork-results")
    assert code == 1 and "record.json: file not found" in err and "root:" not in out + err


def test_the_action_reads_a_fork_artifact_on_workflow_run(tmp_path: Path) -> None:
    env = {"GITHUB_WORKSPACE": str(tmp_path), "RUNNER_TEMP": str(tmp_path), "MLOPS_COMMAND": "report",
           "GITHUB_TOKEN": "bot-token", "GITHUB_EVENT_NAME": "workflow_run"}
    assert invocations(read_inputs(env))[0][-2:] == ["--publish", "--fork-results"]
    same_repo = {**env, "GITHUB_EVENT_NAME": "pull_request"}
    assert "--fork-results" not in invocations(read_inputs(same_repo))[0]
