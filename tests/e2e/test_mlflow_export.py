"""``export`` and the MLflow model it writes, from a training folder: no server needed.

The example model is trained once per module; each test exports it (or a damaged copy) into a new folder
and reads the result back with MLflow itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

from mlops_actions.cli import main
from mlops_actions.commands.export import export
from mlops_actions.errors import InputError, UsageError
from mlops_actions.mlflow_bridge.export import ExportOptions, export_model
from mlops_actions.mlflow_bridge.heldout import HeldOut, held_out
from mlops_actions.mlflow_bridge.skops_types import PLAIN_TYPES, types_to_trust
from mlops_actions.mlflow_bridge.source import from_folder, parse_target
from mlops_actions.testing.serving import served
from mlops_actions.training.artifact import files_artifact
from testkit import EXAMPLE, REPO, git

pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A git repository of the example, with ``mlops-out/arrests`` trained."""
    root = tmp_path_factory.mktemp("export") / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "initial")
    for model in ("arrests", "arrests-gbm", "arrests-np"):  # declarative, pipeline factory, command (loader)
        assert main(["-C", str(root), "train", model], env={}) == 0
    return root


def _export(root: Path, out: Path, target: str = "mlops-out/arrests", **kwargs: object) -> Path:
    assert export(root, target, out=out, cwd=root, **kwargs) == 0  # type: ignore[arg-type]
    return out


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_export_writes_an_mlflow_model_with_the_verified_skops_bytes(trained: Path, tmp_path: Path) -> None:
    out = _export(trained, tmp_path / "model")
    record = json.loads((trained / "mlops-out/arrests/record.json").read_text())
    meta = yaml.safe_load((out / "MLmodel").read_text())
    assert meta["flavors"]["sklearn"]["serialization_format"] == "skops"
    assert meta["flavors"]["python_function"]["loader_module"] == "mlflow.sklearn"
    assert hashlib.sha256((out / "model.skops").read_bytes()).hexdigest() == record["artifact"]["sha256"]
    assert meta["metadata"]["mlops_actions"]["artifact_sha256"] == record["artifact"]["sha256"]
    assert not list(out.rglob("*.pkl")) and not list(out.rglob("*.pickle"))
    assert json.loads((out / "record.json").read_text()) == record


def test_signature_and_example_come_from_the_record_and_held_out_features(trained: Path, tmp_path: Path) -> None:
    out = _export(trained, tmp_path / "model")
    meta = yaml.safe_load((out / "MLmodel").read_text())
    inputs = json.loads(meta["signature"]["inputs"])
    assert [(c["name"], c["type"]) for c in inputs] == [
        ("year", "double"), ("age", "double"), ("checks", "double"), ("employed", "double"), ("citizen", "double")]
    assert json.loads(meta["signature"]["outputs"]) == [{"type": "string", "required": True}]
    example = json.loads((out / "input_example.json").read_text())
    assert example["columns"] == [c["name"] for c in inputs]  # no colour, no sex: sensitive, not features
    assert len(example["data"]) == 5
    record = json.loads((trained / "mlops-out/arrests/record.json").read_text())
    frame = held_out(trained, "arrests", record).frame
    assert example["data"] == frame[example["columns"]].head(5).to_numpy().tolist()


def test_requirements_are_pinned_to_the_record(trained: Path, tmp_path: Path) -> None:
    out = _export(trained, tmp_path / "model")
    record = json.loads((trained / "mlops-out/arrests/record.json").read_text())
    lines = (out / "requirements.txt").read_text().splitlines()
    for name, version in record["libraries"].items():
        assert f"{name}=={version}" in lines
    assert any(line.startswith("skops==") for line in lines)
    assert any(line.startswith("mlflow==") for line in lines)


@pytest.mark.parametrize("flavor", ["auto", "pyfunc"])
def test_the_exported_model_predicts_what_training_predicted(trained: Path, tmp_path: Path, flavor: str,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow.pyfunc

    if flavor == "pyfunc":  # the models-from-code form loads where unpickling is switched off
        monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")

    out = _export(trained, tmp_path / "model", flavor=flavor)
    record = json.loads((trained / "mlops-out/arrests/record.json").read_text())
    rows = held_out(trained, "arrests", record).frame
    expected = pd.read_parquet(trained / "mlops-out/arrests/predictions.parquet")["y_pred"]
    got = mlflow.pyfunc.load_model(str(out)).predict(rows)
    assert list(got) == list(expected)


@pytest.mark.parametrize("flavor", ["auto", "pyfunc"])
def test_export_is_byte_identical_when_repeated(trained: Path, tmp_path: Path, flavor: str) -> None:
    first = _files(_export(trained, tmp_path / "a", flavor=flavor))
    assert first == _files(_export(trained, tmp_path / "b", flavor=flavor))


def test_the_model_card_goes_alongside_when_report_wrote_one(trained: Path, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    shutil.copytree(trained / "mlops-out/arrests", folder)
    (folder / "model-card.md").write_text("# arrests\n", encoding="utf-8")
    out = _export(trained, tmp_path / "model", target=str(folder))
    assert (out / "model-card.md").read_text() == "# arrests\n"


def test_a_changed_artifact_is_refused_naming_both_sha256(trained: Path, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    shutil.copytree(trained / "mlops-out/arrests", folder)
    data = bytearray((folder / "model.skops").read_bytes())
    data[-100] ^= 1
    (folder / "model.skops").write_bytes(bytes(data))
    record = json.loads((folder / "record.json").read_text())
    with pytest.raises(InputError) as caught:
        export(trained, str(folder), out=tmp_path / "model", cwd=trained)
    assert record["artifact"]["sha256"] in caught.value.message
    assert hashlib.sha256(bytes(data)).hexdigest() in caught.value.message
    assert not (tmp_path / "model").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["results"]  # no temporary folder left either


def test_an_export_folder_that_is_not_empty_is_refused(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    (out / "keep.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(InputError, match="is not empty"):
        export(trained, "mlops-out/arrests", out=out, cwd=trained)
    assert [p.name for p in out.iterdir()] == ["keep.txt"]


def test_an_empty_export_folder_is_used(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "model"
    out.mkdir()
    assert (_export(trained, out) / "MLmodel").is_file()


def test_without_mlflow_the_message_names_the_extra(trained: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # what an install without the extra looks like
    code = main(["-C", str(trained), "export", "mlops-out/arrests", "--out", str(tmp_path / "m")], env={})
    assert code == 1
    err = capsys.readouterr().err
    assert 'pip install "mlops-actions[mlflow]"' in err and "Traceback" not in err
    assert not (tmp_path / "m").exists()


def test_serve_without_mlflow_names_the_extra(trained: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    assert main(["-C", str(trained), "serve", "mlops-out/arrests", "--port", "1"], env={}) == 1
    err = capsys.readouterr().err
    assert "serve needs MLflow, which is not installed" in err and 'pip install "mlops-actions[mlflow]"' in err
    assert "Traceback" not in err


def test_a_folder_without_a_record_is_not_a_training_folder(trained: Path, tmp_path: Path) -> None:
    with pytest.raises(InputError, match="not a training folder"):
        export(trained, str(tmp_path), out=tmp_path / "m", cwd=trained)


@pytest.mark.parametrize("text", ["arrests@", "Arrests@v1", "arrests@v0", "no-such-folder", "a@b@c"])
def test_targets_that_name_nothing_are_usage_errors(tmp_path: Path, text: str) -> None:
    with pytest.raises(UsageError):
        parse_target(text, tmp_path)


def test_targets(tmp_path: Path) -> None:
    assert parse_target("arrests@v3", tmp_path).tag == "arrests@v3"
    assert parse_target("arrests@production", tmp_path).environment == "production"
    assert parse_target(".", tmp_path).folder == tmp_path / "."


def test_a_version_needs_github_to_fetch_its_release(trained: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["-C", str(trained), "export", "arrests@v1", "--out", str(tmp_path / "m")], env={})
    assert code == 1
    assert "there is no version arrests@v1" in capsys.readouterr().err


def _command_folder(trained: Path, tmp_path: Path, files: dict[str, bytes]) -> Path:
    """A copy of arrests-np's training folder whose artifact holds ``files`` (its record says so)."""
    folder = tmp_path / "results"
    shutil.copytree(trained / "mlops-out/arrests-np", folder)
    artifact = files_artifact(files)
    (folder / artifact.file).write_bytes(artifact.data)
    record = json.loads((folder / "record.json").read_text())
    record["artifact"] = artifact.to_record()
    (folder / "record.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def test_the_command_model_exports_through_its_loader_and_predicts_what_the_command_did(
        trained: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlflow.pyfunc

    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    out = _export(trained, tmp_path / "model", target="mlops-out/arrests-np")
    meta = yaml.safe_load((out / "MLmodel").read_text())
    conf = meta["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.loaders.code_model"
    assert conf["config"] == {"loader": "models/arrests-np/load.py:load"}
    assert (out / "artifacts/code/models/arrests-np/load.py").read_bytes() == \
        (trained / "models/arrests-np/load.py").read_bytes()
    assert (out / "artifacts/model/weights.json").is_file()
    assert not list(out.rglob("*.pkl")) and not list(out.rglob("*.pickle"))
    record = json.loads((trained / "mlops-out/arrests-np/record.json").read_text())
    rows = held_out(trained, "arrests-np", record).frame
    expected = pd.read_parquet(trained / "mlops-out/arrests-np/predictions.parquet")["y_pred"]
    assert list(mlflow.pyfunc.load_model(str(out)).predict(rows)) == list(expected)
    assert _files(out) == _files(_export(trained, tmp_path / "again", target="mlops-out/arrests-np"))


def test_a_command_trained_model_without_mlflow_model_or_loader_says_what_to_add(trained: Path,
                                                                                 tmp_path: Path) -> None:
    folder = _command_folder(trained, tmp_path, {"weights.npy": b"\x93NUMPY"})
    source = from_folder(folder)
    with pytest.raises(InputError) as caught:
        export_model(source, tmp_path / "m", HeldOut(None), ExportOptions(("sklearn.",)))
    assert "no MLflow model (no MLmodel file at its top)" in caught.value.message
    assert "train: {loader: models/NAME/load.py:load}" in (caught.value.hint or "")
    assert "mlflow.pyfunc.save_model" in (caught.value.hint or "")
    assert not (tmp_path / "m").exists()


def test_a_command_trained_model_that_wrote_an_mlflow_model_exports_it(trained: Path, tmp_path: Path) -> None:
    written = _export(trained, tmp_path / "theirs")  # stands in for an MLflow model the team's command saved
    files = {p.relative_to(written).as_posix(): p.read_bytes() for p in written.rglob("*") if p.is_file()}
    folder = _command_folder(trained, tmp_path, files)
    out = _export(trained, tmp_path / "m", target=str(folder))
    record = json.loads((folder / "record.json").read_text())
    assert (out / "MLmodel").read_bytes() == files["MLmodel"]
    assert json.loads((out / "record.json").read_text()) == record


def test_a_command_artifact_whose_files_differ_is_refused_naming_both_sha256(trained: Path,
                                                                             tmp_path: Path) -> None:
    folder = _command_folder(trained, tmp_path, {"weights.json": b"{}"})
    want = json.loads((folder / "record.json").read_text())["artifact"]["sha256"]
    other = files_artifact({"weights.json": b"[]"})
    (folder / "model.zip").write_bytes(other.data)
    with pytest.raises(InputError) as caught:
        export(trained, str(folder), out=tmp_path / "m", cwd=trained)
    assert f"has sha256 {other.sha256}, but the version record names {want}" in caught.value.message


def _with_commit(trained: Path, tmp_path: Path, model: str, commit: str) -> Path:
    """A copy of ``model``'s training folder whose record names ``commit``, as a registered version's does."""
    folder = tmp_path / "results"
    shutil.copytree(trained / "mlops-out" / model, folder)
    record = json.loads((folder / "record.json").read_text())
    record["commit"] = commit
    (folder / "record.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def _edited(path: Path) -> bytes:
    original = path.read_bytes()
    path.write_bytes(original + b"# edited after training\n")
    return original


def test_a_loader_changed_since_training_is_read_from_the_records_commit(trained: Path, tmp_path: Path) -> None:
    folder = _with_commit(trained, tmp_path, "arrests-np", git(trained, "rev-parse", "HEAD").strip())
    original = _edited(trained / "models/arrests-np/load.py")
    try:
        out = _export(trained, tmp_path / "m", target=str(folder))
    finally:
        (trained / "models/arrests-np/load.py").write_bytes(original)
    assert (out / "artifacts/code/models/arrests-np/load.py").read_bytes() == original


def test_a_loader_changed_since_training_without_its_commit_is_refused(trained: Path, tmp_path: Path) -> None:
    original = _edited(trained / "models/arrests-np/load.py")
    try:
        with pytest.raises(InputError) as caught:
            export(trained, "mlops-out/arrests-np", out=tmp_path / "m", cwd=trained)
    finally:
        (trained / "models/arrests-np/load.py").write_bytes(original)
    assert "models/arrests-np/load.py in the work tree is not the file" in caught.value.message
    assert "a training folder names no commit" in caught.value.message
    assert "check out the version's commit" in (caught.value.hint or "")
    assert not (tmp_path / "m").exists()


def test_a_loader_the_record_does_not_list_is_refused(trained: Path, tmp_path: Path) -> None:
    folder = tmp_path / "results"
    shutil.copytree(trained / "mlops-out/arrests-np", folder)
    record = json.loads((folder / "record.json").read_text())
    del record["code"]["models/arrests-np/load.py"]  # as trained before the spec named a loader
    (folder / "record.json").write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(InputError, match=r"does not list models/arrests-np/load\.py"):
        export(trained, str(folder), out=tmp_path / "m", cwd=trained)


def test_the_types_we_list_cover_what_skops_refuses_by_default(trained: Path) -> None:
    from mlops_actions.training.artifact import untrusted_types

    data = (trained / "mlops-out/arrests/model.skops").read_bytes()
    listed = types_to_trust(data, ("sklearn.",))
    assert set(untrusted_types(data)) <= set(listed)
    assert not set(listed) & PLAIN_TYPES


def test_a_repository_type_is_trusted_only_with_its_module(trained: Path) -> None:
    """arrests-gbm's pipeline holds a class of the repository (features.py): accepted when its module is one
    the factory imported (the record's build.modules), refused by name otherwise."""
    data = (trained / "mlops-out/arrests-gbm/model.skops").read_bytes()
    with pytest.raises(InputError) as caught:
        types_to_trust(data, ("sklearn.", "lightgbm."))
    assert caught.value.message.startswith("the model holds types that are not trusted: "
                                           "models.arrests-gbm.features.ChecksPerDecade;")
    assert "models.arrests-gbm.features.ChecksPerDecade" in types_to_trust(
        data, ("sklearn.", "lightgbm."), ("models.arrests-gbm.features",))
    with pytest.raises(InputError, match=r"not trusted: models\.arrests-gbm\.features\.ChecksPerDecade"):
        types_to_trust(data, ("sklearn.", "lightgbm."), ("models.arrests-gbm.pipeline",))


def test_types_outside_the_policy_fall_back_to_what_skops_trusts_by_default(trained: Path) -> None:
    data = (trained / "mlops-out/arrests/model.skops").read_bytes()
    assert types_to_trust(data, ("xgboost.",)) == ["numpy.dtype"]  # skops trusts sklearn's estimators itself


def test_a_function_neither_skops_nor_the_policy_trusts_is_refused_at_export() -> None:
    import operator

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    data = sio.dumps(FunctionTransformer(func=operator.neg))
    with pytest.raises(InputError, match=r"not trusted: _operator\.neg; refusing to export it"):
        types_to_trust(data, ("sklearn.",))


@pytest.mark.slow
def test_the_served_command_model_answers_with_the_commands_predictions(trained: Path) -> None:
    record = json.loads((trained / "mlops-out/arrests-np/record.json").read_text())
    rows = held_out(trained, "arrests-np", record).frame
    with served(str(trained / "mlops-out/arrests-np"), root=trained) as server:
        status, answer = server.invoke({"dataframe_split": rows.to_dict(orient="split", index=False)})
    expected = pd.read_parquet(trained / "mlops-out/arrests-np/predictions.parquet")["y_pred"]
    assert status == 200 and answer["predictions"] == list(expected)


# -- a pipeline factory's model holding the repository's own transformer (arrests-gbm) -------------------------

GBM = "mlops-out/arrests-gbm"
FEATURES = "models.arrests-gbm.features"
LOAD_ELSEWHERE = """
import importlib.util, json, sys
import pandas as pd
assert importlib.util.find_spec("models") is None, "the repository is importable here"
import mlflow.pyfunc
model = mlflow.pyfunc.load_model(sys.argv[1])
print(json.dumps([str(p) for p in model.predict(pd.read_parquet(sys.argv[2]))]))
"""


def test_a_factory_model_with_a_repository_transformer_exports_with_its_modules(trained: Path,
                                                                               tmp_path: Path) -> None:
    out = _export(trained, tmp_path / "model", target=GBM)
    conf = yaml.safe_load((out / "MLmodel").read_text())["flavors"]["python_function"]
    assert conf["loader_module"] == "mlflow.pyfunc.loaders.code_model" and conf["code"] == "code"
    assert f"{FEATURES}.ChecksPerDecade" in conf["config"]["trusted_types"]
    assert conf["config"]["threshold"] == 0.6 and conf["config"]["positive_label"] == "Yes"
    for name in ("features.py", "pipeline.py"):
        assert (out / "code/models/arrests-gbm" / name).read_bytes() == \
            (trained / "models/arrests-gbm" / name).read_bytes()
    assert _files(out) == _files(_export(trained, tmp_path / "again", target=GBM))


def test_the_factory_model_predicts_what_training_predicted_where_the_repository_is_not(trained: Path,
                                                                                        tmp_path: Path) -> None:
    """A fresh interpreter, started elsewhere: the transformer's class comes from the model's code/ folder."""
    out = _export(trained, tmp_path / "model", target=GBM)
    record = json.loads((trained / GBM / "record.json").read_text())
    held_out(trained, "arrests-gbm", record).frame.to_parquet(tmp_path / "rows.parquet")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-c", LOAD_ELSEWHERE, str(out), str(tmp_path / "rows.parquet")],
                          cwd=elsewhere, env={**env, "MLFLOW_ALLOW_PICKLE_DESERIALIZATION": "false"},
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    expected = pd.read_parquet(trained / GBM / "predictions.parquet")["y_pred"]
    assert json.loads(done.stdout.splitlines()[-1]) == list(expected)


def test_the_served_factory_model_answers_with_the_training_predictions(trained: Path) -> None:
    record = json.loads((trained / GBM / "record.json").read_text())
    rows = held_out(trained, "arrests-gbm", record).frame
    with served(str(trained / GBM), root=trained) as server:
        status, answer = server.invoke({"dataframe_split": rows.to_dict(orient="split", index=False)})
    assert status == 200
    assert answer["predictions"] == list(pd.read_parquet(trained / GBM / "predictions.parquet")["y_pred"])


def test_the_sklearn_flavor_is_refused_for_a_model_with_a_threshold(trained: Path, tmp_path: Path) -> None:
    """MLflow's sklearn flavor would call predict (0.5) and serve other answers than training's."""
    with pytest.raises(InputError, match="--flavor sklearn cannot serve a model with a threshold"):
        export(trained, GBM, out=tmp_path / "m", cwd=trained, flavor="sklearn")
    assert [p.name for p in tmp_path.iterdir()] == []


def test_a_type_neither_of_the_repository_nor_allowed_is_still_refused_by_name(trained: Path) -> None:
    import operator

    import skops.io as sio
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    data = sio.dumps(make_pipeline(FunctionTransformer(func=operator.neg)))
    with pytest.raises(InputError, match=r"not trusted: _operator\.neg; refusing to export it"):
        types_to_trust(data, ("sklearn.",), (FEATURES,))


def test_the_loader_refuses_a_type_export_did_not_check(trained: Path, tmp_path: Path) -> None:
    """The exported folder's skops file swapped for one holding another type: loading names it."""
    import operator

    import mlflow.pyfunc
    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    out = _export(trained, tmp_path / "model", target=GBM)
    (out / "artifacts/model.skops").write_bytes(sio.dumps(FunctionTransformer(func=operator.neg)))
    with pytest.raises(Exception, match=r"not trusted at export: _operator\.neg"):
        mlflow.pyfunc.load_model(str(out))


def test_a_repository_module_changed_since_training_is_read_from_the_records_commit(trained: Path,
                                                                                   tmp_path: Path) -> None:
    folder = _with_commit(trained, tmp_path, "arrests-gbm", git(trained, "rev-parse", "HEAD").strip())
    original = _edited(trained / "models/arrests-gbm/features.py")
    try:
        out = _export(trained, tmp_path / "model", target=str(folder))
    finally:
        (trained / "models/arrests-gbm/features.py").write_bytes(original)
    assert (out / "code/models/arrests-gbm/features.py").read_bytes() == original


def test_a_repository_module_changed_without_the_records_commit_is_refused(trained: Path, tmp_path: Path) -> None:
    folder = _with_commit(trained, tmp_path, "arrests-gbm", "0" * 40)  # a commit this clone does not hold
    original = _edited(trained / "models/arrests-gbm/features.py")
    try:
        with pytest.raises(InputError) as caught:
            export(trained, str(folder), out=tmp_path / "m", cwd=trained)
    finally:
        (trained / "models/arrests-gbm/features.py").write_bytes(original)
    assert "models/arrests-gbm/features.py in the work tree is not the file" in caught.value.message
    assert f"its commit {'0' * 12} is not in this clone" in caught.value.message
    assert not (tmp_path / "m").exists()


# -- the MLflow versions our files are read by ------------------------------------------------------------------


def test_the_installed_mlflow_reads_the_mlmodel_we_write(trained: Path, tmp_path: Path) -> None:
    """``mlmodel`` writes MLflow's files without MLflow: the installed version must read every field back
    (docs/mlflow.md names the versions this was verified with)."""
    import mlflow
    from mlflow.models import Model

    for target, flavor in (("mlops-out/arrests", "auto"), ("mlops-out/arrests", "pyfunc"), (GBM, "auto"),
                           ("mlops-out/arrests-np", "auto")):
        out = _export(trained, tmp_path / f"{Path(target).name}-{flavor}", target=target, flavor=flavor)
        model = Model.load(str(out / "MLmodel"))
        assert model.mlflow_version == mlflow.__version__, f"MLflow {mlflow.__version__}"
        example = json.loads((out / "input_example.json").read_text())
        assert model.signature is not None and model.signature.inputs.input_names() == example["columns"]
        assert model.saved_input_example_info["serving_input_path"] == "serving_input_example.json"
        assert model.load_input_example(str(out)).shape == (5, len(example["columns"]))
        assert model.model_uuid == json.loads((out / "record.json").read_text())["artifact"]["sha256"][:32]
        assert "python_function" in model.flavors
    docs = (REPO / "docs/mlflow.md").read_text(encoding="utf-8")
    assert re.search(r"verified with\s+\*\*MLflow \d+\.\d+\.\d+\*\*", docs), "docs/mlflow.md names no verified version"
