"""``run``: plan + train every planned model; a failing model does not stop the others; a model whose
registered version matches its fingerprint is not retrained."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit import CASES as ALL_CASES
from testkit import git

CASES = ALL_CASES / "data"


def _add_broken_model(root: Path) -> None:
    """A second model whose data holds text in a numeric column."""
    shutil.copytree(CASES / "_base" / "models" / "m", root / "models" / "broken")
    spec = root / "models" / "broken" / "model.yaml"
    spec.write_text(spec.read_text().replace("name: m", "name: broken").replace("data/m.csv", "data/broken.csv"))
    shutil.copy(CASES / "numeric-holds-text" / "files" / "data" / "m.csv", root / "data" / "broken.csv")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "add broken")


def test_run_trains_every_planned_model_and_reports_failures(example_repo: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    _add_broken_model(example_repo)
    assert main(["-C", str(example_repo), "run", "--out", "out"]) == 1
    captured = capsys.readouterr()
    assert "error: broken: data/broken.csv:4: column 'age' is declared numeric" in captured.err
    assert "run: trained 1 of 2 planned model(s); failed: broken" in captured.out
    assert sorted(p.name for p in (example_repo / "out").iterdir()) == ["arrests"]
    assert (example_repo / "out" / "arrests" / "model.skops").is_file()


def test_run_skips_a_model_whose_version_matches(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(example_repo), "train", "arrests", "--out", "out"]) == 0
    record = json.loads((example_repo / "out" / "arrests" / "record.json").read_text())
    record["version"] = "v1"
    git(example_repo, "tag", "-a", "arrests@v1", "-m", json.dumps(record, sort_keys=True))
    shutil.rmtree(example_repo / "out")
    capsys.readouterr()
    assert main(["-C", str(example_repo), "run", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert "run: trained 0 of 0 planned model(s)" in out
    assert not (example_repo / "out").exists()
