"""The action's side of scale: fetch and max-jobs inputs become command lines; extras and dvc are installed."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.action.bootstrap import SetupError, install_targets
from mlops_actions.action.entry import invocations, read_inputs
from mlops_actions.errors import UsageError


def _inputs(tmp_path: Path, **env: str):
    return read_inputs({"GITHUB_WORKSPACE": str(tmp_path), "RUNNER_TEMP": str(tmp_path), **env})


def test_fetch_runs_once_per_model_of_a_batch(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, MLOPS_COMMAND="fetch", MLOPS_MODELS="store-0001 store-0002")
    assert [line[2:] for line in invocations(inputs)] == [["fetch", "--", "store-0001"], ["fetch", "--", "store-0002"]]


def test_max_jobs_reaches_plan_and_is_checked(tmp_path: Path) -> None:
    inputs = _inputs(tmp_path, MLOPS_COMMAND="plan", MLOPS_MAX_JOBS="128")
    assert invocations(inputs)[0][-2:] == ["--max-jobs", "128"]
    for bad in ("0", "300", "lots"):
        with pytest.raises(UsageError, match="input 'max-jobs'"):
            _inputs(tmp_path, MLOPS_COMMAND="plan", MLOPS_MAX_JOBS=bad)


def test_extras_and_dvc_are_installed_with_the_action(tmp_path: Path) -> None:
    assert install_targets({}, tmp_path) == [str(tmp_path)]
    assert install_targets({"MLOPS_ACTIONS_EXTRAS": "cloud", "MLOPS_ACTIONS_DVC": "dvc[s3]>=3.50"}, tmp_path) == \
        [f"{tmp_path}[cloud]", "dvc[s3]>=3.50"]
    with pytest.raises(SetupError, match="unknown extra"):
        install_targets({"MLOPS_ACTIONS_EXTRAS": "cloud, gpu"}, tmp_path)
    with pytest.raises(SetupError, match="is not a DVC requirement"):
        install_targets({"MLOPS_ACTIONS_DVC": "dvc; rm -rf /"}, tmp_path)
