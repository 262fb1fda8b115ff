"""The README's main command: `mlops-actions demo` tells the whole story offline."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest


@pytest.mark.slow
def test_demo_runs_the_whole_story(tmp_path: Path) -> None:
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "mlops_actions", "demo", "--keep", str(tmp_path / "demo")],
                            capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - start
    out = result.stdout
    assert result.returncode == 0, out[-3000:] + result.stderr[-3000:]
    assert "Traceback" not in out + result.stderr
    assert "report comment created on pull request #1" in out
    assert "report comment updated on pull request #1" in out
    # the report's warning and refusal are about the example's real numbers
    assert ("the comment says: ⚠️ warn demographic_parity_difference (max 0.25): 0.348711 is above the maximum "
            "0.25") in out
    assert "the comment says: ❌ fail balanced_accuracy (min 0.65): 0.515106 is below the minimum 0.65" in out
    assert "PR #1 has 1 mlops-actions comment(s)" in out
    for model in ("arrests", "arrests-gbm", "arrests-np"):  # declarative, pipeline factory, command
        assert f"registered {model}@v1" in out
        assert f"deployed {model}@v1 to production" in out
    assert '"version": "v1"' in out  # the record printed from the tag
    assert "deployed arrests@v1 to staging" in out
    assert "deploy refused; no deployment was created" in out
    assert "rule 'required approvals': 1 of 2" in out
    assert "deployed arrests@v1 to production" in out
    assert elapsed < 60
    repo = tmp_path / "demo"
    tags = subprocess.run(["git", "tag", "--list"], cwd=repo, capture_output=True, text=True).stdout.split()
    # the three versions (declarative, pipeline factory, command), and the governance in force
    assert tags == ["arrests-gbm@v1", "arrests-np@v1", "arrests@v1", "mlops-policy@v1"]


def test_demo_refuses_a_non_empty_keep_folder(tmp_path: Path) -> None:
    (tmp_path / "x").write_text("mine")
    result = subprocess.run([sys.executable, "-m", "mlops_actions", "demo", "--keep", str(tmp_path)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "is not empty" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "x").read_text() == "mine"


def test_without_lightgbm_the_factory_model_is_left_out(tmp_path: Path, monkeypatch, capsys) -> None:
    import importlib.util

    from mlops_actions.commands import demo

    (tmp_path / "models" / "arrests-gbm").mkdir(parents=True)
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "lightgbm" else real(name, *a))
    assert demo._available_models(tmp_path) == ("arrests", "arrests-np")
    assert not (tmp_path / "models" / "arrests-gbm").exists() and "pip install lightgbm" in capsys.readouterr().out
