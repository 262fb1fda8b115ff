"""Train one model: check, fit, evaluate, and write its outputs atomically to ``<out>/<model>/``.

A model is built one of three ways (``spec.build.kind``): declarative (preprocessing + an allow-listed
estimator), a pipeline factory in the repository, or a command under a file contract (``command``). The split,
metrics, fairness and gates are ours in all three, on held-out rows the model never saw.

Outputs (a contract other commands read): ``model.skops`` (canonical skops bytes, identical for the same
fingerprint) or, for a command, ``model.zip`` (its artifact folder; identity: sha256 of the files' listing),
``metrics.json``, ``predictions.parquet`` (held-out rows: y_true, y_pred, y_score when
defined, sensitive and control columns) and ``record.json`` (schemas/version-record; its timings vary).
They are built in memory, written to a temporary folder next to the destination and renamed into place;
on any failure nothing is left behind.
"""

from __future__ import annotations

import io
import json
import math
import shutil
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from mlops_actions.convention.model import COMMAND, DECLARATIVE, FACTORY, ModelSpec, Policy
from mlops_actions.errors import InputError
from mlops_actions.training.artifact import Artifact, dump_model, load_trusted
from mlops_actions.training.data import Dataset, load_dataset
from mlops_actions.training.features import model_frame
from mlops_actions.training.fingerprint import Fingerprint, fingerprint_worktree
from mlops_actions.training.metrics import MetricFailed, MetricResult, Predictions, compute, with_threshold
from mlops_actions.training.pipeline import build_pipeline, fit_error, make_estimator, resolve_estimator
from mlops_actions.training.repo_code import CheckedRepo, RepoCode, check_repo_code, import_function, repo_imports
from mlops_actions.training.size import check_fits
from mlops_actions.training.spec_places import SpecPlaces
from mlops_actions.training.split import Split, split_rows
from mlops_actions.writing import writing

METRICS_FILE = "metrics.json"
FAIRNESS_FILE = "fairness.json"
PREDICTIONS_FILE = "predictions.parquet"
EVALUATION_FILE = "evaluation.json"
RECORD_FILE = "record.json"
Stage = Callable[[str], AbstractContextManager[None]]


def _quiet_stage(title: str) -> AbstractContextManager[None]:
    return nullcontext()


@dataclass
class _Timer:
    """Runs each stage inside ``stage`` (progress lines / ::group::) and keeps its duration."""

    stage: Stage
    timings: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def __call__(self, key: str, title: str) -> Iterator[None]:
        start = time.perf_counter()
        with self.stage(title):
            yield
        self.timings[key] = round(time.perf_counter() - start, 6)


@dataclass(frozen=True)
class TrainResult:
    """What one training produced; the files are already in ``folder``."""

    model: str
    folder: Path
    artifact_sha256: str
    metrics: Mapping[str, float | None]
    record: Mapping[str, Any]
    notes: tuple[str, ...] = ()
    artifact_file: str = "model.skops"


def train_model(root: Path, spec: ModelSpec, policy: Policy, out_dir: Path, *,
                stage: Stage = _quiet_stage) -> TrainResult:
    """Train ``spec`` on its data in the repository at ``root``; outputs go to ``out_dir/<name>/``."""
    places = SpecPlaces.load(root, spec.spec_path)
    code = check_repo_code(root, spec, policy, places)
    with repo_imports(root, code.modules):
        return _train(CheckedRepo(root, places, code), spec, policy, out_dir, _Timer(stage))


def _train(repo: CheckedRepo, spec: ModelSpec, policy: Policy, out_dir: Path, timer: _Timer) -> TrainResult:
    root, places = repo.root, repo.places
    with timer("prepare", f"{spec.name}: prepare the {spec.build.kind} build, fingerprint"):
        builder = make_builder(repo, spec, policy, out_dir)
        fingerprint = fingerprint_worktree(root, spec)
    with timer("data", f"{spec.name}: load and check {spec.data.source}"):
        check_fits(root, spec, policy, places)  # refuse what would not fit in memory, before loading it
        dataset = load_dataset(root, spec, places)
        split = split_rows(dataset, spec, places)
    with timer("fit", f"{spec.name}: fit {builder.title} on {len(split.train)} rows"):
        fit_notes = builder.fit(dataset, split)
    with timer("evaluate", f"{spec.name}: evaluate on {len(split.test)} held-out rows"):
        preds = thresholded(builder.predict(dataset, split), spec, places)
        result = compute_metrics(root, spec, preds, places)
        fairness, fairness_doc, fairness_note = fairness_summary(spec, policy, dataset, split, preds)
    with timer("artifact", f"{spec.name}: save the model ({builder.artifact_kind})"):
        artifact = builder.save(dataset, split)
    with timer("outputs", f"{spec.name}: predictions, evaluation and metrics files"):
        files = {
            METRICS_FILE: metrics_json(spec, result, split),
            PREDICTIONS_FILE: predictions_parquet(spec, dataset, split, preds),
            artifact.file: artifact.data,
        }
        if fairness_doc is not None:  # aggregates only: what the report needs when predictions stay in the job
            files[FAIRNESS_FILE] = _json_bytes(fairness_doc)
        files[EVALUATION_FILE] = evaluation_json(spec, dataset, split, preds)
    trained = Trained(dataset, split, artifact, builder.params(), result, fairness, timer.timings)
    record = build_record(spec, fingerprint, trained, extra=build_fields(root, spec, repo.code))
    files[RECORD_FILE] = _json_bytes(record)
    with timer("write", f"{spec.name}: write outputs"):
        folder = write_atomically(out_dir, spec.name, files)
    skipped = (f"fairness: not measured: {fairness_note}",) if fairness_note else ()
    notes = (*dataset.notes, *split.notes, *fit_notes, *result.notes, *skipped)
    return TrainResult(spec.name, folder, artifact.sha256, result.values, record, notes, artifact.file)


# --- builders: how the model is made ---------------------------------------------------------------

class Builder(Protocol):
    """How one kind of build makes its model: fit on the training rows, predict the held-out rows, save."""

    @property
    def title(self) -> str: ...
    artifact_kind: str

    def fit(self, dataset: Dataset, split: Split) -> tuple[str, ...]: ...
    def predict(self, dataset: Dataset, split: Split) -> Predictions: ...
    def save(self, dataset: Dataset, split: Split) -> Artifact: ...
    def params(self) -> dict[str, Any]: ...


def make_builder(repo: CheckedRepo, spec: ModelSpec, policy: Policy, out_dir: Path) -> Builder:
    """The builder of the spec's kind: estimator or pipeline (scikit-learn API, skops) or command (files)."""
    root, places = repo.root, repo.places
    if spec.build.kind == COMMAND:
        from mlops_actions.training.command_builder import CommandBuilder

        return CommandBuilder(repo, spec, skip=(out_dir,))
    if spec.build.kind == FACTORY:
        from mlops_actions.training.factory import build_estimator

        estimator = build_estimator(root, spec, places)
        return SklearnBuilder(spec, estimator, policy, places, repo.code.modules, root=root)
    estimator = make_estimator(resolve_estimator(spec.estimator.class_path, policy, places), spec, places)
    return SklearnBuilder(spec, build_pipeline(spec, estimator), policy, places, ())


@dataclass
class SklearnBuilder:
    """A scikit-learn-compatible estimator: fit, predict, saved with skops and loaded back (trusted types only)."""

    spec: ModelSpec
    model: Any
    policy: Policy
    places: SpecPlaces
    modules: tuple[str, ...]
    artifact_kind: str = "skops"
    _predicted: np.ndarray | None = None
    codes: tuple[str, ...] = ()  # classes, when the estimator learns integer codes 0..k-1 instead (XGBoost)
    root: Path | None = None  # a factory's repository: its errors name the line of the team's code

    @property
    def title(self) -> str:
        return self.spec.estimator.class_path if self.spec.build.kind == DECLARATIVE else self.spec.build.target

    def frame(self, dataset: Dataset, rows: np.ndarray) -> pd.DataFrame:
        X = dataset.X.iloc[rows]
        return model_frame(X, self.spec.data.features) if self.spec.build.kind == DECLARATIVE else X

    def fit(self, dataset: Dataset, split: Split) -> tuple[str, ...]:
        """Fit on the training rows; notes from the warnings it raised (e.g. no convergence)."""
        X, y = self.frame(dataset, split.train), dataset.y.iloc[split.train].to_numpy()
        if self.spec.task == "classification" and needs_codes(self.model):
            self.codes = dataset.classes
            y = np.searchsorted(np.asarray(dataset.classes, dtype=object), y)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                self.model.fit(X, y)
            except Exception as exc:  # the estimator is user-chosen code: any failure is the user's to fix
                raise fit_error(exc, self.spec, self.places, root=self.root) from exc
        return _warning_notes(caught)

    def predict(self, dataset: Dataset, split: Split) -> Predictions:
        preds = self._predictions(dataset, split)
        self._predicted = preds.y_pred
        if not self.codes:
            return preds
        labels = np.asarray(self.codes, dtype=object)
        return Predictions(preds.y_true, labels[preds.y_pred.astype(int)], preds.proba, self.codes, preds.pos_label)

    def _predictions(self, dataset: Dataset, split: Split) -> Predictions:
        """The model's own predictions of the held-out rows (class codes, when it learnt codes)."""
        X, spec = self.frame(dataset, split.test), self.spec
        y_true = dataset.y.iloc[split.test].to_numpy()
        try:
            y_pred = np.asarray(self.model.predict(X))
            proba = np.asarray(self.model.predict_proba(X)) if _has_proba(self.model, spec) else None
        except Exception as exc:  # user-chosen estimator code
            raise fit_error(exc, spec, self.places, root=self.root, stage="predict") from exc
        classes = tuple(getattr(self.model, "classes_", dataset.classes)) if proba is not None else dataset.classes
        return Predictions(y_true, y_pred, proba, classes, dataset.pos_label)

    def save(self, dataset: Dataset, split: Split) -> Artifact:
        artifact = dump_model(self.model)
        rows = split.test[:ROUND_TRIP_ROWS]  # only the rows the round trip compares are framed again
        try:
            _check_round_trip(artifact, self._predicted, self.frame(dataset, rows), self.policy, self.modules)
        except InputError as exc:  # the build that made the model is where to fix it
            from mlops_actions.training.factory import factory_place

            place = self.places.at("estimator", "class") if self.spec.build.kind == DECLARATIVE else \
                factory_place(self.spec, self.places)
            raise InputError(exc.message, place=exc.place or place, hint=exc.hint) from exc
        return artifact

    def params(self) -> dict[str, Any]:
        codes = {"label_codes": list(self.codes)} if self.codes else {}
        if self.spec.build.kind == DECLARATIVE:
            return {**estimator_params(self.spec, self.model), **codes}
        return {"class": _qualified(self.model), "factory": self.spec.build.target,
                "params": {k: _plain(v) for k, v in sorted(self.model.get_params(deep=False).items())}, **codes}


# Estimators whose classifiers accept only integer labels 0..k-1: they learn codes in sorted class order, and
# the record's params say so (``label_codes``: the class of each code).
INTEGER_LABEL_MODULES = ("xgboost.",)


def needs_codes(model: Any) -> bool:
    final = model.steps[-1][1] if hasattr(model, "steps") else model
    return type(final).__module__.startswith(INTEGER_LABEL_MODULES)


def _qualified(obj: Any) -> str:
    return f"{type(obj).__module__}.{type(obj).__qualname__}"


def _warning_notes(caught: list[warnings.WarningMessage]) -> tuple[str, ...]:
    seen: dict[str, None] = {}
    for w in caught:
        if issubclass(w.category, UserWarning | RuntimeWarning):
            seen.setdefault(f"{w.category.__name__}: {' '.join(str(w.message).split())[:300]}", None)
    return tuple(seen)


def thresholded(preds: Predictions, spec: ModelSpec, places: SpecPlaces) -> Predictions:
    """Predictions at the spec's threshold; refused when the model gives no positive-class probability."""
    if spec.threshold is None:
        return preds
    if preds.classes and not preds.binary:
        raise InputError(f"threshold applies to binary classifiers only; the target '{spec.data.target}' has "
                         f"{len(preds.classes)} classes", place=places.at("threshold"),
                         hint="remove threshold (a multi-class model predicts its most probable class)")
    if preds.y_score is None:
        raise InputError("threshold is set, but the model gives no probability of the positive class (a binary "
                         "classifier with predict_proba, or a command writing proba_<class> or score)",
                         place=places.at("threshold"), hint="remove threshold, or use a model with probabilities")
    return with_threshold(preds, spec.threshold)


def compute_metrics(root: Path, spec: ModelSpec, preds: Predictions, places: SpecPlaces) -> MetricResult:
    """The spec's metrics; repository metrics are imported here (their imports were checked) and any raise is
    an error at the metric's key."""
    repo: dict[str, Any] = {}
    for name in (n for n in spec.metrics if ".py:" in n):
        path, function = name.rsplit(":", 1)
        repo[name] = import_function(root, path, function, places.at("metrics", name, at="key"))
    try:
        return compute(spec.task, list(spec.metrics), preds, repo)
    except MetricFailed as exc:
        from mlops_actions.training.repo_code import code_error

        place = places.at("metrics", exc.name, at="key")
        if exc.returned is not None:
            raise InputError(f"metric '{exc.name}' returned {exc.returned}, not a number", place=place,
                             hint="return a float (None or NaN when the metric is undefined on the held-out "
                                  "rows); nothing was written") from exc
        raise code_error(exc.cause, root, f"metric '{exc.name}' raised", place) from exc


def _has_proba(pipeline: Any, spec: ModelSpec) -> bool:
    return spec.task == "classification" and hasattr(pipeline, "predict_proba")


ROUND_TRIP_ROWS = 20_000


def _check_round_trip(artifact: Artifact, predicted: np.ndarray | None, X: pd.DataFrame, policy: Policy,
                      modules: tuple[str, ...]) -> None:
    """Load the bytes back (only trusted types) and check they predict what the fitted model did."""
    loaded = load_trusted(artifact.data, policy.allowed_prefixes, modules)
    rows = slice(0, ROUND_TRIP_ROWS)  # the same predictions on this many held-out rows: the bytes hold the model
    if predicted is None or not np.array_equal(np.asarray(loaded.predict(X.iloc[rows])), predicted[rows]):
        raise InputError("the saved model predicts differently from the trained one; it was not saved",
                         hint="the estimator does not survive skops serialization; choose another estimator")


# --- fairness ---------------------------------------------------------------------------------------

def fairness_summary(spec: ModelSpec, policy: Policy, dataset: Dataset, split: Split, preds: Predictions,
                     ) -> tuple[dict[str, float | None] | None, dict[str, Any] | None, str | None]:
    """The record's disparities, the report's fairness view as JSON (aggregates only, never rows), and why
    fairness was not measured (a multi-class target naming no class), as ``evaluation.fairness_measure``
    decides for the report too."""
    from mlops_actions.evaluation.fairness_measure import Rows, Settings, measure, record_summary
    from mlops_actions.evaluation.fairness_view import view_to_dict

    settings = Settings.of(spec, policy.min_group_size)
    measured = measure(Rows(preds.y_true, preds.y_pred, dataset.groups.iloc[split.test]), settings, spec.task)
    if measured.view is None:
        return None, None, measured.note
    summary = {k: _finite(v) for k, v in sorted((record_summary(measured.view) or {}).items())}
    return summary, view_to_dict(measured.view), None


def evaluation_json(spec: ModelSpec, dataset: Dataset, split: Split, preds: Predictions) -> bytes:
    """Metric bootstrap replicates and the report's pictures (aggregates only), as the report computes them."""
    from mlops_actions.evaluation.heldout import of_frame
    from mlops_actions.evaluation.results import threshold_of

    frame = predictions_frame(spec, dataset, split, preds)
    found = of_frame(frame, spec.task, list(spec.metrics), positive_label=spec.data.positive_label,
                     threshold=threshold_of(spec))
    return _json_bytes(found.as_dict())


def _finite(value: Any) -> float | None:
    if value is None:
        return None
    number = float(value)
    return number if math.isfinite(number) else None


# --- outputs ----------------------------------------------------------------------------------------

def _json_bytes(data: Any) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")


def metrics_json(spec: ModelSpec, result: MetricResult, split: Split) -> bytes:
    return _json_bytes({"model": spec.name, "task": spec.task, "metrics": dict(result.values),
                        "directions": dict(spec.metrics), "rows": _rows(split)})


def _rows(split: Split) -> dict[str, int]:
    return {"train": len(split.train), "test": len(split.test)}


def predictions_frame(spec: ModelSpec, dataset: Dataset, split: Split, preds: Predictions) -> pd.DataFrame:
    columns: dict[str, Any] = {"y_true": preds.y_true, "y_pred": preds.y_pred}
    if preds.y_score is not None:
        columns["y_score"] = preds.y_score
    groups = dataset.groups.iloc[split.test]
    for name in groups.columns:
        columns[name] = groups[name].to_numpy()
    return pd.DataFrame(columns)


def predictions_parquet(spec: ModelSpec, dataset: Dataset, split: Split, preds: Predictions) -> bytes:
    """Held-out predictions as parquet bytes: no index, fixed compression, deterministic for equal input."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    frame = predictions_frame(spec, dataset, split, preds)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    sink = io.BytesIO()
    pq.write_table(table, sink, compression="snappy", write_statistics=True)
    return sink.getvalue()


@dataclass(frozen=True)
class Trained:
    """What one training made and measured, as its version record tells it: the data and its split, the saved
    artifact, the estimator's parameters, the held-out metrics, the fairness summary (None: not measured) and
    the seconds each stage took."""

    dataset: Dataset
    split: Split
    artifact: Artifact
    params: Mapping[str, Any]
    result: MetricResult
    fairness: Mapping[str, float | None] | None
    timings: Mapping[str, float]


def build_record(spec: ModelSpec, fingerprint: Fingerprint, trained: Trained,
                 extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The version record of this training, validated against schemas/version-record."""
    record: dict[str, Any] = {
        "record_version": 1, "model": spec.name, "task": spec.task, **fingerprint.record_fields(),
        "artifact": trained.artifact.to_record(), "params": dict(trained.params),
        "metrics": dict(trained.result.values), "metric_directions": dict(spec.metrics),
        "rows": _rows(trained.split), "timings": dict(trained.timings),
    }
    record["data"] = [_data_entry(d, trained.dataset) for d in record["data"]]
    if trained.fairness is not None:
        record["fairness"] = dict(trained.fairness)
    record.update(extra or {})
    check_record(record)
    return record


def build_fields(root: Path, spec: ModelSpec, code: RepoCode) -> dict[str, Any]:
    """How the model was built, its threshold, the rebuild rule and the installed requirements."""
    from mlops_actions.training.requirements import installed_requirements

    build: dict[str, Any] = {"kind": spec.build.kind, "target": spec.build.target}
    if code.modules:
        build["modules"] = list(code.modules)
    fields: dict[str, Any] = {"build": build, "reproducibility": {"rule": spec.reproducibility}}
    if spec.reproducibility == "metrics":
        fields["reproducibility"]["tolerance"] = spec.tolerance
    if spec.threshold is not None:
        fields["threshold"] = spec.threshold
    if spec.requirements:
        fields["requirements"] = installed_requirements(root, spec.requirements)
    return fields


def _data_entry(entry: Mapping[str, Any], dataset: Dataset) -> dict[str, Any]:
    if entry["path"] != dataset.display:
        return dict(entry)
    return {**entry, "rows": dataset.rows, "columns": dict(dataset.columns)}


def estimator_params(spec: ModelSpec, pipeline: Any) -> dict[str, Any]:
    estimator = pipeline.named_steps["estimator"]
    params = {k: _plain(v) for k, v in sorted(estimator.get_params(deep=False).items())}
    return {"class": spec.estimator.class_path, "params": params}


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return f"<{type(value).__module__}.{type(value).__qualname__}>"


def check_record(record: Mapping[str, Any]) -> None:
    """Refuse (as our bug, not the user's) a record that does not follow schemas/version-record."""
    from mlops_actions.convention.schemas import VERSION_RECORD, validator

    errors = sorted(validator(VERSION_RECORD).iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        where = "/".join(str(p) for p in errors[0].absolute_path)
        raise AssertionError(f"version record does not follow the schema at '{where}': {errors[0].message}")


def write_atomically(out_dir: Path, name: str, files: Mapping[str, bytes]) -> Path:
    """Write ``files`` into a temporary folder next to ``out_dir/name``, then rename it into place; a failed
    write (disk full, read-only folder) is an ``InputError`` and leaves ``out_dir/name`` as it was."""
    with writing(out_dir / name, f"the training outputs of {name}"):
        return _write_atomically(out_dir, name, files)


def _write_atomically(out_dir: Path, name: str, files: Mapping[str, bytes]) -> Path:
    created = not out_dir.exists()
    out_dir.mkdir(parents=True, exist_ok=True)
    final = out_dir / name
    tmp = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-", dir=out_dir))
    try:
        tmp.chmod(0o755)
        for file_name, data in sorted(files.items()):
            (tmp / file_name).write_bytes(data)
        _replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created and not any(out_dir.iterdir()):
            out_dir.rmdir()
        raise
    return final


def _replace(tmp: Path, final: Path) -> None:
    if not final.exists():
        tmp.rename(final)
        return
    old = final.with_name(f".{final.name}.old-{tmp.name.rsplit('-', 1)[-1]}")
    final.rename(old)
    try:
        tmp.rename(final)
    except BaseException:
        old.rename(final)
        raise
    shutil.rmtree(old, ignore_errors=True)
