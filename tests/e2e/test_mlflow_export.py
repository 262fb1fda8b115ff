"""``export`` and the MLflow model it writes, from a training folder: no server needed.

The example model is trained once per module; each test exports it (or a damaged copy) into a new folder
and reads the result back with MLflow itself.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
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
from mlops_actions.training.artifact import files_artifact
from testkit import EXAMPLE, git

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


def test_a_loader_changed_since_training_is_refused(trained: Path, tmp_path: Path) -> None:
    path = trained / "models/arrests-np/load.py"
    original = path.read_bytes()
    path.write_bytes(original + b"# edited after training\n")
    try:
        with pytest.raises(InputError) as caught:
            export(trained, "mlops-out/arrests-np", out=tmp_path / "m", cwd=trained)
    finally:
        path.write_bytes(original)
    assert "models/arrests-np/load.py in the work tree is not the file" in caught.value.message
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


def test_a_model_holding_a_repository_type_is_refused_naming_it(trained: Path) -> None:
    """arrests-gbm's pipeline holds a class of the repository (features.py): a server could not import it."""
    data = (trained / "mlops-out/arrests-gbm/model.skops").read_bytes()
    with pytest.raises(InputError) as caught:
        types_to_trust(data, ("sklearn.", "lightgbm."))
    assert caught.value.message.startswith("the model holds types that are not trusted: "
                                           "models.arrests-gbm.features.ChecksPerDecade;")


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
    from mlops_actions.mlflow_bridge.serving import free_port

    port = free_port()
    bin_dir = str(Path(sys.executable).parent)
    server = subprocess.Popen([sys.executable, "-m", "mlops_actions", "-C", str(trained), "serve",
                               "mlops-out/arrests-np", "--port", str(port)],
                              env={**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])},
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=trained)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/ping", server)
        record = json.loads((trained / "mlops-out/arrests-np/record.json").read_text())
        rows = held_out(trained, "arrests-np", record).frame
        body = json.dumps({"dataframe_split": rows.to_dict(orient="split", index=False)}).encode()
        request = urllib.request.Request(f"{base}/invocations", data=body,
                                         headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            got = json.loads(answer.read())["predictions"]
        expected = pd.read_parquet(trained / "mlops-out/arrests-np/predictions.parquet")["y_pred"]
        assert got == list(expected)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            server.kill()


def _wait(url: str, process: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server stopped (exit {process.returncode})"
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"{url} did not answer in {timeout} s")
