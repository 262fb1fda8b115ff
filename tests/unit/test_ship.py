"""``ship``'s pieces that need no GitHub: the event it reads, the command it runs, what it reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.commands.ship import Requested, requested
from mlops_actions.errors import UsageError
from mlops_actions.mlflow_bridge.shipping import command_env, run_command
from mlops_actions.reporting.deploy import failure_summary


def test_the_event_names_the_version_and_environment() -> None:
    event = {"deployment": {"id": 7, "ref": "arrests@v3", "environment": "production", "payload": {"model": "x"}}}
    wanted = requested(event)
    assert wanted == Requested(7, "arrests@v3", "arrests", "v3", "production", {"model": "x"})


def test_a_deployment_of_a_branch_is_not_ours() -> None:
    assert requested({"deployment": {"id": 7, "ref": "main", "environment": "production"}}) is None


def test_another_event_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="the `deployment` event"):
        requested({"pull_request": {}})


def test_the_command_gets_the_values_in_its_environment_never_in_its_text(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    url = tmp_path / "url"
    env = command_env({"PATH": "/usr/bin:/bin"}, {"model": "a'; rm -rf /", "environment_url_file": str(url)})
    outcome = run_command('printf "%s\\n" "$MLOPS_MODEL"; echo https://x.example/a > "$MLOPS_ENVIRONMENT_URL_FILE"',
                          cwd=tmp_path, env=env, url_file=url)
    assert outcome.code == 0 and outcome.tail == ("a'; rm -rf /",)
    assert outcome.environment_url == "https://x.example/a"
    assert "a'; rm -rf /" in capsys.readouterr().out  # echoed as it ran


def test_a_failing_command_keeps_its_last_lines(tmp_path: Path) -> None:
    outcome = run_command("for i in $(seq 1 30); do echo line $i; done; echo oops >&2; exit 4", cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin"}, url_file=tmp_path / "none", tail=5)
    assert outcome.code == 4
    assert outcome.tail == ("line 27", "line 28", "line 29", "line 30", "oops")
    assert outcome.last_line == "oops"


def test_a_url_that_is_not_http_is_ignored(tmp_path: Path) -> None:
    url = tmp_path / "url"
    outcome = run_command(f"echo 'javascript:alert(1)' > {url}", cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                          url_file=url)
    assert outcome.environment_url == ""


def test_the_summary_fence_cannot_be_closed_by_the_output() -> None:
    wanted = Requested(1, "m@v1", "m", "v1", "prod", {})
    text = failure_summary(wanted.tag, wanted.environment, 2, ("```", "````` still inside", "<b>x</b>"))
    fence = "`" * 6
    assert f"{fence}text\n```\n````` still inside\n<b>x</b>\n{fence}\n" in text


def test_the_action_installs_the_mlflow_extra_when_a_command_needs_it(tmp_path: Path) -> None:
    from mlops_actions.action.bootstrap import extras

    base = {"GITHUB_WORKSPACE": str(tmp_path), "MLOPS_WORKING_DIRECTORY": "."}
    assert extras(base) == ""
    assert extras({**base, "MLOPS_COMMAND": "ship"}) == "mlflow"
    assert extras({**base, "MLOPS_COMMAND": "train"}) == ""
    assert extras({**base, "MLFLOW_TRACKING_URI": "http://mlflow.example"}) == "mlflow"
    (tmp_path / "mlops.yaml").write_text("environments:\n  - name: production\nmlflow:\n  required: true\n")
    assert extras(base) == "mlflow"
