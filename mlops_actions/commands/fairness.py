"""``mlops-actions fairness PREDICTIONS``: group fairness of any predictions file (CSV or Parquet).

Reads only the named columns, resolves ``--pos-label`` against the label values, runs
``mlops_actions.fairness.evaluate`` and prints Markdown or JSON. Bad input (missing file or column, empty
file, labels that are not binary, a positive label that never occurs) ends with a message and exit 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import SupportsFloat

import pandas as pd

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.errors import EXIT_OK, InputError, Place
from mlops_actions.fairness import FairnessOptions, FairnessReport, evaluate
from mlops_actions.reporting.fairness import RENDERERS
from mlops_actions.reporting.render import Format, renderer

CSV_SUFFIXES = (".csv", ".txt")
PARQUET_SUFFIXES = (".parquet", ".pq")


@dataclass(frozen=True)
class Columns:
    """Which columns of the predictions file play which part."""

    y_true: str
    y_pred: str
    sensitive: tuple[str, ...]
    control: tuple[str, ...] = ()

    def all(self) -> list[str]:
        return list(dict.fromkeys([self.y_true, self.y_pred, *self.sensitive, *self.control]))


@dataclass(frozen=True)
class Measure:
    """How to measure, as the command line says: the task, the positive label (resolved against the labels),
    the smallest group shown, bootstrap replicates and their seed, fairlearn's zero-denominator rule."""

    task: str
    pos_label: str | None
    min_group_size: int
    bootstrap: int
    seed: int
    compat: bool = False


def fairness(path: Path, columns: Columns, measure: Measure, *, fmt: Format, runtime: ActionsRuntime) -> int:
    """Evaluate and print the report; the Markdown also goes to the job summary under Actions."""
    render = renderer(RENDERERS, fmt)
    frame = load_predictions(path, columns)
    report = _evaluate(path, frame, columns, measure)
    print(render(report), end="")
    runtime.append_summary(RENDERERS["markdown"](report))
    return EXIT_OK


def _evaluate(path: Path, frame: pd.DataFrame, columns: Columns, measure: Measure) -> FairnessReport:
    if measure.task == "regression":
        _require_numeric(path, frame, (columns.y_true, columns.y_pred))
        label: object = 1
    else:
        label = resolve_pos_label(path, frame, columns, measure.pos_label)
    _require_groups(path, frame, columns.sensitive)
    control = frame[list(columns.control)] if columns.control else None
    options = FairnessOptions(task=measure.task, pos_label=label, min_group_size=measure.min_group_size,
                              fairlearn_compat=measure.compat, bootstrap=measure.bootstrap, seed=measure.seed)
    try:
        return evaluate(frame[columns.y_true], frame[columns.y_pred], frame[list(columns.sensitive)], options,
                        control_features=control)
    except InputError as exc:
        raise InputError(exc.message, place=Place(str(path)), hint=exc.hint) from None


def _require_groups(path: Path, frame: pd.DataFrame, sensitive: tuple[str, ...]) -> None:
    """Fairness compares groups: a sensitive column (or combination) with one value has nothing to compare."""
    groups = frame[list(sensitive)].drop_duplicates()
    if len(groups) < 2:
        values = ", ".join(repr(v) for v in groups.iloc[0].tolist()) if len(groups) else "none"
        raise InputError(f"--sensitive {','.join(sensitive)} holds a single group ({values}): there is no other "
                         "group to compare it with", place=Place(str(path)),
                         hint="pass a sensitive column with at least two values")


def load_predictions(path: Path, columns: Columns) -> pd.DataFrame:
    """The named columns of a CSV or Parquet file, or ``InputError`` naming what is wrong."""
    place = Place(str(path))
    if not path.is_file():
        raise InputError("no such file" if not path.exists() else "not a file", place=place,
                         hint="give the path of a CSV or Parquet file of predictions")
    suffix = path.suffix.lower()
    if suffix not in CSV_SUFFIXES + PARQUET_SUFFIXES:
        raise InputError(f"unsupported file type '{suffix}'", place=place,
                         hint="use a .csv or .parquet file")
    try:
        frame = _read_parquet(path, columns) if suffix in PARQUET_SUFFIXES else _read_csv(path, columns)
    except InputError as exc:
        raise InputError(exc.message, place=place, hint=exc.hint) from None
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError, OSError, ValueError) as exc:
        raise InputError(f"cannot read the file: {_first_line(exc)}", place=place,
                         hint="save the predictions as UTF-8 CSV with a header line, or as Parquet") from None
    if frame.empty:
        raise InputError("the file has no rows", place=place, hint="write the predictions first")
    return frame


def _read_csv(path: Path, columns: Columns) -> pd.DataFrame:
    try:
        header = list(pd.read_csv(path, nrows=0).columns)
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", hint="write a header line and the predictions") from None
    _check_columns(header, columns)
    return pd.read_csv(path, usecols=columns.all())


def _read_parquet(path: Path, columns: Columns) -> pd.DataFrame:
    import pyarrow.parquet as pq

    if path.stat().st_size == 0:
        raise InputError("the file is empty", hint="write the predictions as Parquet")
    _check_columns(pq.read_schema(path).names, columns)
    return pd.read_parquet(path, columns=columns.all())


def _check_columns(present: list[str], columns: Columns) -> None:
    missing = [c for c in columns.all() if c not in present]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise InputError(f"column {names} not found" if len(missing) == 1 else f"columns {names} not found",
                         hint=f"the file has columns: {', '.join(map(str, present)) or '(none)'}")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _labels(frame: pd.DataFrame, columns: Columns) -> list[object]:
    values = pd.unique(pd.concat([frame[columns.y_true], frame[columns.y_pred]], ignore_index=True).dropna())
    return sorted(values.tolist(), key=str)


def _shown(values: list[object]) -> str:
    return ", ".join(repr(v) for v in values[:6]) + (", ..." if len(values) > 6 else "")


def resolve_pos_label(path: Path, frame: pd.DataFrame, columns: Columns, text: str | None) -> object:
    """The label value meaning "positive outcome": ``text`` matched against the label values.

    Without ``--pos-label`` the labels must be 0/1 (or -1/1). A text label is compared with the column values
    as they are when the column holds text, and as their text form otherwise (``1`` matches the integer 1
    and the float 1.0, ``True`` the boolean True).
    """
    place = Place(str(path))
    labels = _labels(frame, columns)
    if len(labels) > 2:
        raise InputError(f"'{columns.y_true}' and '{columns.y_pred}' hold {len(labels)} distinct labels "
                         f"({_shown(labels)}); fairness metrics need binary labels", place=place,
                         hint="map the predictions to two classes, or use --task regression for scores")
    if text is None:
        if _binary01(labels):
            return 1
        raise InputError(f"labels are not 0/1 (found {_shown(labels)}) and no --pos-label was given",
                         place=place, hint="pass --pos-label with the positive outcome, e.g. --pos-label Yes")
    for value in labels:
        if _matches(value, text):
            return value
    raise InputError(f"--pos-label '{text}' occurs in neither '{columns.y_true}' nor '{columns.y_pred}' "
                     f"(labels: {_shown(labels)})", place=place,
                     hint="the label is compared as text with the column values; check spelling and case")


def _binary01(labels: list[object]) -> bool:
    allowed = ({0, 1}, {-1, 1})
    return all(not isinstance(v, str) for v in labels) and any(set(labels) <= a for a in allowed)


def _matches(value: object, text: str) -> bool:
    if isinstance(value, str):
        return value == text
    if isinstance(value, bool):
        return text.strip().lower() in ({"true", "1"} if value else {"false", "0"})
    if str(value) == text:
        return True
    try:
        return isinstance(value, SupportsFloat) and float(text) == float(value)
    except (TypeError, ValueError):
        return False


def _require_numeric(path: Path, frame: pd.DataFrame, names: tuple[str, ...]) -> None:
    for name in names:
        if not pd.api.types.is_numeric_dtype(frame[name]) or pd.api.types.is_bool_dtype(frame[name]):
            raise InputError(f"column '{name}' is not numeric; a regression task needs numbers",
                             place=Place(str(path)), hint="use --task classification for class labels")
