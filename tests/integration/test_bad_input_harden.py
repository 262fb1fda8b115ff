"""Bad inputs the issue did not list, found while hardening: each ends with exit 1 (or a stated reason), a
message naming the thing and what to do, no traceback, nothing half-written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from mlops_actions.action.entry import main as action_main
from mlops_actions.cli import main
from mlops_actions.errors import run_guarded
from testkit import git


def _env(**extra: str) -> dict[str, str]:
    return {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], **extra}


@pytest.mark.parametrize("variable", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
def test_runner_files_on_a_full_disk(example_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     variable: str) -> None:
    """/dev/full takes the open and refuses the write (ENOSPC): an error naming the variable, not a crash."""
    env = _env(GITHUB_WORKSPACE=str(example_repo), MLOPS_COMMAND="validate", GITHUB_ACTIONS="true",
               RUNNER_TEMP=str(tmp_path), **{variable: "/dev/full"})
    code = action_main(env)
    err = capsys.readouterr().err
    assert code == 1 and f"{variable} /dev/full: cannot append to it: No space left on device" in err
    assert "internal error" not in err


def test_a_version_tag_nested_too_deep_is_ignored_with_its_reason(example_repo: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """A hand-pushed tag whose message would crash json (RecursionError): plan goes on and says why."""
    message = example_repo.parent / "message.txt"
    message.write_text("[" * 100_000 + "]" * 100_000)
    git(example_repo, "tag", "-a", "arrests@v1", "-F", str(message))
    assert main(["-C", str(example_repo), "plan"]) == 0
    out = capsys.readouterr().out
    assert "arrests@v1 ignored" in out and "not JSON" in out and "was the tag edited by hand?" in out


@pytest.mark.slow
def test_report_never_replaces_a_pipe(example_repo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    fifo = tmp_path / "report.md"
    os.mkfifo(fifo)
    assert main(["-C", str(example_repo), "train", "arrests"]) == 0
    assert main(["-C", str(example_repo), "report", "--out", str(fifo)]) == 1
    assert "not a regular file" in capsys.readouterr().err and fifo.is_fifo()


def test_the_crash_log_falls_back_to_the_screen_when_temp_is_not_writable(monkeypatch: pytest.MonkeyPatch,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(tempfile, "tempdir", "/proc/self/no-such-folder")

    def crash() -> int:
        raise RuntimeError("boom")

    assert run_guarded(crash) == 3
    err = capsys.readouterr().err
    assert "RuntimeError: boom" in err and "with the traceback above" in err


def test_plan_with_a_model_name_git_would_refuse(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example_repo / "models" / "zz..bad").mkdir()
    spec = (example_repo / "models" / "arrests" / "model.yaml").read_text().replace("name: arrests", "name: zz..bad")
    (example_repo / "models" / "zz..bad" / "model.yaml").write_text(spec)
    assert main(["-C", str(example_repo), "plan"]) == 1
    out = capsys.readouterr().out
    assert "models/zz..bad/model.yaml:" in out and "A model name is lowercase letters" in out
