"""No secret value in any file or stream we write: logs, outputs, job summary, comments, crash logs.

A token holding a line break used to crash the run (requests refused the header) and the traceback, token
included, landed in the debug log under the temp folder."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest

from mlops_actions.action.entry import main as action_main
from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.cli import main
from mlops_actions.errors import run_guarded
from mlops_actions.github.values import CheckRun
from mlops_actions.secrets import REDACTED, Secrets, is_secret_name
from testkit.promokit import REPO, World, _run, template, world  # noqa: F401 (fixtures)

TOKEN = "ghs_" + "A1b2C3d4" * 4
MULTI = "ghs_firstLINEofTHEsecret\nsecondLINEofTHEsecret"


@pytest.fixture
def temp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A temp folder of our own, so that a debug log written by the run can be found and read."""
    folder = tmp_path / "temp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _files_hold(folder: Path, *needles: str) -> list[str]:
    return [p.name for p in folder.rglob("*") if p.is_file()
            and any(n.encode() in p.read_bytes() for n in needles)]


def _lines(value: str) -> list[str]:
    return [line for line in value.splitlines() if line]


# -- which values are secret ----------------------------------------------------------------------------------

def test_secret_names_and_values() -> None:
    assert all(map(is_secret_name, ["GITHUB_TOKEN", "MLFLOW_TRACKING_PASSWORD", "AWS_SECRET_ACCESS_KEY",
                                    "OPENAI_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS", "gh_token", "SSH_KEY",
                                    "AZURE_STORAGE_KEY_1", "KEY"]))
    assert not any(map(is_secret_name, ["GITHUB_REPOSITORY", "PATH", "HOME", "GITHUB_SHA", "MLOPS_KEYWORDS",
                                        "MONKEY"]))
    secrets = Secrets.from_env({"GITHUB_TOKEN": MULTI, "MLFLOW_TRACKING_URI": "https://u:p4ssw0rd@mlflow.example",
                                "SHORT_TOKEN": "t", "GITHUB_SHA": "abc123def"})
    text = secrets.redact(f"a {MULTI} b firstLINE? ghs_firstLINEofTHEsecret c p4ssw0rd d t abc123def")
    assert text == f"a {REDACTED} b firstLINE? {REDACTED} c {REDACTED} d t abc123def"


# -- the sinks -------------------------------------------------------------------------------------------------

def test_a_token_with_a_line_break_is_refused_without_a_crash_or_a_trace(temp: Path, tmp_path: Path,
                                                                           capsys: pytest.CaptureFixture[str]) -> None:
    env = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], "GITHUB_TOKEN": MULTI,
           "GITHUB_REPOSITORY": "octo/repo", "GITHUB_API_URL": "http://127.0.0.1:9"}
    assert main(["-C", str(tmp_path), "history", "arrests"], env=env) == 1
    out, err = capsys.readouterr()
    assert "line break" in err and "internal error" not in err
    assert not any(line in out + err for line in _lines(MULTI))
    assert _files_hold(temp, *_lines(MULTI)) == []


def test_the_crash_log_and_the_debug_trace_are_redacted(temp: Path, capsys: pytest.CaptureFixture[str]) -> None:
    secrets = Secrets.from_env({"GITHUB_TOKEN": MULTI})

    def crash() -> int:
        raise RuntimeError(f"header 'token {MULTI}' refused")

    assert run_guarded(crash, redact=secrets.redact) == 3
    assert run_guarded(crash, debug=True, redact=secrets.redact) == 3
    err = capsys.readouterr().err
    assert "RuntimeError" in err and not any(line in err for line in _lines(MULTI))
    logs = list(temp.glob("mlops-actions-debug-*.log"))
    assert len(logs) == 1 and REDACTED in logs[0].read_text() and _files_hold(temp, *_lines(MULTI)) == []


def test_what_any_command_prints_is_redacted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], "MY_API_TOKEN": TOKEN}
    assert main(["-C", str(tmp_path), "train", TOKEN], env=env) == 1
    out, err = capsys.readouterr()
    assert TOKEN not in out + err and REDACTED in err


def test_outputs_summary_and_workflow_commands_are_redacted(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    outputs, summary = tmp_path / "out", tmp_path / "summary"
    runtime = ActionsRuntime.from_env({"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(outputs),
                                       "GITHUB_STEP_SUMMARY": str(summary), "GITHUB_TOKEN": MULTI})
    runtime.set_output("matrix", f"x {MULTI} y")
    runtime.append_summary(f"| {TOKEN} | ghs_firstLINEofTHEsecret |\n")
    runtime.command("error", f"failed: {MULTI}", file="a.yaml")
    assert _files_hold(tmp_path, *_lines(MULTI)) == []
    assert not any(line in capsys.readouterr().out for line in _lines(MULTI))


def test_the_action_masks_every_line_of_a_multi_line_secret_first(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """GitHub masks what one ``::add-mask::`` names; a multi-line secret is masked whole and line by line."""
    env = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], "GITHUB_ACTIONS": "true",
           "GITHUB_WORKSPACE": str(tmp_path), "RUNNER_TEMP": str(tmp_path), "MLOPS_COMMAND": "nonsense",
           "GITHUB_TOKEN": MULTI, "MLFLOW_TRACKING_PASSWORD": TOKEN}
    assert action_main(env) == 2
    lines = capsys.readouterr().out.splitlines()
    masks = [line for line in lines if line.startswith("::add-mask::")]
    assert lines[:len(masks)] == masks  # before anything else
    assert set(masks) == {"::add-mask::ghs_firstLINEofTHEsecret%0AsecondLINEofTHEsecret",
                          "::add-mask::ghs_firstLINEofTHEsecret", "::add-mask::secondLINEofTHEsecret",
                          f"::add-mask::{TOKEN}"}


def test_the_pr_comment_and_check_run_never_carry_a_secret(world: World, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """A branch name (PR content) that holds a secret's value: the posted comment shows ***."""
    monkeypatch.setenv("MLFLOW_TRACKING_TOKEN", TOKEN)
    monkeypatch.setenv("GITHUB_HEAD_REF", f"feature-{TOKEN}")
    code = _run(world, monkeypatch, "report", "--results", "pr-out", "--publish", sha=world.head)
    out, err = capsys.readouterr()
    assert code in (0, 1), out + err
    comments = [c.body for c in world.gh.state.comments.values()]
    checks = [str(c) for c in world.gh.state.check_runs.values()]
    assert any(f"feature-{REDACTED}" in body for body in comments)
    assert not any(TOKEN in text for text in (*comments, *checks, out, err))


def test_every_published_text_of_the_cli_client_is_redacted(world: World) -> None:  # noqa: F811
    """What the CLI's client publishes (comments, check runs, issues, releases, statuses) never carries a
    secret, whichever command wrote it; reads and other arguments pass untouched."""
    from mlops_actions.secrets import RedactedWrites

    gh = RedactedWrites(world.bot, Secrets.from_env({"MLFLOW_TRACKING_PASSWORD": TOKEN}))
    gh.upsert_comment(world.pr, f"registered with {TOKEN}", "mlops-actions:test")
    gh.check_run(CheckRun("c", world.head, conclusion="success", title=f"t {TOKEN}", summary=f"s {TOKEN}"))
    gh.upsert_issue("mlops-actions:drift", f"drift {TOKEN}", body=f"body {TOKEN}")
    texts = [c.body for c in world.gh.state.comments.values()] + [str(c.output) for c in
                                                                   world.gh.state.check_runs.values()]
    texts += [f"{i.title} {i.body}" for i in world.gh.state.issues.values()]
    assert any(REDACTED in text for text in texts) and not any(TOKEN in text for text in texts)
    assert gh.find_comment(world.pr, "mlops-actions:test") is not None


def test_bootstrap_masks_a_token_in_the_pip_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    """``MLOPS_ACTIONS_PIP_ARGS='--index-url https://user:TOKEN@host/simple'``: pip prints index URLs."""
    from mlops_actions.action import bootstrap

    args = ["--index-url", f"https://ci:{TOKEN}@pypi.example/simple", "--extra-index-url=https://u:p%40ss@x/s",
            "--no-index", "--find-links", "/wheels"]
    assert bootstrap.pip_secrets(args) == [TOKEN, "p%40ss"]
    bootstrap.mask([*bootstrap.pip_secrets(args), MULTI])
    assert capsys.readouterr().out.splitlines() == [
        f"::add-mask::{TOKEN}", "::add-mask::p%2540ss", "::add-mask::" + MULTI.replace("\n", "%0A"),
        "::add-mask::ghs_firstLINEofTHEsecret", "::add-mask::secondLINEofTHEsecret"]
