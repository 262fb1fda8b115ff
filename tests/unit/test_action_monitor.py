"""The action's monitor and refresh: --publish whenever there is a token; monitor's flags over several models."""

from __future__ import annotations

from pathlib import Path

from mlops_actions.action.entry import ActionInputs, invocations, output_values, read_inputs, run_action
from mlops_actions.actions_runtime import ActionsRuntime


def _env(tmp_path: Path, command: str, **extra: str) -> dict[str, str]:
    return {"MLOPS_COMMAND": command, "MLOPS_MODELS": "a b", "GITHUB_WORKSPACE": str(tmp_path),
            "MLOPS_CURRENT_DATA": "live.csv", "MLOPS_RESULTS_DIR": str(tmp_path / "res"), **extra}


def test_monitor_and_refresh_publish_with_a_token(tmp_path: Path) -> None:
    c = ["-C", str(tmp_path)]
    monitor = invocations(read_inputs(_env(tmp_path, "monitor", GITHUB_TOKEN="t", MLOPS_ENVIRONMENT="prod")))
    assert monitor == [[*c, "monitor", "--current", str(tmp_path / "live.csv"), "--env", "prod", "--publish",
                        "--", m] for m in ("a", "b")]
    refresh = invocations(read_inputs(_env(tmp_path, "refresh", GITHUB_TOKEN="t")))
    assert refresh == [[*c, "refresh", "--publish", "--skip-unpinned", "--", m] for m in ("a", "b")]


def test_without_a_token_they_only_report(tmp_path: Path) -> None:
    for command in ("monitor", "refresh"):
        for argv in invocations(read_inputs(_env(tmp_path, command, GITHUB_TOKEN=" "))):
            assert "--publish" not in argv


def test_monitor_flags_are_true_when_any_model_says_so(tmp_path: Path) -> None:
    output = tmp_path / "output.txt"
    runtime = ActionsRuntime.from_env({"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(output)})
    answers = {"a": ("true", "true"), "b": ("false", "false")}

    def cli(argv: list[str]) -> int:
        drift, retrain = answers[argv[-1]]
        runtime.set_output("drift", drift)
        runtime.set_output("retrain", retrain)
        return 1 if drift == "true" else 0

    inputs = ActionInputs("monitor", tmp_path, tmp_path / "res", models=("a", "b"), current_data="x.csv",
                          fail_on="never")
    assert run_action(inputs, runtime, cli) == 0
    values = output_values(output, 0)
    assert values["drift"][-1] == "true" and values["retrain"][-1] == "true"
    assert values["verdict"] == ["fail"]


def test_output_values_reads_both_forms(tmp_path: Path) -> None:
    output = tmp_path / "output.txt"
    output.write_text("a=1\nb<<EOF\nx\ny\nEOF\na=2\n")
    assert output_values(output, 0) == {"a": ["1", "2"], "b": ["x\ny"]}
