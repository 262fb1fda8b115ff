"""Deeply nested YAML and JSON: a clear error with file and place, exit 1, never a crashed process.

libyaml's composer recurses in C with no guard (a 50,000-level document ended the process with SIGSEGV, exit
139) and Python's json raises RecursionError (an internal error); both are refused before they parse."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions import bounded
from mlops_actions.cli import main
from mlops_actions.convention.yamlio import compose, parse_text
from mlops_actions.errors import InputError
from mlops_actions.evaluation.results import read_json
from mlops_actions.github.env import read_event
from mlops_actions.registry.records import parse_record
from testkit import EXAMPLE

DEEP = 50_000
YAML_BOMBS = {
    "flow brackets": "name: " + "[" * DEEP + "]" * DEEP + "\n",
    "flow mappings": "name: " + "{a: " * DEEP + "1" + "}" * DEEP + "\n",
    "block sequences on one line": "name:\n" + "- " * DEEP + "x\n",
    "indented mappings": "name:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 400)) + " " * 400 + "x\n",
}


@pytest.mark.parametrize("case", sorted(YAML_BOMBS))
def test_deep_yaml_is_a_problem_with_a_place(case: str) -> None:
    loaded = parse_text(YAML_BOMBS[case], "models/x/model.yaml")
    assert not loaded.ok
    problem = loaded.problems[0]
    assert problem.line is not None and problem.column is not None
    assert f"nested more than {bounded.MAX_NESTING} levels deep" in problem.message and "flatten it" in problem.message


def test_compose_refuses_deep_text_instead_of_crashing() -> None:
    with pytest.raises(ValueError, match="nested more than"):
        compose(YAML_BOMBS["flow brackets"])


def test_aliases_that_nest_without_nesting_the_text() -> None:
    lines = ["a0: &a0 [1]"] + [f"a{i}: &a{i} [*a{i - 1}]" for i in range(1, 120)]
    loaded = parse_text("\n".join(lines) + "\n", "mlops.yaml")
    assert not loaded.ok and "nested more than" in loaded.problems[0].message


def test_ordinary_nesting_is_fine() -> None:
    text = "a:\n" + "".join(" " * i + f"k{i}:\n" for i in range(1, 40)) + " " * 40 + "x\n"
    assert parse_text(text, "x.yaml").ok


def test_a_real_process_reports_a_50000_level_spec(tmp_path: Path) -> None:
    """The crash itself can only be seen from outside: run the CLI as its own process."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / "models" / "arrests" / "model.yaml").write_text(YAML_BOMBS["flow brackets"])
    (root / "environments" / "production.yaml").write_text("x:\n" + "- " * DEEP + "v1\n")
    proc = subprocess.run([sys.executable, "-m", "mlops_actions", "-C", str(root), "validate"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    assert "models/arrests/model.yaml:1:" in proc.stdout and "environments/production.yaml:2:" in proc.stdout
    assert "nested more than 100 levels deep" in proc.stdout and "Traceback" not in proc.stderr


def test_train_with_a_deep_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    (root / "mlops.yaml").write_text("approvals:\n" + "- " * DEEP + "x\n")
    assert main(["-C", str(root), "train", "arrests"]) == 1
    err = capsys.readouterr().err
    assert "mlops.yaml" in err and "Traceback" not in err and not (root / "mlops-out").exists()


# -- JSON -----------------------------------------------------------------------------------------------------

DEEP_JSON = '{"metrics": ' + "[" * DEEP + "]" * DEEP + "}"


def test_json_depth_scan_skips_brackets_in_strings() -> None:
    text = json.dumps({"a": "[" * 500, "b": [[1]]})
    assert bounded.loads(text) == {"a": "[" * 500, "b": [[1]]}


def test_deep_json_is_a_json_error_with_line_and_column() -> None:
    with pytest.raises(json.JSONDecodeError) as caught:
        bounded.loads("\n" + DEEP_JSON)
    assert (caught.value.lineno, caught.value.colno) == (2, 12 + bounded.MAX_NESTING)


def test_a_deep_results_file(tmp_path: Path) -> None:
    path = tmp_path / "metrics.json"
    path.write_text(DEEP_JSON)
    with pytest.raises(InputError) as caught:
        read_json(path, "mlops-out/arrests/metrics.json")
    assert str(caught.value.place) == "mlops-out/arrests/metrics.json:1:112"
    assert "nested more than" in caught.value.message


def test_a_deep_tag_record_is_a_reason_not_a_crash() -> None:
    record, problem = parse_record(DEEP_JSON, "arrests", 1)
    assert record is None and problem is not None and "line 1" in problem


def test_a_deep_or_huge_event_payload(tmp_path: Path) -> None:
    path = tmp_path / "event.json"
    path.write_text(DEEP_JSON)
    with pytest.raises(InputError, match="nested more than"):
        read_event(str(path))
    path.write_text('{"a": "' + "x" * (bounded.MAX_JSON_BYTES + 1) + '"}')
    with pytest.raises(InputError, match="at most"):
        read_event(str(path))
