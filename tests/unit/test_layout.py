"""The tests' own order: three folders, helpers imported from ``testkit`` (never ``conftest``), markers
registered, and the README's test command (the one .ci/run runs) collecting all three folders."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from testkit import REPO, TESTS

FOLDERS = ("unit", "integration", "e2e")
OLD_HELPERS = {"conftest", "actkit", "casekit", "govkit", "reportkit", "github_helpers", "realdata", "repro_matrix"}


def _test_files() -> list[Path]:
    return sorted(p for p in TESTS.rglob("test_*.py") if "cases" not in p.relative_to(TESTS).parts)


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_helpers_come_from_testkit_not_conftest_or_another_test_module() -> None:
    wrong = {}
    for path in [*_test_files(), *sorted((TESTS / "testkit").glob("*.py"))]:
        bad = sorted(m for m in _imported(path) if m.split(".")[0] in OLD_HELPERS or m.startswith("tests.")
                     or m.split(".")[0].startswith("test_"))
        if bad:
            wrong[str(path.relative_to(TESTS))] = bad
    assert not wrong, (
        f"import shared helpers from testkit (tests/testkit/), not conftest or a test module: {wrong}. "
        "`from conftest import X` becomes `from testkit import X`; `from actkit import X` becomes "
        "`from testkit.actkit import X` (likewise casekit, govkit, reportkit, github_helpers, realdata); a helper "
        "or fixture another test file needs moves to a testkit module")


def test_paths_come_from_testkit_not_the_test_files_place() -> None:
    """``Path(__file__).parents[1]`` is the repository at the top of tests/ and tests/ one folder down: a file
    moved between folders would read the wrong place. testkit's REPO, EXAMPLE, CASES, FIXTURES, SNAPSHOTS hold."""
    placed = [str(p.relative_to(TESTS)) for p in _test_files()
              if any(isinstance(node, ast.Name) and node.id == "__file__"
                     for node in ast.walk(ast.parse(p.read_text(encoding="utf-8"))))]
    assert not placed, f"use testkit's REPO, TESTS, CASES, FIXTURES or SNAPSHOTS instead of Path(__file__): {placed}"


def test_every_test_file_is_in_one_of_the_three_folders() -> None:
    top = [p.name for p in _test_files() if p.parent == TESTS]
    stray = [str(p.relative_to(TESTS)) for p in _test_files() if p.parent != TESTS and p.parent.name not in FOLDERS]
    assert not stray, f"test files belong in tests/unit, tests/integration or tests/e2e: {stray}"
    # Files at the top still run (the root conftest registers the plugin for them); they are moved on merge.
    assert all(name.startswith("test_") for name in top)


def test_pytest_config_runs_all_three_folders_with_strict_markers(pytestconfig: pytest.Config) -> None:
    assert pytestconfig.inipath == REPO / "pyproject.toml"
    assert pytestconfig.getini("testpaths") == ["tests"]
    assert all((TESTS / folder).is_dir() for folder in FOLDERS)
    assert "--strict-markers" in pytestconfig.getini("addopts")
    assert {m.split(":")[0] for m in pytestconfig.getini("markers")} >= {"e2e", "slow"}
    assert [Path(p) for p in pytestconfig.getini("pythonpath")] == [TESTS]


def test_the_folders_have_no_init_and_unique_basenames() -> None:
    """Without ``__init__.py`` pytest imports a test file by its basename: two with the same name would clash."""
    names = [p.name for p in _test_files()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)
    assert not any((TESTS / folder / "__init__.py").exists() for folder in FOLDERS)
