"""The exported model answers what predictions.parquet holds when training changed the estimator's answers:
an XGBoost classifier learns integer codes for string labels (train maps them back), and a command-trained
model's ``threshold`` was applied to the command's probabilities (the loader's ``predict`` knows nothing of it).

Three models are trained once per module on a copy of the example: ``arrests`` as an ``xgboost.XGBClassifier``
(with and without a threshold) and ``arrests-np`` with a threshold.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops_actions.cli import main
from mlops_actions.commands.export import export
from mlops_actions.errors import InputError
from mlops_actions.mlflow_bridge.export import ExportOptions, Loader, export_model
from mlops_actions.mlflow_bridge.heldout import HeldOut, held_out
from mlops_actions.mlflow_bridge.source import from_folder
from testkit import EXAMPLE

pytest.importorskip("mlflow")
pytest.importorskip("xgboost")


XGB, XGB_T, NP_T = "arrests-xgb", "arrests-xgbt", "arrests-npt"


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd, check=True,
                   capture_output=True)


def _spec(root: Path, source: str, name: str, edit: dict[str, object]) -> None:
    """``models/<name>/model.yaml``: the example's ``source`` spec renamed, with ``edit``'s top-level keys."""
    spec = yaml.safe_load((root / "models" / source / "model.yaml").read_text(encoding="utf-8"))
    spec.update(name=name, **edit)
    (root / "models" / name).mkdir()
    (root / "models" / name / "model.yaml").write_text(yaml.safe_dump(spec, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labels") / "repo"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("arrests-gbm"))
    policy = yaml.safe_load((root / "mlops.yaml").read_text(encoding="utf-8"))
    policy["estimators"]["allowed_prefixes"].append("xgboost.")
    (root / "mlops.yaml").write_text(yaml.safe_dump(policy, sort_keys=False), encoding="utf-8")
    xgb = {"class": "xgboost.XGBClassifier", "params": {"n_estimators": 20, "max_depth": 3, "n_jobs": 1}}
    _spec(root, "arrests", XGB, {"estimator": xgb})
    _spec(root, "arrests", XGB_T, {"estimator": xgb, "threshold": 0.8})
    _spec(root, "arrests-np", NP_T, {"threshold": 0.7})
    _git(root, "init", "-q", "-b", "main")
    _git(root, "add", "-A")
    _git(root, "commit", "-q", "-m", "initial")
    for model in (XGB, XGB_T, NP_T):
        assert main(["-C", str(root), "train", model], env={}) == 0
    return root


def _predictions(root: Path, model: str, out: Path) -> tuple[list[object], list[object]]:
    """What the exported model answers for the held-out rows, and what predictions.parquet holds."""
    import mlflow.pyfunc

    record = json.loads((root / "mlops-out" / model / "record.json").read_text())
    rows = held_out(root, model, record).frame
    expected = pd.read_parquet(root / "mlops-out" / model / "predictions.parquet")["y_pred"]
    return list(mlflow.pyfunc.load_model(str(out)).predict(rows)), list(expected)


def test_the_xgboost_model_learned_codes_and_training_predicted_labels(trained: Path) -> None:
    """The premise: the record says the estimator learned codes, predictions.parquet holds both labels."""
    record = json.loads((trained / "mlops-out" / XGB / "record.json").read_text())
    assert record["params"]["label_codes"] == ["No", "Yes"]
    assert set(pd.read_parquet(trained / "mlops-out" / XGB / "predictions.parquet")["y_pred"]) == {"No", "Yes"}


@pytest.mark.parametrize("flavor", ["auto", "pyfunc"])
def test_an_xgboost_model_answers_the_labels_not_the_codes(trained: Path, tmp_path: Path, flavor: str) -> None:
    out = tmp_path / "model"
    assert export(trained, f"mlops-out/{XGB}", out=out, cwd=trained, flavor=flavor) == 0
    conf = yaml.safe_load((out / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert conf["config"]["label_codes"] == ["No", "Yes"]
    got, expected = _predictions(trained, XGB, out)
    assert got == expected


def test_an_xgboost_model_with_a_threshold_answers_labels_at_the_threshold(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    assert export(trained, f"mlops-out/{XGB_T}", out=out, cwd=trained) == 0
    got, expected = _predictions(trained, XGB_T, out)
    assert got == expected
    assert "No" in expected  # the threshold (0.8) changes answers: the test compares more than one class


def test_the_sklearn_flavor_is_refused_for_a_model_that_learned_codes(trained: Path, tmp_path: Path) -> None:
    """MLflow's sklearn flavor calls predict, which answers 0 and 1 instead of No and Yes."""
    with pytest.raises(InputError, match="--flavor sklearn cannot serve a model that learned integer codes") as caught:
        export(trained, f"mlops-out/{XGB}", out=tmp_path / "m", cwd=trained, flavor="sklearn")
    assert "No, Yes" in caught.value.message and "--flavor pyfunc" in (caught.value.hint or "")
    assert list(tmp_path.iterdir()) == []


def test_a_command_models_threshold_is_applied_by_its_loader(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    assert export(trained, f"mlops-out/{NP_T}", out=out, cwd=trained) == 0
    conf = yaml.safe_load((out / "MLmodel").read_text())["flavors"]["python_function"]["config"]
    assert conf == {"loader": "models/arrests-np/load.py:load", "threshold": 0.7, "positive_label": "Yes",
                    "classes": ["No", "Yes"]}
    got, expected = _predictions(trained, NP_T, out)
    assert got == expected
    assert expected.count("No") > 0  # at 0.7 the answers differ from the loader's own predict (0.5)


def _loader_folder(trained: Path, tmp_path: Path, code: str) -> tuple[Path, Loader]:
    folder = tmp_path / "results"
    shutil.copytree(trained / "mlops-out" / NP_T, folder)
    return folder, Loader("models/x/load.py:load", {"models/x/load.py": code.encode()})


def test_a_threshold_loader_model_without_predict_proba_is_refused_when_loaded(trained: Path,
                                                                               tmp_path: Path) -> None:
    import mlflow.pyfunc

    code = "class M:\n    def predict(self, frame):\n        return ['Yes'] * len(frame)\n\n" \
           "def load(path):\n    return M()\n"
    folder, loader = _loader_folder(trained, tmp_path, code)
    record = json.loads((folder / "record.json").read_text())
    options = ExportOptions(("sklearn.",), loader=loader)
    out = export_model(from_folder(folder), tmp_path / "m", held_out(trained, NP_T, record), options).path
    with pytest.raises(Exception, match="has no predict_proba"):
        mlflow.pyfunc.load_model(str(out))


def test_a_threshold_loader_model_is_refused_when_its_positive_class_is_unknown(trained: Path,
                                                                                 tmp_path: Path) -> None:
    folder, loader = _loader_folder(trained, tmp_path, "def load(path):\n    return None\n")
    options = ExportOptions(("sklearn.",), loader=loader, features=("age",))
    with pytest.raises(InputError, match=r"decides at threshold 0\.7, but its positive class is known only"):
        export_model(from_folder(folder), tmp_path / "m", HeldOut(None, "no data here"), options)
    assert not (tmp_path / "m").exists()
