"""The composite action's Python side: bootstrap (runner checks, venv reuse) and inputs → CLI invocations."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions.action import bootstrap
from mlops_actions.action.entry import (
    ActionInputs,
    apply_fail_on,
    default_base,
    head_ref,
    invocations,
    main,
    may_publish,
    outputs_written,
    parse_models,
    read_inputs,
)
from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.testing.github_emulator import WEBHOOKS
from testkit import REPO

BOOTSTRAP = REPO / "mlops_actions" / "action" / "bootstrap.py"
OLD_PYTHONS = sorted(Path("/root/.pyenv/versions").glob("3.[6-9].*/bin/python"))


def actions_env(tmp_path: Path, root: Path, **inputs: str) -> dict[str, str]:
    """The environment a runner gives the action's run step (files for outputs and summary in tmp_path)."""
    (tmp_path / "output").touch()
    (tmp_path / "summary").touch()
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "output"),
           "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), "GITHUB_WORKSPACE": str(root),
           "RUNNER_TEMP": str(tmp_path / "runner-temp")}
    env.update({f"MLOPS_{k.upper()}": v for k, v in inputs.items()})
    return env


def outputs(tmp_path: Path) -> dict[str, str]:
    lines = (tmp_path / "output").read_text().splitlines()
    found, i = {}, 0
    while i < len(lines):
        name, _, delimiter = lines[i].partition("<<")
        end = lines.index(delimiter, i + 1)
        found[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    return found


# --- inputs ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("", ()),
    ("churn", ("churn",)),
    ("churn, credit-risk", ("churn", "credit-risk")),
    ("churn\ncredit-risk\n", ("churn", "credit-risk")),
    ('["a", "b"]', ("a", "b")),
    ('{"include": [{"model": "a", "reasons": ["spec"]}, {"model": "b"}]}', ("a", "b")),
    ('{"include": []}', ()),
])
def test_models_are_read_from_every_form(text: str, expected: tuple[str, ...]) -> None:
    assert parse_models(text) == expected


@pytest.mark.parametrize("models", ["--out=/etc", "a;rm -rf /", "$(id)", "../x", "UPPER", '["a", 1]', "[oops"])
def test_a_bad_model_input_is_a_usage_error(tmp_path: Path, models: str,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    env = actions_env(tmp_path, tmp_path, command="train", models=models)
    assert main(env) == 2
    assert "input 'models'" in capsys.readouterr().err


@pytest.mark.parametrize(("inputs", "message"), [
    ({"command": "deploy-all"}, "input 'command'"),
    ({"command": ""}, "input 'command'"),
    ({"command": "validate", "fail_on": "maybe"}, "input 'fail-on'"),
    ({"command": "train"}, "needs input 'models'"),
    ({"command": "monitor", "models": "a"}, "needs input 'current-data'"),
    ({"command": "validate", "working_directory": "nope"}, "input 'working-directory'"),
])
def test_bad_inputs_are_usage_errors(tmp_path: Path, inputs: dict[str, str], message: str,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    assert main(actions_env(tmp_path, tmp_path, **inputs)) == 2
    assert message in capsys.readouterr().err


def test_each_command_maps_to_its_cli_invocation(tmp_path: Path) -> None:
    res = tmp_path / "res"
    base = {"root": tmp_path, "results_dir": res}
    c = ["-C", str(tmp_path)]
    assert invocations(ActionInputs("validate", **base)) == [[*c, "validate", "--format", "github"]]
    assert invocations(ActionInputs("plan", **base, base_ref="abc")) == [[*c, "plan", "--format", "json",
                                                                          "--base", "abc"]]
    assert invocations(ActionInputs("train", **base, models=("a", "b"))) == [
        [*c, "train", "--out", str(res), "--install-requirements", "--", "a"],
        [*c, "train", "--out", str(res), "--install-requirements", "--", "b"]]
    assert invocations(ActionInputs("train", **base, models=("a",), install_requirements=False)) == [
        [*c, "train", "--out", str(res), "--", "a"]]
    assert invocations(ActionInputs("report", **base)) == [
        [*c, "report", "--results", str(res), "--out", str(res / "report.md")]]
    assert invocations(ActionInputs("register", **base)) == [[*c, "register", "--results", str(res)]]
    assert invocations(ActionInputs("deploy", **base)) == [[*c, "deploy"]]
    assert invocations(ActionInputs("monitor", **base, models=("a",), current_data="live.csv",
                                    environment="production")) == [
        [*c, "monitor", "--current", str(tmp_path / "live.csv"), "--env", "production", "--", "a"]]
    assert invocations(ActionInputs("refresh", **base, models=("a",))) == [
        [*c, "refresh", "--skip-unpinned", "--", "a"]]


def test_base_defaults_to_the_pull_request_base_then_the_push_before(tmp_path: Path) -> None:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"base": {"sha": "b" * 40}}}))
    assert default_base({"GITHUB_EVENT_PATH": str(event)}) == "b" * 40
    event.write_text(json.dumps({"before": "c" * 40}))
    assert default_base({"GITHUB_EVENT_PATH": str(event)}) == "c" * 40
    event.write_text(json.dumps({"before": "0" * 40}))  # a new branch: no base
    assert default_base({"GITHUB_EVENT_PATH": str(event)}) == ""
    assert default_base({}) == ""


def test_real_payloads_give_their_base() -> None:
    shared = WEBHOOKS
    opened = json.loads((shared / "pull_request.opened.1.json").read_text())
    assert default_base({"GITHUB_EVENT_PATH": str(shared / "pull_request.opened.1.json")}) == \
        opened["pull_request"]["base"]["sha"]
    read_inputs({"MLOPS_COMMAND": "plan", "GITHUB_WORKSPACE": str(REPO),
                 "GITHUB_EVENT_PATH": str(shared / "push.event.1.json")})


def test_report_publishes_only_where_the_token_may_write(tmp_path: Path) -> None:
    opened = WEBHOOKS / "pull_request.opened.1.json"
    if not opened.is_file():
        pytest.skip("shared webhook payloads not available")
    payload = json.loads(opened.read_text())
    same = payload["pull_request"]["head"]["repo"]["full_name"]
    env = {"GITHUB_TOKEN": "t", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_EVENT_PATH": str(opened),
           "GITHUB_REPOSITORY": same}
    assert may_publish(env)
    assert not may_publish({**env, "GITHUB_REPOSITORY": "upstream/other"})  # a fork's PR: read-only token
    assert not may_publish({**env, "GITHUB_TOKEN": ""})
    assert may_publish({"GITHUB_TOKEN": "t", "GITHUB_EVENT_NAME": "workflow_run"})
    push = {"GITHUB_TOKEN": "t", "GITHUB_EVENT_NAME": "push", "GITHUB_REPOSITORY": same,
            "GITHUB_EVENT_PATH": str(opened.with_name("push.event.1.json"))}
    assert not may_publish(push)
    inputs = read_inputs({**env, "MLOPS_COMMAND": "report", "GITHUB_WORKSPACE": str(tmp_path)})
    assert invocations(inputs)[0][-1] == "--publish"


def test_the_head_branch_comes_from_the_workflow_run_when_commenting_for_a_fork(tmp_path: Path) -> None:
    event = tmp_path / "workflow_run.json"
    event.write_text(json.dumps({"workflow_run": {"head_branch": "fix-typo", "pull_requests": []}}))
    env = {"GITHUB_EVENT_NAME": "workflow_run", "GITHUB_EVENT_PATH": str(event)}
    assert head_ref(env) == "fix-typo"
    assert head_ref({**env, "GITHUB_HEAD_REF": "own"}) == "own"
    assert head_ref({**env, "GITHUB_EVENT_NAME": "push"}) == ""


# --- running --------------------------------------------------------------------------------------------

def test_validate_on_the_example_passes_and_sets_the_verdict(example_repo: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    env = actions_env(tmp_path, example_repo.parent, command="validate", working_directory=example_repo.name)
    assert main(env) == 0
    assert "validate --format github" in capsys.readouterr().out
    assert outputs(tmp_path) == {"verdict": "pass"}


def break_spec(root: Path) -> None:
    spec = root / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("test_fraction: 0.25", "test_fraction: lots"))


@pytest.mark.parametrize(("fail_on", "code", "annotation"), [
    ("fail", 1, None), ("warn", 0, "::warning"), ("never", 0, "::notice")])
def test_fail_on_decides_what_a_failed_verdict_does(example_repo: Path, tmp_path: Path, fail_on: str, code: int,
                                                    annotation: str | None,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    break_spec(example_repo)
    env = actions_env(tmp_path, example_repo, command="validate", fail_on=fail_on)
    assert main(env) == code
    out = capsys.readouterr().out
    assert "::error file=models/arrests/model.yaml,line=" in out
    if annotation:
        assert annotation in out
    assert outputs(tmp_path) == {"verdict": "fail"}


def test_usage_and_internal_errors_fail_whatever_fail_on_says() -> None:
    runtime = ActionsRuntime()
    assert apply_fail_on(2, "never", runtime) == 2
    assert apply_fail_on(3, "warn", runtime) == 3
    assert apply_fail_on(1, "never", runtime) == 0
    assert apply_fail_on(1, "never", runtime, errored=True) == 1


def test_an_error_is_not_a_verdict_fail_on_never_still_fails(example_repo: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    (example_repo / "data" / "arrests.csv").unlink()  # train cannot do its job: an error, not a verdict
    env = actions_env(tmp_path, example_repo, command="train", fail_on="never", models="arrests")
    assert main(env) == 1
    assert outputs(tmp_path).get("error") == "InputError"
    assert "::notice" not in capsys.readouterr().out


def test_the_token_is_masked_before_anything_is_printed(example_repo: Path, tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    env = actions_env(tmp_path, example_repo, command="validate")
    env["GITHUB_TOKEN"] = "ghs_secret123"
    assert main(env) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == "::add-mask::ghs_secret123"
    assert out.count("ghs_secret123") == 1


def test_outputs_written_reads_both_forms_and_skips_heredoc_bodies(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.write_text("old=1\n")
    offset = out.stat().st_size
    with out.open("a") as fh:
        fh.write("matrix<<EOF\nverdict=not-a-name-here\nEOF\nversions=[]\n")
    assert outputs_written(out, offset) == {"matrix", "versions"}
    assert outputs_written(out, 0) == {"old", "matrix", "versions"}
    assert outputs_written(None, 0) == set()


# --- bootstrap ------------------------------------------------------------------------------------------

def test_unsupported_runners_are_named() -> None:
    assert bootstrap.unsupported((3, 12, 1), "Linux") == ""
    assert bootstrap.unsupported((3, 10, 0), "Linux") == ""
    assert "Python >= 3.10" in bootstrap.unsupported((3, 9, 18), "Linux")
    assert "actions/setup-python" in bootstrap.unsupported((3, 8, 0), "Linux")
    assert "Linux runners only" in bootstrap.unsupported((3, 12, 0), "Windows")
    assert "Darwin" in bootstrap.unsupported((3, 12, 0), "Darwin")


@pytest.mark.skipif(not OLD_PYTHONS, reason="no Python older than 3.10 installed")
def test_an_old_python_gets_a_clear_error_not_a_syntax_error(tmp_path: Path) -> None:
    python = OLD_PYTHONS[0]
    done = subprocess.run([str(python), "-I", str(BOOTSTRAP)], capture_output=True, text=True, timeout=60,
                          env={"RUNNER_TEMP": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert done.returncode == 1
    assert done.stdout.startswith("::error title=mlops-actions setup::mlops-actions needs Python >= 3.10")


def test_a_prebuilt_interpreter_is_used_as_is(tmp_path: Path) -> None:
    (tmp_path / "out").touch()
    env = {"MLOPS_ACTIONS_PYTHON": sys.executable, "GITHUB_OUTPUT": str(tmp_path / "out"),
           "RUNNER_TEMP": str(tmp_path), "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-I", str(BOOTSTRAP)], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "out").read_text() == f"python={sys.executable}\n"
    assert not (tmp_path / "mlops-actions").exists()  # nothing installed


def test_a_prebuilt_interpreter_without_the_dependencies_is_refused(tmp_path: Path) -> None:
    bare = tmp_path / "bare"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(bare)], check=True, timeout=120)
    env = {"MLOPS_ACTIONS_PYTHON": str(bare / "bin" / "python"), "RUNNER_TEMP": str(tmp_path), "PATH": "/usr/bin"}
    done = subprocess.run([sys.executable, "-I", str(BOOTSTRAP)], capture_output=True, text=True, timeout=120,
                          env=env)
    assert done.returncode == 1
    assert "lacks PyGithub, ruamel.yaml" in done.stdout and "scikit-lego" in done.stdout


def test_the_venv_is_reused_while_its_marker_matches(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "bin" / "python").symlink_to(sys.executable)
    key = bootstrap.install_key(REPO, [], sys.version.split()[0])
    bootstrap.write_marker(venv, key, "0.1.0")
    assert bootstrap.ensure_venv(venv, REPO, []) == venv / "bin" / "python"
    assert "reusing" in capsys.readouterr().err
    assert bootstrap.install_key(REPO, ["--no-index"], sys.version.split()[0]) != key


def test_a_stale_venv_is_rebuilt_with_the_pip_arguments_given(tmp_path: Path) -> None:
    """A marker for other pip arguments forces a fresh venv; pip gets our arguments (here: --help, offline)."""
    venv = tmp_path / "venv"
    (venv / "bin").mkdir(parents=True)
    (venv / "stale-file").write_text("from an older install")
    bootstrap.write_marker(venv, "another-key", "0.0.1")
    python = bootstrap.ensure_venv(venv, REPO, ["--help"])
    assert python.exists() and not (venv / "stale-file").exists()
    record = json.loads((venv / bootstrap.MARKER).read_text())
    assert record["key"] == bootstrap.install_key(REPO, ["--help"], sys.version.split()[0])
    assert record["version"] == bootstrap.package_version(REPO)
