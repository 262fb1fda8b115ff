"""Thousands of models: plan batches the models to train into at most --max-jobs matrix entries (GitHub runs at
most 256 jobs per matrix), balanced by expected cost (data size); every model lands in exactly one job."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.training.batches import PER_MODEL_COST, balance, data_costs

MODELS = 5000
SPEC = """name: {name}
task: classification
data:
  path: data/{name}.csv
  format: csv
  target: y
  features:
    a: numeric
split:
  seed: 1
  test_fraction: 0.25
estimator:
  class: sklearn.linear_model.LogisticRegression
metrics:
  accuracy: higher
"""


def _size(i: int) -> int:
    return 200 + (i * 7919) % 20_000  # data from 200 bytes to 20 kB, in no particular order


@pytest.fixture(scope="module")
def big_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository of 5,000 models, each with its own data file; none registered, so all need training."""
    root = tmp_path_factory.mktemp("many") / "repo"
    (root / "data").mkdir(parents=True)
    for i in range(MODELS):
        name = f"store-{i:04d}"
        (root / "models" / name).mkdir(parents=True)
        (root / "models" / name / "model.yaml").write_text(SPEC.format(name=name))
        (root / "data" / f"{name}.csv").write_text("a,y\n" + "1,0\n" * (_size(i) // 4))
    import subprocess

    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "HOME": str(root.parent), "PATH": "/usr/bin:/bin"}
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "5,000 models"]):
        subprocess.run(["git", *args], cwd=root, check=True, env=env)
    return root


@pytest.fixture(scope="module")
def big_plans(big_repo: Path) -> list:
    from mlops_actions.commands.plan import compute_plan

    return compute_plan(big_repo, None)


def _matrix(root: Path, plans: list, max_jobs: int) -> dict:
    from mlops_actions.commands.plan import batch_models, matrix

    return matrix(plans, batch_models(root, plans, max_jobs))


def _plan(root: Path, capsys, *args: str) -> dict:
    assert main(["-C", str(root), "plan", "--format", "json", *args]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.mark.slow
def test_five_thousand_models_fill_at_most_max_jobs_and_each_lands_once(big_repo: Path, big_plans: list) -> None:
    assert sum(p.train for p in big_plans) == MODELS
    include = _matrix(big_repo, big_plans, 64)["include"]  # the default --max-jobs
    assert len(include) == 64 and [e["model"] for e in include] == [f"batch-{i:02d}" for i in range(1, 65)]
    names = [n for e in include for n in e["models"].split()]
    assert len(names) == MODELS and set(names) == {f"store-{i:04d}" for i in range(MODELS)}
    assert all(e["reasons"][0].startswith(f"{len(e['models'].split())} model(s): ") for e in include)
    costs = {f"store-{i:04d}": PER_MODEL_COST + len("a,y\n" + "1,0\n" * (_size(i) // 4)) for i in range(MODELS)}
    totals = [sum(costs[n] for n in e["models"].split()) for e in include]
    assert max(totals) <= sum(totals) / len(totals) + max(costs.values())  # balanced: within one model


@pytest.mark.slow  # the 5,000-model repository it shares is built in 2.5 s
def test_github_allows_256_jobs(big_repo: Path, big_plans: list) -> None:
    include = _matrix(big_repo, big_plans, 256)["include"]
    assert len(include) == 256 and sum(len(e["models"].split()) for e in include) == MODELS


def test_the_cli_prints_the_batched_matrix(example_repo: Path, capsys) -> None:
    for i in range(5):
        spec = (example_repo / "models" / "arrests" / "model.yaml").read_text().replace("name: arrests", f"name: m{i}")
        (example_repo / "models" / f"m{i}").mkdir()
        (example_repo / "models" / f"m{i}" / "model.yaml").write_text(spec)
    include = _plan(example_repo, capsys, "--max-jobs", "2")["include"]
    assert [e["model"] for e in include] == ["batch-1", "batch-2"]
    assert sorted(n for e in include for n in e["models"].split()) == ["arrests", "m0", "m1", "m2", "m3", "m4"]
    assert main(["-C", str(example_repo), "plan", "--max-jobs", "2"]) == 0
    assert "batched into 2 jobs of 3 to 3 model(s), balanced by data size" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["0", "257"])
def test_max_jobs_out_of_range_is_a_usage_error(example_repo: Path, capsys, bad: str) -> None:
    assert main(["-C", str(example_repo), "plan", "--max-jobs", bad]) == 2
    assert f"max-jobs is {bad}; it must be 1 to 256" in capsys.readouterr().err


def test_few_models_keep_one_job_each(example_repo: Path, capsys) -> None:
    doc = _plan(example_repo, capsys, "--max-jobs", "2")
    assert doc == {"include": [{"model": "arrests", "reasons": ["no version registered yet"]}]}


def test_balance_is_longest_first_into_the_lightest_batch() -> None:
    costs = {"a": 10, "b": 9, "c": 8, "d": 2, "e": 1, "f": 1}
    assert balance(costs, 3) == [["a", "f"], ["b", "e"], ["c", "d"]]
    assert balance(costs, 10) == [["a"], ["b"], ["c"], ["d"], ["e"], ["f"]]
    assert balance({}, 4) == []
    assert balance(dict.fromkeys("zyxwv", 3), 2) == balance(dict.fromkeys("vwxyz", 3), 2)  # order-free


def test_costs_read_sizes_without_reading_data(tmp_path: Path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "lfs.csv").write_text("version https://git-lfs.github.com/spec/v1\noid sha256:"
                                               + "a" * 64 + "\nsize 123456789\n")
    (tmp_path / "data" / "dvc.csv.dvc").write_text("outs:\n- md5: " + "b" * 32 + "\n  size: 5000000\n"
                                                   "  hash: md5\n  path: dvc.csv\n")
    specs = {"lfs": {"data": {"path": "data/lfs.csv"}}, "dvc": {"data": {"path": "data/dvc.csv"}},
             "url": {"data": {"url": "s3://b/k"}}, "broken": None}
    costs = data_costs(tmp_path, specs)
    assert costs["lfs"] == PER_MODEL_COST + 123456789 and costs["dvc"] == PER_MODEL_COST + 5000000
    assert costs["url"] == costs["broken"] > PER_MODEL_COST
