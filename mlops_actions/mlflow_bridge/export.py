"""A model as an MLflow model directory, byte for byte the same for the same version and libraries.

scikit-learn models use MLflow's sklearn flavor with its skops serialization, holding exactly the bytes the
record names (sha256-verified), with the skops types mlops-actions trusted at export; where the installed
MLflow's sklearn flavor cannot store skops, a models-from-code pyfunc (``skops_model.py``) loads the same
file under the same rule. Models trained by a command export when their artifact folder holds an MLflow
model (an ``MLmodel`` file) or their spec names a loader (an MLflow models-from-code file). Nothing is
pickled. The signature comes from the record's columns and types, the input example from held-out
features, the pip requirements are pinned to the versions the record names; the version record and the
model card are written alongside. The folder appears complete or not at all.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from mlops_actions.errors import InputError
from mlops_actions.mlflow_bridge import require_mlflow
from mlops_actions.mlflow_bridge.heldout import HeldOut
from mlops_actions.mlflow_bridge.signature import Columns, columns_of
from mlops_actions.mlflow_bridge.source import CARD_FILE, RECORD_FILE, ModelSource

SKOPS_FILE = "model.skops"
MLMODEL = "MLmodel"
LOADER_FILE = Path(__file__).with_name("skops_model.py")
UNREGISTERED_TIME = "1980-01-01 00:00:00"  # a training folder has no registration time; fixed for determinism
NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class ExportOptions:
    allowed_prefixes: tuple[str, ...]
    example_rows: int = 5
    flavor: str = "auto"  # auto | sklearn | pyfunc (pyfunc: the models-from-code loader of the skops file)
    loader: Path | None = None  # a command-trained model's models-from-code file, from its spec


@dataclass(frozen=True)
class Exported:
    path: Path
    flavor: str
    example_rows: int
    notes: tuple[str, ...] = ()


def check_out_dir(out: Path) -> None:
    """Refuse an ``--out`` that is a file or a folder holding anything: export never mixes or overwrites."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise InputError(f"--out {out} is not a folder", hint="pass a new or empty folder")
    if out.is_dir() and any(out.iterdir()):
        raise InputError(f"--out {out} is not empty; export writes a complete MLflow model into a new or empty "
                         "folder and never overwrites", hint="pass a new folder, or empty this one first")


def export_model(source: ModelSource, out: Path, held_out: HeldOut, options: ExportOptions) -> Exported:
    """Write ``source`` as an MLflow model into ``out`` (new or empty), atomically."""
    check_out_dir(out)
    require_mlflow("export --format mlflow")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        build = scratch / "model"
        flavor, rows, notes = _build(source, build, held_out, options, scratch)
        _alongside(source, build)
        if out.is_dir():
            out.rmdir()
        build.rename(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if source.card is None:
        notes += ("no model card to add (`mlops-actions report` writes one into the training folder)",)
    return Exported(out, flavor, rows, notes)


def _build(source: ModelSource, build: Path, held_out: HeldOut, options: ExportOptions,
           scratch: Path) -> tuple[str, int, tuple[str, ...]]:
    if source.artifact is None:
        return _command_model(source, build, options), 0, ()
    from mlops_actions.training.artifact import load_trusted, untrusted_types

    model = load_trusted(source.artifact, options.allowed_prefixes)
    trusted = sorted(untrusted_types(source.artifact))
    columns = columns_of(source.record, [str(c) for c in getattr(model, "feature_names_in_", ())], source.label)
    example, notes = _example(held_out, columns, options.example_rows)
    kwargs = {"signature": _signature(columns), "input_example": example, "metadata": metadata(source),
              "pip_requirements": requirements(source.record), "mlflow_model": _model_info(source)}
    if _flavor(options) == "sklearn":
        _save_sklearn(model, source.artifact, build, trusted, kwargs)
        return "sklearn (skops)", 0 if example is None else len(example), notes
    _save_loader(source.artifact, build, trusted, scratch, kwargs)
    return "python_function (models-from-code, skops)", 0 if example is None else len(example), notes


def _flavor(options: ExportOptions) -> str:
    if options.flavor != "auto":
        return options.flavor
    import mlflow.sklearn

    return "sklearn" if "skops" in getattr(mlflow.sklearn, "SUPPORTED_SERIALIZATION_FORMATS", ()) else "pyfunc"


def _example(held_out: HeldOut, columns: Columns, rows: int) -> tuple[Any, tuple[str, ...]]:
    if held_out.frame is None:
        return None, (f"no input example: {held_out.problem}",)
    return held_out.frame[columns.names].head(rows).reset_index(drop=True), ()


def _signature(columns: Columns) -> Any:
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    return ModelSignature(inputs=Schema([ColSpec(kind, name) for name, kind in columns.inputs]),
                          outputs=Schema([ColSpec(columns.output)]))


def _model_info(source: ModelSource) -> Any:
    """MLflow's model header with a uuid and time taken from the version, not from the clock."""
    from mlflow.models import Model

    created = str(source.record.get("created_at") or "")
    when = created.replace("T", " ").replace("Z", "")[:19] if created else UNREGISTERED_TIME
    return Model(model_uuid=source.sha256[:32], utc_time_created=when)


def metadata(source: ModelSource) -> dict[str, Any]:
    record = source.record
    keys = ("model", "version", "fingerprint", "commit", "pr")
    found = {key: record[key] for key in keys if record.get(key) is not None}
    return {"mlops_actions": {**found, "artifact_sha256": source.sha256, "record": RECORD_FILE}}


def requirements(record: Mapping[str, Any]) -> list[str]:
    """``name==version`` for every library the record names, plus skops (which loads the file)."""
    pins = {str(k): str(v) for k, v in (record.get("libraries") or {}).items() if v and v != NOT_INSTALLED}
    if "skops" not in pins:
        try:
            pins["skops"] = version("skops")
        except PackageNotFoundError:
            pins["skops"] = ""
    return [f"{name}=={pin}" if pin else name for name, pin in sorted(pins.items())]


def _save_sklearn(model: Any, data: bytes, build: Path, trusted: list[str], kwargs: dict[str, Any]) -> None:
    import mlflow.sklearn

    mlflow.sklearn.save_model(model, str(build), serialization_format="skops",
                              skops_trusted_types=trusted or None, **kwargs)
    _replace_skops(build, data)


def _replace_skops(build: Path, data: bytes) -> None:
    """MLflow's skops dump differs run to run; keep the verified bytes instead (same model, same format)."""
    from mlflow.models import Model

    path = build / SKOPS_FILE
    theirs = path.stat().st_size
    path.write_bytes(data)
    info = Model.load(str(build / MLMODEL))
    if info.model_size_bytes:
        info.model_size_bytes += len(data) - theirs
    info.save(str(build / MLMODEL))


def _save_loader(data: bytes, build: Path, trusted: list[str], scratch: Path, kwargs: dict[str, Any]) -> None:
    import mlflow.pyfunc

    file = scratch / SKOPS_FILE
    file.write_bytes(data)
    mlflow.pyfunc.save_model(str(build), python_model=str(LOADER_FILE), artifacts={"model": str(file)},
                             model_config={"trusted_types": trusted}, **kwargs)
    _relative_paths(build)


def _relative_paths(build: Path) -> None:
    """MLflow notes where the code and the artifact came from (temporary paths); keep only their names."""
    from mlflow.models import Model

    info = Model.load(str(build / MLMODEL))
    conf = info.flavors["python_function"]
    conf["model_code_path"] = LOADER_FILE.name
    for artifact in (conf.get("artifacts") or {}).values():
        artifact["uri"] = Path(str(artifact.get("path", ""))).name
    info.save(str(build / MLMODEL))


def _command_model(source: ModelSource, build: Path, options: ExportOptions) -> str:
    """A command-trained model: its own MLflow model, or its spec's models-from-code loader."""
    folder = source.artifact_dir
    if folder is not None and (folder / MLMODEL).is_file():
        shutil.copytree(folder, build, symlinks=False)
        return "as written by the training command (MLmodel)"
    if options.loader is not None:
        import mlflow.pyfunc

        mlflow.pyfunc.save_model(str(build), python_model=str(options.loader),
                                 artifacts={"model": str(folder)} if folder is not None else None,
                                 metadata=metadata(source), pip_requirements=requirements(source.record))
        return "python_function (models-from-code, the spec's loader)"
    raise InputError(f"{source.label}: the model was trained by a command and its artifact "
                     f"{folder.name if folder else '(none)'} holds no MLflow model (no MLmodel file), and its spec "
                     "names no loader; there is nothing MLflow could load",
                     hint="either save an MLflow model into the artifact folder from your training command (e.g. "
                          "mlflow.pyfunc.save_model(path=os.path.join(os.environ['MLOPS_OUT'], 'model'), ...), "
                          "with artifact: model/ in the spec), or name a models-from-code file that loads the "
                          "artifact: train: {loader: models/NAME/serve.py}")


def _alongside(source: ModelSource, build: Path) -> None:
    text = json.dumps(dict(source.record), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (build / RECORD_FILE).write_text(text, encoding="utf-8")
    if source.card is not None:
        (build / CARD_FILE).write_text(source.card, encoding="utf-8")
