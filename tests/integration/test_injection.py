"""Injection through names and values a pull request controls, kept out end to end: group values and column
names (data) into the comment, spec text into annotations, branch names and inputs into the shell.

The unit tests of the escaping helpers are in test_escaping.py and test_actions_runtime.py; these run the real
commands (train, report, validate, the action's own run step under bash) on hostile input."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit import REPO
from testkit.reportkit import assert_safe_markdown

GROUPS = {"White": "<img src=x onerror=alert(1)>", "Black": "@octocat [x](javascript:alert(1)) | pipe |"}
COLUMN = "sex<b>|@ghost"


def _hostile_data(root: Path) -> None:
    """Group values and a sensitive column name a PR author chose, written through the csv module."""
    path = root / "data" / "arrests.csv"
    with path.open(newline="") as fh:
        rows = list(csv.reader(fh))
    header = [COLUMN if c == "sex" else c for c in rows[0]]
    colour = header.index("colour")
    body = [[GROUPS.get(v, v) if i == colour else v for i, v in enumerate(r)] for r in rows[1:]]
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows([header, *body])
    spec = root / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("sensitive: [colour, sex]", f"sensitive: [colour, '{COLUMN}']"))


def test_hostile_groups_and_columns_stay_inert_in_the_comment_and_summary(example_repo: Path, tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]
                                                                          ) -> None:
    _hostile_data(example_repo)
    assert main(["-C", str(example_repo), "train", "arrests"]) == 0
    capsys.readouterr()
    for variant in ([], ["--summary"]):
        main(["-C", str(example_repo), "report", *variant])
        text = capsys.readouterr().out
        assert "octocat" in text and "img src" in text.replace("&lt;", "<")  # shown as text, not dropped
        assert_safe_markdown(text)


def test_a_hostile_spec_value_cannot_forge_a_workflow_command(example_repo: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    """A value quoted in a validate annotation: its line breaks are escaped, so no second command starts."""
    spec = example_repo / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace("task: classification",
                                             'task: "x\\n::set-output name=verdict::pass\\r\\n::add-mask::y"'))
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "GITHUB_ACTIONS": "true"}
    assert main(["-C", str(example_repo), "validate", "--format", "github"], env=env) == 1
    lines = capsys.readouterr().out.splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert commands and all(line.startswith(("::error ", "::warning ", "::notice ")) for line in commands)
    assert any("%0A::set-output" in line for line in commands)


RUN_STEP = 'cd "$MLOPS_ACTION_PATH" && "$MLOPS_ACTIONS_INTERPRETER" -m mlops_actions.action'
HOSTILE_INPUTS = {"MLOPS_BASE_REF": "$(touch pwned-base)", "MLOPS_MODELS": "`touch pwned-models`",
                  "MLOPS_WORKING_DIRECTORY": ". ; touch pwned-dir", "GITHUB_HEAD_REF": "x\"; touch pwned-ref; \""}


def test_the_action_run_step_hands_hostile_inputs_to_python_not_to_the_shell(example_repo: Path,
                                                                            tmp_path: Path) -> None:
    """The run step of action.yml, executed by bash as the runner does, with inputs a PR could shape."""
    from ruamel.yaml import YAML

    action = YAML(typ="safe").load((REPO / "action.yml").read_text())
    run = next(s for s in action["runs"]["steps"] if s.get("id") == "run")["run"]
    assert run.strip() == RUN_STEP  # the test below runs exactly what the action runs
    env = {"PATH": os.environ["PATH"], "HOME": os.environ["HOME"], "MLOPS_ACTION_PATH": str(REPO),
           "MLOPS_ACTIONS_INTERPRETER": sys.executable, "MLOPS_COMMAND": "plan", "GITHUB_WORKSPACE": str(example_repo),
           "RUNNER_TEMP": str(tmp_path), **HOSTILE_INPUTS}
    proc = subprocess.run(["bash", "-c", run], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert proc.returncode in (1, 2), proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for folder in (tmp_path, example_repo, REPO):
        assert not list(folder.glob("pwned*")), folder


def test_only_lines_we_built_can_act_as_workflow_commands() -> None:
    from mlops_actions.actions_runtime import inert, workflow_command

    ours = workflow_command("error", "x\n::add-mask::y", file="a.yaml")
    assert inert(ours) == ours and inert("::endgroup::") == "::endgroup::"
    for forged in ("::add-mask::y", "  ::stop-commands::t", "::set-output name=verdict::pass"):
        assert not inert(forged).lstrip().startswith("::") and forged.strip()[2:] in inert(forged)
    assert inert("a line :: with colons") == "a line :: with colons"
