"""Data-driven bad-input cases for ``train``: tests/cases/data/<case>/files overlays the _base repository;
expected.txt holds the exit code and, per expected message, ``place: message fragment``.

Each case runs the CLI in-process (scikit-learn is imported once for all cases) in a real git repository,
and checks: the exit code, the message with its place and a hint (what to do), no traceback, and nothing left in
the output folder.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit import CASES as ALL_CASES
from testkit import casekit, git
from testkit.casekit import case_names, overlay_case

CASES = ALL_CASES / "data"
NAMES = case_names(CASES)


def build_case(name: str, tmp_path: Path) -> Path:
    """The case's repository, committed (training reads data through git)."""
    root = overlay_case(CASES, name, tmp_path)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "case")
    return root


def expectations(name: str) -> tuple[int, list[str]]:
    return casekit.expectations(CASES, name)


def test_there_are_cases() -> None:
    assert len(NAMES) >= 25


def test_base_trains(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The base repository of the cases is valid: each case breaks exactly one thing."""
    root = build_case("_base", tmp_path)
    assert main(["-C", str(root), "train", "m", "--out", "out"]) == 0
    assert sorted(p.name for p in (root / "out" / "m").iterdir()) == [
        "evaluation.json", "fairness.json", "metrics.json", "model.skops", "predictions.parquet", "record.json"]


@pytest.mark.parametrize("name", NAMES)
def test_case(name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = build_case(name, tmp_path)
    exit_code, expected = expectations(name)
    code = main(["-C", str(root), "train", "m", "--out", "out"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert code == exit_code, err
    assert not (root / "out").exists(), "a failed training left output behind"
    errors = _messages(err)
    assert errors and "\n  hint: " in err, f"the error says nothing of what to do:\n{err}"
    for item in expected:
        place, fragment = item.split(": ", 1)
        assert any(m.startswith(place + ":") and fragment in m for m in errors), f"expected {item!r} in:\n{err}"


def _messages(err: str) -> list[str]:
    """Each error (and each "also" problem) with its hint lines joined: ``place: message hint: ...``."""
    messages: list[str] = []
    for line in err.splitlines():
        if line.startswith(("error: ", "  also ")):
            messages.append(line.removeprefix("error: ").removeprefix("  also "))
        elif line.startswith("  hint: ") and messages:
            messages[-1] += " " + line.strip()
    return messages
