"""A model as an MLflow model directory, byte for byte the same for the same version and libraries.

scikit-learn models use MLflow's sklearn flavor in its skops format, holding exactly the bytes the record
names (sha256-verified), with the types mlops-actions accepted listed as trusted; where the installed MLflow's
sklearn flavor cannot read skops, a models-from-code pyfunc (``skops_model.py``) loads the same file under the
same rule. A pipeline factory's model that holds the repository's own types (a custom transformer) gets that
pyfunc too, with the repository modules train traced (the record's ``build.modules``, at the git blobs it
lists) under ``code/``, MLflow's ``code_paths``: the server imports them from there. Models trained by a
command export when their artifact holds an MLflow model (an ``MLmodel`` file at its top) or their spec names a
loader (``train.loader``, wrapped by ``loader_model.py``). Nothing is pickled. The signature comes from the
record's columns and types, the input example from held-out features, the pip requirements are pinned to the
versions the record names; the version record and the model card are written alongside. A binary classifier
trained with a ``threshold``, and a classifier that learned integer codes for its labels (XGBoost: the record's
``params.label_codes``), get the pyfunc too, which applies the threshold and answers labels. A loader model's
threshold is applied by ``loader_model.py`` to its ``predict_proba``. The folder appears complete or not at all.

MLflow itself is not imported: the files are written in its layout by ``mlmodel`` (seconds saved per export),
and the tests read them back with MLflow.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.errors import InputError
from mlops_actions.mlflow_bridge import mlmodel, require_mlflow_installed
from mlops_actions.mlflow_bridge.heldout import HeldOut
from mlops_actions.mlflow_bridge.signature import Columns, columns_of
from mlops_actions.mlflow_bridge.source import CARD_FILE, RECORD_FILE, ModelSource

SKOPS_FILE = "model.skops"
CODE_DIR = "code"
MLMODEL = mlmodel.MLMODEL
SKOPS_LOADER = Path(__file__).with_name("skops_model.py")
COMMAND_LOADER = Path(__file__).with_name("loader_model.py")
CODE_MODEL = "mlflow.pyfunc.loaders.code_model"
UNREGISTERED_TIME = "1980-01-01 00:00:00"  # a training folder has no registration time; fixed for determinism
NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class Loader:
    """A command-trained model's ``train.loader``: ``path:function`` and the repository files it needs."""

    ref: str
    files: Mapping[str, bytes]  # repository path -> bytes (the loader file and what it imports)


@dataclass(frozen=True)
class RepoModules:
    """A pipeline factory's repository modules (``build.modules``) and their files, as the record names them."""

    modules: tuple[str, ...]
    files: Mapping[str, bytes]  # repository path -> bytes, written under code/ at the same path


@dataclass(frozen=True)
class ExportOptions:
    allowed_prefixes: tuple[str, ...]
    example_rows: int = 5
    flavor: str = "auto"  # auto | sklearn | pyfunc (pyfunc: the models-from-code loader of the skops file)
    loader: Loader | None = None  # a command-trained model's loader, from its spec
    features: tuple[str, ...] = ()  # the spec's features, when no held-out rows say which columns are read
    modules: RepoModules | None = None  # a factory model's repository modules: shipped as MLflow code_paths


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
    require_mlflow_installed("export --format mlflow")
    out.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        build = scratch / "model"
        build.mkdir()
        flavor, rows, notes = _build(source, build, held_out, options)
        _alongside(source, build)
        if out.is_dir():
            out.rmdir()
        build.rename(out)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    if source.card is None:
        notes += ("no model card to add (`mlops-actions report` writes one into the training folder)",)
    return Exported(out, flavor, rows, notes)


def _build(source: ModelSource, build: Path, held_out: HeldOut,
           options: ExportOptions) -> tuple[str, int, tuple[str, ...]]:
    if source.artifact is None:
        return _command_model(source, build, held_out, options)
    from mlops_actions.mlflow_bridge.skops_types import types_to_trust

    modules = options.modules
    trusted = types_to_trust(source.artifact, options.allowed_prefixes, modules.modules if modules else ())
    columns = _columns(source, held_out, options)
    example, rows, notes = _example(build, held_out, columns, options.example_rows)
    code = _write_code(build, modules)
    decision = {**_decision(source, held_out), **_codes(source)}
    if _flavor(options, decision) == "sklearn":
        (build / SKOPS_FILE).write_bytes(source.artifact)
        flavors = _sklearn_flavors(source.record, trusted, code)
        kind = "sklearn (skops)"
    else:
        (build / "artifacts").mkdir()
        (build / "artifacts" / SKOPS_FILE).write_bytes(source.artifact)
        shutil.copyfile(SKOPS_LOADER, build / SKOPS_LOADER.name)
        flavors = {"python_function": _code_model(SKOPS_LOADER.name, {"model": SKOPS_FILE},
                                                  {"trusted_types": trusted, **decision}, code=code)}
        kind = "python_function (models-from-code, skops)"
    if code is not None and modules is not None:
        kind += f", with the repository modules {', '.join(modules.modules)} under {code}/"
    _finish(source, build, flavors, columns, example)
    return kind, rows, notes


def _write_code(build: Path, modules: RepoModules | None) -> str | None:
    """The repository modules under ``code/`` at their repository paths (MLflow's ``code_paths``: it puts
    ``code/`` first on ``sys.path`` before loading the model, so ``models.x.features`` imports from there)."""
    if modules is None or not modules.files:
        return None
    _write_files(build / CODE_DIR, modules.files)
    return CODE_DIR


def _finish(source: ModelSource, build: Path, flavors: Mapping[str, Any], columns: Columns | None,
            example: Mapping[str, str] | None, requirements: list[str] | None = None) -> None:
    mlmodel.write_environment(build, requirements if requirements is not None else pins(source.record))
    identity = mlmodel.ModelIdentity(source.sha256[:32], _created(source), metadata(source))
    mlmodel.write_mlmodel(build, flavors, identity, columns=columns, example=example)


def _columns(source: ModelSource, held_out: HeldOut, options: ExportOptions) -> Columns:
    """The signature's columns: the held-out frame's (the spec's features, in order), else the spec's."""
    features = [str(c) for c in held_out.frame.columns] if held_out.frame is not None else list(options.features)
    if not features:
        raise InputError(f"{source.label}: cannot tell which columns the model reads ({held_out.problem})",
                         hint="export from a clone holding the record's commit (fetch-depth: 0 in CI)")
    return columns_of(source.record, features, source.label)


def _decision(source: ModelSource, held_out: HeldOut) -> dict[str, Any]:
    """A binary classifier's decision threshold and positive class (``predict`` applies them, as training
    did for predictions.parquet); empty without a threshold."""
    threshold = source.record.get("threshold")
    if threshold is None:
        return {}
    if held_out.pos_label is None:
        raise InputError(f"{source.label}: the model decides at threshold {threshold}, but its positive class is "
                         f"known only from its data, which cannot be read ({held_out.problem})",
                         hint="export from a clone holding the record's commit and data (fetch-depth: 0 in CI)")
    return {"threshold": float(threshold), "positive_label": held_out.pos_label}


def _codes(source: ModelSource) -> dict[str, Any]:
    """The class of each integer code when the estimator learned codes (XGBoost; the record's
    ``params.label_codes``): ``predict`` maps its answers back to them, as training did."""
    codes = (source.record.get("params") or {}).get("label_codes")
    return {"label_codes": [str(c) for c in codes]} if codes else {}


def _flavor(options: ExportOptions, decision: Mapping[str, Any] | None = None) -> str:
    """``sklearn`` when the installed MLflow's sklearn flavor reads skops (read from its source, not imported)
    and nothing but its ``predict`` is needed; else our models-from-code loader."""
    decision = decision or {}
    if options.flavor == "sklearn" and "threshold" in decision:
        raise InputError("--flavor sklearn cannot serve a model with a threshold: MLflow's sklearn flavor calls "
                         "predict, which ignores it", hint="leave --flavor out (or use --flavor pyfunc)")
    if options.flavor == "sklearn" and "label_codes" in decision:
        raise InputError("--flavor sklearn cannot serve a model that learned integer codes for its labels "
                         f"(classes {', '.join(decision['label_codes'])}): MLflow's sklearn flavor calls predict, "
                         "which answers the codes, not the labels predictions.parquet holds",
                         hint="leave --flavor out (or use --flavor pyfunc)")
    if options.flavor != "auto":
        return options.flavor
    if options.modules is not None or decision:
        return "pyfunc"  # repository types, a threshold or label codes: our loader (the types checked at export)
    spec = importlib.util.find_spec("mlflow")  # finds the package without running it
    flavor = Path(next(iter(spec.submodule_search_locations or ()), "")) / "sklearn" / "__init__.py" \
        if spec is not None else None
    try:
        text = flavor.read_text(encoding="utf-8") if flavor is not None else ""
    except OSError:
        text = ""
    return "sklearn" if "SERIALIZATION_FORMAT_SKOPS" in text else "pyfunc"


def _example(build: Path, held_out: HeldOut, columns: Columns,
             rows: int) -> tuple[dict[str, str] | None, int, tuple[str, ...]]:
    if held_out.frame is None:
        return None, 0, (f"no input example: {held_out.problem}",)
    frame = held_out.frame[columns.names].head(rows).reset_index(drop=True)
    return mlmodel.write_example(build, frame), len(frame), ()


def _created(source: ModelSource) -> str:
    """The model's time: the version's registration time, never the clock."""
    created = str(source.record.get("created_at") or "")
    return created.replace("T", " ").replace("Z", "")[:19] if created else UNREGISTERED_TIME


def _sklearn_flavors(record: Mapping[str, Any], trusted: list[str], code: str | None) -> dict[str, Any]:
    sklearn_version = (record.get("libraries") or {}).get("scikit-learn") or mlmodel.installed("scikit-learn")
    return {"python_function": mlmodel.pyfunc_flavor(loader_module="mlflow.sklearn", model_path=SKOPS_FILE,
                                                     predict_fn="predict", **({"code": code} if code else {})),
            "sklearn": {"code": code, "pickled_model": SKOPS_FILE, "serialization_format": "skops",
                        "sklearn_version": sklearn_version, "skops_trusted_types": trusted or None}}


def _code_model(code_file: str, artifacts: Mapping[str, str], config: Mapping[str, Any],
                code: str | None = None) -> dict[str, Any]:
    """A models-from-code ``python_function`` flavor; ``artifacts`` maps names to paths under artifacts/,
    ``code`` the folder MLflow puts on ``sys.path`` first (its ``code_paths``)."""
    found = mlmodel.installed("cloudpickle")
    return mlmodel.pyfunc_flavor(
        artifacts={name: {"path": f"artifacts/{path}", "uri": path} for name, path in artifacts.items()},
        **({"cloudpickle_version": found} if found else {}), code=code, config=dict(config),
        loader_module=CODE_MODEL, model_code_path=code_file, streamable=False)


def metadata(source: ModelSource) -> dict[str, Any]:
    record = source.record
    keys = ("model", "version", "fingerprint", "commit", "pr")
    found = {key: record[key] for key in keys if record.get(key) is not None}
    return {"mlops_actions": {**found, "artifact_sha256": source.sha256, "record": RECORD_FILE}}


def pins(record: Mapping[str, Any], extra: tuple[str, ...] = ("skops",)) -> list[str]:
    """``name==version`` for every library the record names, plus ``extra`` (skops loads the file)."""
    found = {str(k): str(v) for k, v in (record.get("libraries") or {}).items() if v and v != NOT_INSTALLED}
    for name in extra:
        found.setdefault(name, mlmodel.installed(name) or "")
    return [f"{name}=={pin}" if pin else name for name, pin in sorted(found.items())]



# -- a command-trained model --------------------------------------------------------------------------------

def _command_model(source: ModelSource, build: Path, held_out: HeldOut,
                   options: ExportOptions) -> tuple[str, int, tuple[str, ...]]:
    """Its own MLflow model (``MLmodel`` at the top of its artifact), or its spec's loader wrapped."""
    files = dict(source.files or {})
    if MLMODEL in files:
        _write_files(build, files)
        return "as written by the training command (MLmodel)", 0, ()
    if options.loader is None:
        raise InputError(
            f"{source.label}: the model was trained by a command, its artifact holds no MLflow model (no MLmodel "
            "file at its top) and its spec names no loader; there is nothing MLflow could load",
            hint="either name a function that loads the artifact in the spec: train: {loader: "
                 "models/NAME/load.py:load} (it gets the artifact folder's path and returns an object with "
                 "predict), or save an MLflow model from your training command into the artifact folder (e.g. "
                 "mlflow.pyfunc.save_model(os.path.join(os.environ['MLOPS_OUT'], 'model'), ...))")
    _write_files(build / "artifacts" / "model", files)
    _write_files(build / "artifacts" / "code", options.loader.files)
    shutil.copyfile(COMMAND_LOADER, build / COMMAND_LOADER.name)
    columns = _columns(source, held_out, options)
    example, rows, notes = _example(build, held_out, columns, options.example_rows)
    decision = _decision(source, held_out)
    if decision:  # train thresholded the command's probabilities: the served model thresholds predict_proba's
        decision["classes"] = list(held_out.classes)  # its columns' order when the object has no classes_
    flavors = {"python_function": _code_model(COMMAND_LOADER.name, {"model": "model", "code": "code"},
                                              {"loader": options.loader.ref, **decision})}
    _finish(source, build, flavors, columns, example, pins(source.record, extra=()))
    return "python_function (models-from-code, the spec's loader)", rows, notes


def _write_files(folder: Path, files: Mapping[str, bytes]) -> None:
    for name, data in sorted(files.items()):
        path = folder / name
        if ".." in Path(name).parts or Path(name).is_absolute():
            raise InputError(f"the artifact holds a file outside its folder ({name}); refusing it")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


def _alongside(source: ModelSource, build: Path) -> None:
    text = json.dumps(dict(source.record), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    (build / RECORD_FILE).write_text(text, encoding="utf-8")
    if source.card is not None:
        (build / CARD_FILE).write_text(source.card, encoding="utf-8")
