"""Data-driven validate cases: tests/cases/validate/<case>/files overlays the _base repository;
expected.txt holds the exit code and, per expected problem, ``file:line:col: message fragment``.
Each case runs the CLI in this process (``main(argv, env=...)``); a few also run the real console script in its
own process, which must give the same exit code and output with no traceback."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from testkit import Ran, casekit
from testkit.casekit import VALIDATE, build_case, case_names, run_validate, run_validate_process

NAMES = case_names(VALIDATE)
SMOKE = ("valid-with-bom", "unknown-key")  # one valid repository, one with a problem


def expectations(name: str) -> tuple[int, list[str]]:
    return casekit.expectations(VALIDATE, name)


def test_there_are_cases() -> None:
    assert len(NAMES) >= 40


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, tmp_path: Path) -> None:
    root = build_case(name, tmp_path)
    exit_code, expected = expectations(name)
    _check(run_validate(root), exit_code, expected)


@pytest.mark.parametrize("name", SMOKE)
def test_case_through_the_console_script(name: str, tmp_path: Path) -> None:
    root = build_case(name, tmp_path)
    exit_code, expected = expectations(name)
    result = run_validate_process(root)
    _check(result, exit_code, expected)
    in_process = run_validate(root)
    assert (result.stdout, result.stderr) == (in_process.stdout, in_process.stderr)


def _check(result: Ran | subprocess.CompletedProcess[str], exit_code: int, expected: list[str]) -> None:
    assert "Traceback" not in result.stderr + result.stdout
    assert result.returncode == exit_code, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    for item in expected:
        place, _, fragment = _split(item)
        assert any(line.startswith(place) and fragment in line for line in lines), (
            f"expected {item!r} in:\n{result.stdout}")


def _split(item: str) -> tuple[str, str, str]:
    """``file:line:col: fragment`` → (``file:line:col:`` prefix, ``:``, fragment); place may be partial."""
    parts = item.split(": ", 1)
    place = parts[0] if parts[0].endswith(":") else parts[0] + ":"
    fragment = parts[1] if len(parts) > 1 else ""
    return place, ":", fragment
