"""Meta tests: the README's two commands, .ci/run, help texts, schema quality, packaging, example data."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from mlops_actions.cli import build_parser
from mlops_actions.convention.schemas import validator
from mlops_actions.resources import schema_names
from testkit import EXAMPLE, REPO


def readme_commands() -> list[str]:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    block = re.search(r"```bash\n(.*?)```", text, re.S)
    assert block, "README must start with a ```bash block of two commands"
    return [line for line in block.group(1).splitlines() if line.strip()]


def test_readme_has_exactly_two_commands_first() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert text.index("```bash") < text.index("##"), "the two commands come before any section"
    commands = readme_commands()
    assert len(commands) == 2
    assert "mlops-actions" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command() -> None:
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    assert readme_commands()[1] in ci.splitlines()


def test_ci_treats_no_tests_collected_as_failure(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / ".ci").mkdir(parents=True)
    shutil.copy(REPO / ".ci" / "run", project / ".ci" / "run")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    # python3 -m venv .venv creates a venv whose python exits 5 for "-m pytest", like pytest collecting nothing.
    python3 = fake_bin / "python3"
    python3.write_text("#!/bin/sh\nmkdir -p .venv/bin\nprintf '#!/bin/sh\\nexit 0\\n' > .venv/bin/pip\n"
                       "printf '#!/bin/sh\\nexit 5\\n' > .venv/bin/python\nchmod +x .venv/bin/pip .venv/bin/python\n")
    python3.chmod(0o755)
    env = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", str(project / ".ci" / "run")], capture_output=True, text=True, env=env)
    assert result.returncode == 1
    assert "no tests" in result.stderr


def _walk(parser: argparse.ArgumentParser, prog: str):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield f"{prog} {name}", "(command)", helps.get(name)
                yield from _walk(sub, f"{prog} {name}")
        elif not isinstance(action, argparse._HelpAction):
            yield prog, action.dest, action.help


def test_every_command_and_argument_has_help() -> None:
    missing = [(prog, dest) for prog, dest, text in _walk(build_parser(), "mlops-actions") if not text]
    assert missing == []


@pytest.mark.parametrize("name", schema_names())
def test_schema_quality(name: str) -> None:
    schema = json.loads((REPO / "schemas" / f"{name}.schema.json").read_text())
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"].endswith(f"/{name}.schema.json") and schema["title"] and schema["examples"]
    for example in schema["examples"]:
        errors = list(validator(name).iter_errors(example))
        assert errors == [], [e.message for e in errors]
    assert _undescribed(schema) == []


def _undescribed(node: object, path: str = "$") -> list[str]:
    found: list[str] = []
    if isinstance(node, dict):
        for key, sub in node.get("properties", {}).items():
            if "description" not in sub:
                found.append(f"{path}.{key}")
        for key, sub in node.items():
            found.extend(_undescribed(sub, f"{path}/{key}"))
    elif isinstance(node, list):
        for i, sub in enumerate(node):
            found.extend(_undescribed(sub, f"{path}[{i}]"))
    return found


def test_wheel_ships_schemas_and_templates_from_one_source(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                             "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    wheel = next(tmp_path.glob("mlops_actions-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for name in schema_names():
        assert f"mlops_actions/_data/schemas/{name}.schema.json" in names
    assert not (REPO / "mlops_actions" / "_data").exists(), "no hand-kept copies inside the package"


def test_example_data_is_scikit_legos_arrests() -> None:
    from sklego.datasets import load_arrests

    expected = load_arrests(as_frame=True).to_csv(index=False, lineterminator="\n")
    assert (EXAMPLE / "data" / "arrests.csv").read_text(encoding="utf-8") == expected


def test_python_dash_m_works() -> None:
    result = subprocess.run([sys.executable, "-m", "mlops_actions", "--version"], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.startswith("mlops-actions ")


def test_usage_error_exits_2() -> None:
    result = subprocess.run([sys.executable, "-m", "mlops_actions", "no-such-command"], capture_output=True, text=True)
    assert result.returncode == 2 and "Traceback" not in result.stderr


def test_the_code_is_ruff_clean() -> None:
    """The lint CI runs, enforced where CI runs the tests (.ci/run) too."""
    ruff = Path(sys.executable).parent / "ruff"
    if not ruff.exists():
        pytest.skip("ruff is not installed next to this Python (pip install -e '.[test]')")
    result = subprocess.run([str(ruff), "check", "--no-cache", "."], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
