"""Typed seams: mypy passes on the package (lenient everywhere, mypy --strict's checks on the domain packages:
see [tool.mypy] in pyproject.toml), the package says it is typed, and the GitHub port is what GitHubRepo is."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions.github.port import GitHubPort
from mlops_actions.github.repo import GitHubRepo
from testkit import REPO

ROOT = REPO


@pytest.mark.slow
def test_mypy_passes() -> None:
    done = subprocess.run([sys.executable, "-m", "mypy", "--no-error-summary"], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_package_ships_its_types() -> None:
    assert (ROOT / "mlops_actions" / "py.typed").is_file()


def test_github_repo_has_every_member_of_the_port_with_its_signature() -> None:
    members = [n for n in dir(GitHubPort) if not n.startswith("_") and n not in dir(object)]
    assert {"upsert_comment", "create_annotated_tag", "reviews", "create_deployment"} <= set(members)
    for name in (n for n in members if n != "context"):  # context: an attribute set in GitHubRepo.__init__
        ours, port = getattr(GitHubRepo, name), getattr(GitHubPort, name)
        if isinstance(port, property):
            assert isinstance(ours, property), name
            continue
        assert _shape(ours) == _shape(port), name  # the types themselves: mypy checks them (port._implements)


def _shape(function: object) -> list[tuple[str, object, object]]:
    return [(p.name, p.kind, p.default) for p in inspect.signature(function).parameters.values()]


def test_the_default_results_folder_is_one_constant() -> None:
    """train writes, report and register read, init gitignores: one folder, named once (RESULTS_DIR)."""
    from mlops_actions.cli import build_parser
    from mlops_actions.convention.discovery import RESULTS_DIR

    parser = build_parser()
    assert parser.parse_args(["train", "m"]).out == Path(RESULTS_DIR)
    assert parser.parse_args(["report"]).results == Path(RESULTS_DIR)
    assert parser.parse_args(["register"]).results == Path(RESULTS_DIR)
    assert f'Path("{RESULTS_DIR}")' not in (ROOT / "mlops_actions" / "cli.py").read_text(encoding="utf-8")
    assert f"{RESULTS_DIR}/" in (ROOT / "templates" / "repo" / "gitignore").read_text(encoding="utf-8").split()
