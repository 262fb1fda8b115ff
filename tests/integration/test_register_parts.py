"""A rebuild on main that is not byte-identical to the reviewed one: ``register`` names the pipeline step that
differs (from the per-step sha256 the record and the report's evidence carry) and says what to do, and the
models that do rebuild exactly still register. Real git repository, the real CLI, the emulator."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit.govkit import MODELS, Kit, build_template, start

pytestmark = pytest.mark.slow

SPEC = """name: salted
task: classification
data:
  path: data/arrests.csv
  format: csv
  target: released
  positive_label: "Yes"
  features:
    year: numeric
    age: numeric
    checks: numeric
split:
  seed: 42
  test_fraction: 0.25
pipeline: models/salted/pipeline.py:build
metrics:
  accuracy: higher
owners: ["@acme/ml-team"]
"""
# The first step learns something the fingerprint does not hold (an environment variable); it passes the rows
# through unchanged, so the estimator after it learns the same thing on both sides: only "salt" differs.
PIPELINE = '''"""A factory whose first step is not reproducible from the fingerprint."""
import os

from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline


class Salt(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        self.salt_ = os.environ.get("SALT_FOR_TEST", "")
        return self

    def transform(self, X):
        return X


def build():
    return Pipeline([("salt", Salt()), ("estimator", LogisticRegression(max_iter=500))])
'''


COMMAND_SPEC = SPEC.replace("name: salted", "name: stamped").replace(
    "pipeline: models/salted/pipeline.py:build\n",
    "train:\n  command: python models/stamped/train.py\n  artifact: model\nreproducibility: exact\n")
# A command whose artifact folder holds one file the fingerprint does not decide (a stamp from the environment).
TRAINER = '''import json
import os
from pathlib import Path

import pandas as pd

train, test = pd.read_parquet(os.environ["MLOPS_TRAIN"]), pd.read_parquet(os.environ["MLOPS_TEST"])
out = Path(os.environ["MLOPS_OUT"])
(out / "model").mkdir()
(out / "model" / "rate.json").write_text(json.dumps({"rate": float((train["released"] == "Yes").mean())}))
(out / "model" / "stamp.txt").write_text(os.environ.get("SALT_FOR_TEST", ""))
pd.DataFrame({"row_id": test["row_id"], "prediction": "Yes"}).to_parquet(out / "predictions.parquet")
'''


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("parts") / "repo"
    build_template(root)
    return root


@pytest.fixture
def kit(template: Path, tmp_path: Path):
    made = start(template, tmp_path)
    yield made
    made.gh.stop()


def _train(kit: Kit, out: str, salt: str, monkeypatch: pytest.MonkeyPatch, model: str = "salted") -> None:
    monkeypatch.setenv("SALT_FOR_TEST", salt)
    assert main(["-C", str(kit.root), "train", "--out", out, model]) == 0
    for name in MODELS:  # the template's trainings of the same specs: they rebuild exactly
        shutil.copytree(kit.root / ("pr-out" if out == "review-out" else "mlops-out") / name, kit.root / out / name)


def test_a_rebuild_differing_in_one_step_is_refused_naming_it_and_the_others_register(
        kit: Kit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    kit.branch("salted")
    kit.retrain_commit()
    kit.commit({"models/salted/model.yaml": SPEC, "models/salted/pipeline.py": PIPELINE}, "a salted model")
    _train(kit, "review-out", "reviewed", monkeypatch)  # the PR's training, at its head
    merged = kit.merge("salted")
    _train(kit, "main-out", "rebuilt on main", monkeypatch)  # main's trusted rebuild
    kit.report(merged, "review-out")
    kit.approve(merged, "alice")
    capsys.readouterr()

    assert kit.run("register", "--results", "main-out") == 1
    out = capsys.readouterr().out
    refusal = next(line for line in out.splitlines() if line.startswith("  - salted: "))
    assert "not reproducible" in refusal and "same fingerprint, so training is not deterministic" in refusal
    assert "what differs: step salt; make these steps' fit deterministic" in refusal
    assert "estimator" not in refusal.split("what differs:")[1].split(";")[0]
    assert "reproducibility: metrics" in refusal
    assert kit.tags("salted") == []
    assert kit.tags("arrests") == ["arrests-b@v1", "arrests@v1"]  # one refused model blocks no other
    body = kit.bot.find_comment(merged.number, "mlops-actions:register").body
    assert "step salt" in body and "arrests@v1" in body and "arrests-b@v1" in body


def test_a_command_rebuild_differing_in_one_file_is_refused_naming_it(
        kit: Kit, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    kit.branch("stamped")
    kit.retrain_commit()
    kit.commit({"models/stamped/model.yaml": COMMAND_SPEC, "models/stamped/train.py": TRAINER}, "a stamped model")
    _train(kit, "review-out", "reviewed", monkeypatch, "stamped")
    merged = kit.merge("stamped")
    _train(kit, "main-out", "rebuilt on main", monkeypatch, "stamped")
    kit.report(merged, "review-out")
    kit.approve(merged, "alice")
    capsys.readouterr()

    assert kit.run("register", "--results", "main-out") == 1
    refusal = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("  - stamped: "))
    assert "what differs: file stamp.txt; make the command write these files the same way on every run" in refusal
    assert kit.tags("stamped") == [] and kit.tags("arrests") == ["arrests-b@v1", "arrests@v1"]
