"""The layers of docs/architecture.md hold: the import-linter contracts in .importlinter are kept by the
package, and they do fail on a tree with a deliberately wrong import (a function-local one, the kind that
hid the crossings before the contract existed)."""

from __future__ import annotations

import configparser
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from importlinter.cli import lint_imports

from testkit import REPO

ROOT = REPO
CONFIG = ROOT / ".importlinter"
LINT = Path(sys.executable).with_name("lint-imports")


def test_the_package_keeps_every_contract(capsys: pytest.CaptureFixture[str]) -> None:
    code = lint_imports(config_filename=str(CONFIG), no_cache=True, no_logo=True)
    out = capsys.readouterr().out
    assert code == 0, out
    assert "0 broken" in out


def _layer_packages() -> list[str]:
    """Every module the layers contract names, e.g. mlops_actions.commands."""
    parser = configparser.ConfigParser()
    parser.read(CONFIG)
    layers = parser["importlinter:contract:layers"]["layers"]
    return sorted({m.strip() for line in layers.splitlines() for m in re.split(r"[|:]", line) if m.strip()})


def _stub_tree(tmp_path: Path, wrong: str | None) -> Path:
    """A package named like ours with one empty module per layer (and the modules the contracts' exceptions
    name, importing what they are allowed to), optionally one module with ``wrong`` as a function-local
    import."""
    tree = tmp_path / "tree"
    (tree / "mlops_actions").mkdir(parents=True)
    (tree / "mlops_actions" / "__init__.py").write_text("")
    text = CONFIG.read_text()
    named = set(_layer_packages()) | set(re.findall(r"^\s+(mlops_actions\.[\w.]+) ->", text, re.M))
    named |= set(re.findall(r"-> (mlops_actions\.[\w.]+)$", text, re.M))
    named |= set(re.findall(r"^\s+(mlops_actions\.[\w.]+)$", text, re.M))  # the other contracts' modules
    for module in sorted(named):  # each one a package: simplest, and import-linter sees no difference
        parts = module.split(".")
        for i in range(2, len(parts) + 1):
            init = tree.joinpath(*parts[:i], "__init__.py")
            init.parent.mkdir(parents=True, exist_ok=True)
            init.touch()
    for importer, imported in re.findall(r"^\s+(mlops_actions\.[\w.]+) -> (mlops_actions\.[\w.]+)$", text, re.M):
        init = tree.joinpath(*importer.split("."), "__init__.py")  # the listed exceptions, so none is unmatched
        init.write_text(init.read_text() + f"import {imported}\n")
    (tree / "mlops_actions" / "github" / "__init__.py").write_text("import github\n")
    (tree / "github.py").write_text("")
    if wrong is not None:
        (tree / "mlops_actions" / "evaluation" / "sneaky.py").write_text(f"def load():\n    {wrong}\n")
    return tree


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT), "--config", str(CONFIG), "--no-cache"], cwd=tree, env=env,
                          capture_output=True, text=True, timeout=120)


def test_the_stub_tree_alone_keeps_the_contracts(tmp_path: Path) -> None:
    """The fixture is sound: without the wrong import every contract is kept."""
    done = _lint(_stub_tree(tmp_path, None))
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(("wrong", "says"), [
    ("from mlops_actions.commands import train",
     "mlops_actions.evaluation is not allowed to import mlops_actions.commands"),
    ("import mlops_actions.registry", "mlops_actions.evaluation is not allowed to import mlops_actions.registry"),
    ("import github", "mlops_actions.evaluation is not allowed to import github"),
    ("import tabulate", "mlops_actions.evaluation is not allowed to import tabulate"),
])
def test_a_wrong_function_local_import_breaks_the_contract(tmp_path: Path, wrong: str, says: str) -> None:
    done = _lint(_stub_tree(tmp_path, wrong))
    assert done.returncode == 1, done.stdout + done.stderr
    assert says in done.stdout
    assert "mlops_actions.evaluation.sneaky" in done.stdout
