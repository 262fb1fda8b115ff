"""Reading a results folder that ``mlops-actions train`` wrote (``mlops-out/<model>/``). I/O edge.

Per model: ``metrics.json`` ({model, task, metrics, directions, rows}), ``record.json`` (a version record,
validated against its schema: a hand-edited record is never trusted) and ``predictions.parquet`` (held-out
``y_true``, ``y_pred``, optional ``y_score`` and the sensitive / control columns by name).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.convention.model import ModelSpec
from mlops_actions.errors import InputError, MlopsError, Place
from mlops_actions.evaluation.assess import Candidate, FairnessView
from mlops_actions.evaluation.jsonfile import RUN_HINT  # re-exported: callers read here
from mlops_actions.evaluation.jsonfile import read_json as read_json

METRICS_FILE = "metrics.json"
RECORD_FILE = "record.json"
PREDICTIONS_FILE = "predictions.parquet"
FAIRNESS_FILE = "fairness.json"
EVALUATION_FILE = "evaluation.json"
ARTIFACT_FILE = "model.skops"  # the model, format skops
FILES_ARCHIVE = "model.zip"  # the model, format files
ArtifactHash = Callable[[Path, str], str]  # (file, format) -> the sha256 its record states
NOT_MEASURED = "fairness not measured: "
def result_folders(results: Path, *, missing_ok: bool = False) -> list[Path]:
    """Each model's folder under ``results`` (one holding ``metrics.json``), sorted by name.

    A missing folder is an error, or no results with ``missing_ok`` (the report then says which planned
    models lack results: when the plan is empty, a CI run has no results folder at all).
    """
    if missing_ok and not results.exists():
        return []
    if not results.is_dir():
        raise InputError(f"results folder {results.as_posix()} "
                         f"{'is a file, not a folder' if results.exists() else 'does not exist'}",
                         hint="run `mlops-actions run` (or `train MODEL`) first, or pass --results DIR")
    return sorted(p.parent for p in results.glob(f"*/{METRICS_FILE}"))


def _require(data: Any, key: str, kind: type | tuple[type, ...], display: str) -> Any:
    if not isinstance(data, dict) or not isinstance(data.get(key), kind):
        raise InputError(f"missing or malformed key '{key}'", place=Place(display, pointer=f"/{key}"),
                         hint=RUN_HINT.replace("produce it", "write it again"))
    return data[key]


def load_record(folder: Path, display: str) -> dict[str, Any]:
    """The version record, valid against ``schemas/version-record``, else an ``InputError`` with the pointer."""
    from mlops_actions.convention.schemas import VERSION_RECORD, validator

    data = read_json(folder / RECORD_FILE, display)
    errors = sorted(validator(VERSION_RECORD).iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    if errors:
        first = errors[0]
        pointer = "".join(f"/{p}" for p in first.absolute_path)
        raise InputError(f"not a valid version record: {first.message}", place=Place(display, pointer=pointer),
                         hint="records are written by `mlops-actions train`; do not edit them by hand")
    record: dict[str, Any] = data
    return record


def load_candidate(folder: Path, root: Path | None = None, *, artifact_sha256: ArtifactHash) -> Candidate:
    """Metrics and record of one model's folder (the folder's name is the model's name); ``artifact_sha256``
    is ``training.artifact.artifact_sha256``, passed in (training sits above evaluation)."""
    prefix = _display(folder, root)
    metrics_name, record_name = f"{prefix}/{METRICS_FILE}", f"{prefix}/{RECORD_FILE}"
    data = read_json(folder / METRICS_FILE, metrics_name)
    metrics = _require(data, "metrics", dict, metrics_name)
    directions = data.get("directions") if isinstance(data.get("directions"), dict) else {}
    model = data.get("model", folder.name)
    if model != folder.name:
        raise InputError(f"metrics are for model '{model}' but the folder is '{folder.name}'",
                         place=Place(metrics_name, pointer="/model"), hint="keep one folder per model")
    record = load_record(folder, record_name)
    if record["model"] != folder.name:
        raise InputError(f"the record is of model '{record['model']}' but the folder is '{folder.name}'",
                         place=Place(record_name, pointer="/model"), hint="keep one folder per model")
    _check_artifact(folder, record, prefix, artifact_sha256)
    task = str(data.get("task") or record.get("task") or "classification")
    merged = {**(record.get("metric_directions") or {}), **directions}
    return Candidate(folder.name, task, record, metrics, merged)


def _check_artifact(folder: Path, record: Mapping[str, Any], prefix: str, artifact_sha256: ArtifactHash) -> None:
    """The model file, when present, must be the one the record names: the report shows its sha256 and
    register uploads it, so a replaced file (say, a pickle in a zip) is refused here, never loaded."""
    import zipfile

    artifact = record.get("artifact") or {}
    name = FILES_ARCHIVE if artifact.get("format") == "files" else ARTIFACT_FILE
    path = folder / name
    if not path.is_file():
        return
    try:
        actual = artifact_sha256(path, str(artifact.get("format", "skops")))
    except OSError as exc:
        raise InputError(f"cannot read the model: {exc.strerror or exc}", place=Place(f"{prefix}/{path.name}"),
                         hint=RUN_HINT.replace("produce it", "write it again")) from None
    except (zipfile.BadZipFile, KeyError) as exc:
        raise InputError(f"not a zip of the model's files: {exc}", place=Place(f"{prefix}/{path.name}"),
                         hint="training outputs are never edited: run `mlops-actions train MODEL` again") from None
    if actual != artifact.get("sha256"):
        raise InputError(f"sha256 {actual[:12]}… is not the {str(artifact.get('sha256'))[:12]}… that record.json "
                         "names: the file was replaced after training", place=Place(f"{prefix}/{path.name}"),
                         hint="training outputs are never edited: run `mlops-actions train MODEL` again")


def _display(folder: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return folder.resolve().relative_to(root.resolve()).as_posix()
        except ValueError:
            pass
    return folder.as_posix()


def class_balance(y_true: Any) -> dict[str, float]:
    """Share of each label among the held-out rows, keys as text in sorted order."""
    import numpy as np
    import pandas as pd

    if isinstance(y_true.dtype, pd.CategoricalDtype) and not y_true.hasnans:  # counted on the codes
        counts = np.bincount(y_true.cat.codes.to_numpy(), minlength=len(y_true.cat.categories))
        text = y_true.cat.categories.astype(str)
        kept = {str(text[i]): int(counts[i]) for i in np.flatnonzero(counts)}
        total = sum(kept.values())
        return {k: kept[k] / total for k in sorted(kept)}
    shares = y_true.astype(str).value_counts(normalize=True)
    return {str(k): float(shares[k]) for k in sorted(shares.index)}


def load_predictions(folder: Path, root: Path | None = None) -> Any:
    """The held-out predictions as a DataFrame, or None when the file is not there.

    Text columns (labels, group values) are read as categoricals straight from Parquet's dictionary pages:
    no string is built per row, and every later pass (labels, groups, class shares) works on small codes.
    One thread: the report reads several models' files at once.
    """
    path = folder / PREDICTIONS_FILE
    if not path.is_file():
        return None
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        text = [f.name for f in pq.read_schema(path) if pa.types.is_string(f.type) or pa.types.is_large_string(f.type)]
        return pq.read_table(path, read_dictionary=text, use_threads=False).to_pandas(use_threads=False)
    except Exception as exc:  # pyarrow raises many kinds; all mean "not a readable parquet file"
        raise InputError(f"cannot read the predictions: {exc}", place=Place(f"{_display(folder, root)}/"
                         f"{PREDICTIONS_FILE}"), hint=RUN_HINT.replace("produce it", "write it again")) from None


FairnessResult = tuple[FairnessView | None, Mapping[str, float] | None, tuple[str, ...]]


_UNREAD: Any = object()


@dataclass(frozen=True)
class FairnessRequest:
    """How one model's fairness is to be measured: its ``spec`` (None: no spec, nothing measured) and
    ``task``, the policy's ``min_group_size`` (used when the spec sets none) and whether the disparities get
    bootstrap ``intervals`` (a baseline drawn as a line needs none)."""

    spec: ModelSpec | None
    task: str
    min_group_size: int | None = None
    intervals: bool = True


def fairness_for(folder: Path, request: FairnessRequest, root: Path | None = None,
                 frame: Any = _UNREAD) -> FairnessResult:
    """From the held-out predictions when they are here (``frame``, when the caller read them already);
    else from ``fairness.json`` (aggregates only, as a job that may not upload rows leaves them); else
    none, and a note saying so."""
    prefix = _display(folder, root)
    frame = load_predictions(folder, root) if frame is _UNREAD else frame
    if frame is None and (folder / FAIRNESS_FILE).is_file():
        from mlops_actions.evaluation.fairness_view import VIEW_FORMAT, view_from_dict

        data = read_json(folder / FAIRNESS_FILE, f"{prefix}/{FAIRNESS_FILE}")
        own = isinstance(data, dict) and data.get("format") == VIEW_FORMAT
        _require(data, "rows" if own else "groups", list, f"{prefix}/{FAIRNESS_FILE}")
        try:
            return view_from_dict(data), None, ()
        except (AttributeError, TypeError, ValueError, KeyError) as exc:  # hand-edited: not what train wrote
            raise InputError(f"not the fairness aggregates train writes ({type(exc).__name__}: {exc})",
                             place=Place(f"{prefix}/{FAIRNESS_FILE}"),
                             hint=RUN_HINT.replace("produce it", "write it again")) from None
    return fairness_of(frame, request, f"{prefix}/{PREDICTIONS_FILE}")


def fairness_of(frame: Any, request: FairnessRequest, display: str) -> FairnessResult:
    """Fairness view, class balance and notes for one model's predictions (None when not computable)."""
    spec = request.spec
    if frame is None:
        return None, None, (f"{display}: no held-out predictions; per-group fairness not available",)
    missing = [c for c in ("y_true", "y_pred") if c not in frame.columns]
    if missing:
        raise InputError(f"predictions lack the column(s) {', '.join(missing)}", place=Place(display),
                         hint=RUN_HINT.replace("produce it", "write it again"))
    balance = class_balance(frame["y_true"]) if request.task == "classification" else None
    if spec is None or not spec.data.sensitive:
        return None, balance, ()
    view, note = _evaluate(frame, spec, request, display)
    return view, balance, ((f"{NOT_MEASURED}{note}",) if note else ())


def _evaluate(frame: Any, spec: ModelSpec, request: FairnessRequest,
              display: str) -> tuple[FairnessView | None, str | None]:
    from mlops_actions.evaluation.fairness_measure import Rows, Settings, measure

    sensitive = list(spec.data.sensitive)
    absent = [c for c in [*sensitive, *spec.data.control] if c not in frame.columns]
    if absent:
        raise InputError(f"predictions lack the sensitive/control column(s) {', '.join(absent)}",
                         place=Place(display), hint=RUN_HINT.replace("produce it", "write it again"))
    try:
        measured = measure(Rows.of(frame), Settings.of(spec, request.min_group_size), request.task,
                           intervals=request.intervals)
    except MlopsError as exc:
        raise InputError(f"fairness report failed: {exc.message}", place=Place(display), hint=exc.hint) from None
    except (TypeError, ValueError) as exc:  # values no label can be (lists, say): not what train wrote
        raise InputError(f"the predictions hold values that are no labels ({exc})", place=Place(display),
                         hint=RUN_HINT.replace("produce it", "write it again")) from None
    return measured.view, measured.note


def threshold_of(spec: ModelSpec | None) -> float:
    """The decision threshold of a binary classifier: the spec's top-level ``threshold``, else 0.5."""
    value = spec.raw.get("threshold") if spec is not None else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.5


def heldout_for(folder: Path, spec: ModelSpec | None, task: str, metrics: Any, root: Path | None = None,
                frame: Any = _UNREAD) -> Any:
    """Metric replicates and pictures: from the held-out predictions when they are here (``frame``, when
    the caller read them already), else from ``evaluation.json`` (aggregates train wrote), else None."""
    from mlops_actions.evaluation import heldout

    frame = load_predictions(folder, root) if frame is _UNREAD else frame
    if frame is not None and {"y_true", "y_pred"} <= set(frame.columns):
        try:
            return heldout.of_frame(frame, task, list(metrics), threshold=threshold_of(spec),
                                    positive_label=spec.data.positive_label if spec is not None else None)
        except (TypeError, ValueError) as exc:
            raise InputError(f"the predictions hold values that are no labels ({exc})",
                             place=Place(f"{_display(folder, root)}/{PREDICTIONS_FILE}"),
                             hint=RUN_HINT.replace("produce it", "write it again")) from None
    if not (folder / EVALUATION_FILE).is_file():
        return None
    display = f"{_display(folder, root)}/{EVALUATION_FILE}"
    data = read_json(folder / EVALUATION_FILE, display)
    try:
        return heldout.from_dict(data) if isinstance(data, dict) else None
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"not the evaluation aggregates train writes ({type(exc).__name__}: {exc})",
                         place=Place(display), hint=RUN_HINT.replace("produce it", "write it again")) from None
