"""Data-driven validate cases: tests/cases/validate/<case>/files overlays the _base repository;
expected.txt holds the exit code and, per expected problem, ``file:line:col: message fragment``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import casekit
import pytest
from casekit import case_names, overlay_case

CASES = Path(__file__).parent / "cases" / "validate"
NAMES = case_names(CASES)


def build_case(name: str, tmp_path: Path) -> Path:
    return overlay_case(CASES, name, tmp_path)


def expectations(name: str) -> tuple[int, list[str]]:
    return casekit.expectations(CASES, name)


def run_validate(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mlops_actions", "-C", str(root), "validate", *args],
                          capture_output=True, text=True, timeout=60)


def test_there_are_cases() -> None:
    assert len(NAMES) >= 40


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, tmp_path: Path) -> None:
    root = build_case(name, tmp_path)
    exit_code, expected = expectations(name)
    result = run_validate(root)
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
