"""The emulator's public API is what docs/testing.md documents: the page's example runs, every method it names
exists, and `mlops-actions demo` (a user of the emulator like any other) uses nothing else."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

from mlops_actions.testing import github_emulator
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import REPO

ROOT = REPO
PAGE = ROOT / "docs" / "testing.md"
DEMO = ROOT / "mlops_actions" / "commands" / "demo.py"
PACKAGE = "mlops_actions.testing.github_emulator"


def _documented() -> set[str]:
    """The emulator members the page names: `name(` in its text, plus its two properties."""
    return set(re.findall(r"`(\w+)\(", PAGE.read_text(encoding="utf-8"))) | {"url", "requests"}


def test_the_pages_example_runs(tmp_path: Path) -> None:
    example = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), re.S)[-1]
    script = tmp_path / "example.py"
    script.write_text(example, encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip() == "ok"


def test_every_documented_member_exists_and_is_public() -> None:
    documented = _documented() - {"Github"} - set(github_emulator.__all__)  # classes the package exports
    assert {"add_pull", "add_review", "add_team_member", "push", "merge", "add_fault", "pull", "comments"} <= documented
    missing = sorted(n for n in documented if n.startswith("_") or not hasattr(GitHubEmulator, n))
    assert not missing, f"docs/testing.md names emulator members that do not exist: {missing}"


def _emulator_attributes(tree: ast.AST) -> set[str]:
    """Attributes read on the emulator in the demo: ``gh.X`` and ``<anything>.gh.X``."""
    found = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Attribute):
            continue
        owner = node.value
        if (isinstance(owner, ast.Name) and owner.id == "gh") or (isinstance(owner, ast.Attribute)
                                                                    and owner.attr == "gh"):
            found.add(node.attr)
    return found


def test_demo_uses_only_the_emulators_public_api() -> None:
    source = DEMO.read_text(encoding="utf-8")
    tree = ast.parse(source)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(PACKAGE):
            assert node.module == PACKAGE, f"demo imports the emulator's internal module {node.module}"
            names = {alias.name for alias in node.names}
            assert names <= set(github_emulator.__all__), names
    used = _emulator_attributes(tree)
    assert {"add_pull", "push", "merge", "comments"} <= used  # the walk does find the demo's calls
    assert used <= _documented(), f"demo uses undocumented emulator members: {sorted(used - _documented())}"
    assert "type: ignore" not in source


def test_the_check_would_catch_a_demo_reaching_into_the_state() -> None:
    sneaky = ast.parse("def f(story):\n    story.gh.state.pulls[1].head_sha = 'x'\n")
    assert "state" in _emulator_attributes(sneaky) - _documented()
