"""``mlops-actions monitor``: drift of current data against the training data of the deployed version.

``MonitorOptions`` is what the command line says. ``assess`` gathers the inputs (spec, reference, current
data) and runs the pure engine; ``monitor`` prints
the report, writes the Actions summary and outputs, then hands the result to an optional ``publisher``
(the GitHub layer: open, update or close the drift issue). Exit 0 when nothing fails; exit 1 when the
verdict is ``fail`` (a column drifted beyond the fail thresholds, or a metric regressed on current data).
"""

from __future__ import annotations

import csv
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TextIO

import pandas as pd

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import POLICY_FILE
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.schemas import POLICY
from mlops_actions.convention.validation import load_spec, load_valid
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, InputError
from mlops_actions.monitoring import data as tables
from mlops_actions.monitoring import engine
from mlops_actions.monitoring.performance import Expected, evaluate
from mlops_actions.monitoring.reference import Reference, find_reference
from mlops_actions.monitoring.stream import TableSource
from mlops_actions.monitoring.thresholds import FAIL, Thresholds
from mlops_actions.reporting.monitor import RENDERERS
from mlops_actions.reporting.render import Format, renderer

STREAM_BYTES = 512 * 1024**2  # a larger current or reference file is streamed in batches
Publisher = Callable[[engine.MonitorResult, str], None]


@dataclass(frozen=True)
class MonitorOptions:
    """What the command line says: the model, the current data, where the reference comes from (``env``'s
    deployed version, default the policy's baseline, or a ``reference`` file), the output format, threshold
    overrides, and ``stream`` (implied for files over ``STREAM_BYTES``)."""

    model: str
    current: Path
    env: str | None = None
    reference: Path | None = None
    fmt: Format = "markdown"
    thresholds: Mapping[str, Any] = field(default_factory=dict)
    stream: bool = False


@dataclass(frozen=True)
class Inputs:
    spec: ModelSpec
    environment: str | None
    reference: Reference
    reference_frame: pd.DataFrame
    current_frame: pd.DataFrame
    current: str
    min_group_size: int | None = None


def monitor(root: Path, options: MonitorOptions, *, runtime: ActionsRuntime, publisher: Publisher | None = None,
            out: TextIO | None = None) -> int:
    """Print the drift report of the model; exit 1 when its verdict is ``fail``. Streaming reads the tables in
    record batches: memory O(batch), see ``monitoring.stream``."""
    render = renderer(RENDERERS, options.fmt)
    if options.stream or _large(options.current, options.reference):
        result = assess_streaming(root, options, runtime=runtime)
    else:
        result = assess(root, options, runtime=runtime)
    text = RENDERERS["markdown"](result)
    print(render(result), file=out or sys.stdout)
    runtime.append_summary(text)
    runtime.set_output("drift", "true" if result.drift else "false")
    runtime.set_output("retrain", "true" if result.retrain else "false")
    if publisher is not None:
        publisher(result, text)
    return EXIT_INVALID if result.verdict == FAIL else EXIT_OK


def assess(root: Path, options: MonitorOptions, *, runtime: ActionsRuntime) -> engine.MonitorResult:
    """Load the inputs and compare them; every bad input is an ``InputError`` (exit 1)."""
    model = options.model
    with runtime.group(f"monitor {model}: load data"):
        inputs = gather(root, options)
    limits = Thresholds.from_mapping(_spec_thresholds(inputs.spec) | dict(options.thresholds),
                                     source=f"thresholds of {model}")
    with runtime.group(f"monitor {model}: compare"):
        return compare(inputs, limits)


def _large(*paths: Path | None) -> bool:
    return any(p is not None and p.is_file() and p.stat().st_size > STREAM_BYTES for p in paths)


def assess_streaming(root: Path, options: MonitorOptions, *, runtime: ActionsRuntime) -> engine.MonitorResult:
    """``assess`` for tables larger than memory: drift, metrics and fairness from streamed batches."""
    from mlops_actions.monitoring.stream import stream_compare

    model, current = options.model, options.current
    spec = load_spec(root, model)
    environment = _environment(root, options)
    ref, ref_source = _streamed_reference(root, spec, environment, options.reference)
    cur_source = TableSource(_existing(current, "--current"), tables.format_of(current), str(current))
    cur_names, ref_names = column_names(cur_source), column_names(ref_source)
    missing = [c for c in spec.data.features if c not in cur_names]
    if missing:
        tables.require_columns(pd.DataFrame(columns=cur_names), list(spec.data.features), str(current),
                               "the model needs them")
    limits = Thresholds.from_mapping(_spec_thresholds(spec) | dict(options.thresholds), source=f"thresholds of {model}")
    columns, notes = _columns(spec, pd.DataFrame(columns=cur_names), pd.DataFrame(columns=ref_names))
    columns = tuple(c for c in columns if c.source in ref_names)
    with runtime.group(f"monitor {model}: compare in batches"):
        found = stream_compare(ref_source, cur_source, columns, limits)
        metrics, fairness, more = _streamed_outcomes(cur_source, cur_names, spec, ref, limits,
                                                     _policy(root).min_group_size)
    return engine.MonitorResult(
        model=spec.name, version=ref.version, environment=environment, reference=ref.description,
        current=str(current), reference_rows=found.reference_rows, current_rows=found.current_rows,
        thresholds=limits, columns=found.columns, metrics=metrics, fairness=fairness,
        notes=(*notes, *more, found.note()))


def _existing(path: Path, option: str) -> Path:
    if not path.is_file():
        raise InputError(f"{path}: {'a folder, not a file' if path.is_dir() else 'no such file'}",
                         hint=f"pass the path of a CSV or Parquet file with {option}")
    return path


def _streamed_reference(root: Path, spec: ModelSpec, env: str | None,
                        path: Path | None) -> tuple[Reference, TableSource]:
    """The reference as a stream: a file given with --reference is never read whole."""
    if path is not None:
        fmt = tables.format_of(_existing(path, "--reference"))
        return Reference(b"", fmt, str(path)), TableSource(path, fmt, str(path))
    ref = _reference(root, spec, env, None)
    return ref, TableSource(ref.data, ref.fmt, f"reference data ({ref.description})")


def column_names(source: TableSource) -> list[str]:
    """The table's column names, from the Parquet schema or the CSV header (no rows read)."""
    import pyarrow.parquet as pq

    try:
        if source.fmt == "parquet":
            return list(pq.read_schema(source.open()).names)
        if isinstance(source.data, bytes):
            first = source.data.split(b"\n", 1)[0]
        else:
            with source.data.open("rb") as fh:
                first = fh.readline()
        return next(csv.reader([first.decode("utf-8-sig")]), [])
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise InputError(f"{source.display}: cannot read it as {source.fmt}: {exc}") from None


def _streamed_outcomes(source: TableSource, names: list[str], spec: ModelSpec, ref: Reference,
                       limits: Thresholds, min_group_size: int | None = None,
                       ) -> tuple[tuple[Any, ...], tuple[Any, ...], list[str]]:
    from mlops_actions.monitoring.fairness_check import changes_from_cells
    from mlops_actions.monitoring.outcomes import streamed_outcomes

    if spec.data.target not in names or engine.PREDICTION_COLUMN not in names:
        return (), (), ["model metrics not computed: current data needs the target and a 'prediction' column"]
    groups = [*spec.data.sensitive, *spec.data.control]
    fairness = bool(spec.data.sensitive) and all(g in names for g in groups)
    expected = Expected(spec.task, spec.metrics, ref.record.get("metrics", {}), limits.metric_regression,
                        spec.data.positive_label)
    perf, stream = streamed_outcomes(source, spec, expected, fairness=fairness)
    notes = [f"model metrics on {perf.rows:,} labelled rows"]
    changes = changes_from_cells(stream, ref.record.get("fairness", {}), min_group_size=min_group_size) \
        if stream else ()
    if spec.data.sensitive and not fairness:
        absent = ", ".join(repr(g) for g in groups if g not in names)
        notes.append(f"fairness not computed: current data lacks {absent}")
    return perf.changes, changes, notes


def gather(root: Path, options: MonitorOptions) -> Inputs:
    current = options.current
    spec = load_spec(root, options.model)
    environment = _environment(root, options)
    ref = _reference(root, spec, environment, options.reference)
    ref_label = f"reference data ({ref.description})"
    ref_frame = tables.read_bytes(ref.data, ref.fmt, ref_label)
    cur_frame = tables.read_path(current)
    kinds = _kinds(spec)
    tables.require_columns(cur_frame, list(spec.data.features), str(current), "the model needs them")
    tables.require_columns(ref_frame, [c for c, k in kinds.items() if k != tables.TEXT], ref_label,
                           "the monitor compares them")
    extra = _extra_kinds(spec, cur_frame)
    cur_frame = tables.numeric_columns(cur_frame, kinds | extra, str(current))
    ref_frame = tables.numeric_columns(ref_frame, _on_reference(kinds | extra, spec, ref_frame), ref_label)
    return Inputs(spec, environment, ref, ref_frame, cur_frame, str(current), _policy(root).min_group_size)


def _environment(root: Path, options: MonitorOptions) -> str | None:
    """``--env``; without it, none when ``--reference`` names the reference, else the policy's baseline."""
    if options.env is not None or options.reference is not None:
        return options.env
    return default_environment(root)


def default_environment(root: Path) -> str:
    """The policy's baseline environment (``production`` by default)."""
    return _policy(root).baseline


def _policy(root: Path) -> Policy:
    policy = load_valid(root, POLICY_FILE, POLICY) if (root / POLICY_FILE).is_file() else None
    return Policy.from_dict(policy)


def _reference(root: Path, spec: ModelSpec, env: str | None, path: Path | None) -> Reference:
    if path is None:
        assert env is not None
        return find_reference(root, spec.name, env, spec.data.format)
    if not path.is_file():
        raise InputError(f"{path}: {'a folder, not a file' if path.is_dir() else 'no such file'}",
                         hint="pass the path of the reference data (CSV or Parquet) with --reference")
    return Reference(path.read_bytes(), tables.format_of(path), str(path))


def _spec_thresholds(spec: ModelSpec) -> dict[str, Any]:
    """``monitor.thresholds`` of the spec (schemas/model-spec: ``monitor.thresholds``)."""
    section = spec.raw.get("monitor")
    return dict(section.get("thresholds") or {}) if isinstance(section, Mapping) else {}


def _kinds(spec: ModelSpec) -> dict[str, str]:
    return {name: tables.KIND_OF_TYPE[ftype] for name, ftype in spec.data.features.items()}


def _target_kind(spec: ModelSpec) -> str:
    return tables.NUMERIC if spec.task == "regression" else tables.CATEGORICAL


def _extra_kinds(spec: ModelSpec, current: pd.DataFrame) -> dict[str, str]:
    """Kinds of the target and prediction columns when current data holds them."""
    extra = {}
    for name in (spec.data.target, engine.PREDICTION_COLUMN):
        if name in current.columns and name not in spec.data.features:
            extra[name] = _target_kind(spec)
    return extra


def _on_reference(kinds: dict[str, str], spec: ModelSpec, reference: pd.DataFrame) -> dict[str, str]:
    present = {name: kind for name, kind in kinds.items() if name in reference.columns}
    if engine.PREDICTION_COLUMN in kinds and spec.data.target in reference.columns:
        present[spec.data.target] = _target_kind(spec)
    return present


def compare(inputs: Inputs, limits: Thresholds) -> engine.MonitorResult:
    spec, cur, ref = inputs.spec, inputs.current_frame, inputs.reference_frame
    columns, notes = _columns(spec, cur, ref)
    results = _missing_rule(spec, engine.compare(ref, cur, columns, limits))
    metrics, metric_notes = _performance(inputs, limits)
    fairness, fairness_notes = _fairness(inputs)
    return engine.MonitorResult(
        model=spec.name, version=inputs.reference.version, environment=inputs.environment,
        reference=inputs.reference.description, current=inputs.current, reference_rows=len(ref),
        current_rows=len(cur), thresholds=limits, columns=results, metrics=metrics, fairness=fairness,
        notes=(*notes, *metric_notes, *fairness_notes))


def _missing_rule(spec: ModelSpec, results: tuple[engine.ColumnResult, ...]) -> tuple[engine.ColumnResult, ...]:
    """``data.missing.features: error``: a feature with missing values in current data fails (the model
    refuses such rows in training, so it cannot be trusted on them)."""
    if spec.data.missing_features != "error":
        return results
    return tuple(replace(r, verdict=FAIL, reasons=(*r.reasons, f"{r.drift.missing_current:.1%} missing, which "
                                                    "data.missing.features: error forbids"))
                 if r.role == engine.FEATURE and r.drift.missing_current > 0 else r for r in results)


def _columns(spec: ModelSpec, cur: pd.DataFrame, ref: pd.DataFrame) -> tuple[tuple[engine.Column, ...], list[str]]:
    columns = list(engine.monitored_columns(spec.data.features, tables.KIND_OF_TYPE))
    notes = [f"text feature '{n}' is not compared" for n, t in spec.data.features.items() if t == "text"]
    target, kind = spec.data.target, _target_kind(spec)
    if engine.PREDICTION_COLUMN in cur.columns and engine.PREDICTION_COLUMN not in spec.data.features:
        column, note = _prediction_column(kind, target, ref)
        columns += [column] if column else []
        notes.append(note)
    if target in cur.columns and target in ref.columns and target not in spec.data.features:
        columns.append(engine.Column(target, kind, engine.TARGET))
    return tuple(columns), notes


def _prediction_column(kind: str, target: str, ref: pd.DataFrame) -> tuple[engine.Column | None, str]:
    name = engine.PREDICTION_COLUMN
    if name in ref.columns:
        return engine.Column(name, kind, engine.PREDICTION), "prediction drift: predictions vs the reference's"
    if target in ref.columns:
        return (engine.Column(name, kind, engine.PREDICTION, reference_name=target),
                f"prediction drift: current predictions vs the training labels ('{target}')")
    return None, "prediction drift not computed: the reference has neither predictions nor labels"


def _performance(inputs: Inputs, limits: Thresholds) -> tuple[tuple[Any, ...], list[str]]:
    spec, cur = inputs.spec, inputs.current_frame
    if spec.data.target not in cur.columns or engine.PREDICTION_COLUMN not in cur.columns:
        return (), ["model metrics not computed: current data needs the target and a 'prediction' column"]
    scores = probability_columns(cur)
    expected = Expected(spec.task, spec.metrics, inputs.reference.record.get("metrics", {}), limits.metric_regression,
                        spec.data.positive_label)
    perf = evaluate(cur[spec.data.target], cur[engine.PREDICTION_COLUMN], expected, display=inputs.current,
                    scores=scores)
    notes = [f"model metrics on {perf.rows:,} labelled rows"]
    if perf.skipped:
        notes.append(f"not computed (they need probabilities: add a 'probability' column, the positive class's, "
                     f"or one 'probability_<class>' column per class): {', '.join(perf.skipped)}")
    return perf.changes, notes


def probability_columns(frame: pd.DataFrame) -> pd.DataFrame | None:
    """``probability`` (a binary model's positive class) or ``probability_<class>`` columns, when present."""
    if "probability" in frame.columns:
        return frame[["probability"]]
    named = [c for c in frame.columns if isinstance(c, str) and c.startswith("probability_")]
    return frame[named] if named else None


def _fairness(inputs: Inputs) -> tuple[tuple[Any, ...], list[str]]:
    spec, cur = inputs.spec, inputs.current_frame
    needed = [spec.data.target, engine.PREDICTION_COLUMN, *spec.data.sensitive, *spec.data.control]
    if not spec.data.sensitive:
        return (), []
    absent = [name for name in needed if name not in cur.columns]
    if absent:
        return (), [f"fairness not computed: current data lacks {', '.join(repr(n) for n in absent)}"]
    from mlops_actions.evaluation.fairness_measure import Rows
    from mlops_actions.monitoring.fairness_check import fairness_changes

    current = Rows(cur[spec.data.target], cur[engine.PREDICTION_COLUMN], cur)
    changes = fairness_changes(current, spec, inputs.reference.record.get("fairness", {}), display=inputs.current,
                               min_group_size=inputs.min_group_size)
    return changes, []
