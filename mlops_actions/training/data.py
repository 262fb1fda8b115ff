"""Load a model's data (csv, parquet) with pandas and check it against the spec before any training.

Every problem becomes an ``InputError`` naming the file and the place (line of a CSV file, row of a
parquet file, or the spec key to change) and what to do. The result is a ``Dataset``: features coerced to
their declared types, the target, and the sensitive and control columns as group labels.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.paths import repo_path_problem
from mlops_actions.errors import InputError, Place
from mlops_actions.lfs import PULL_HINT, is_pointer, pointer_message
from mlops_actions.training.local import local_source, read_partitions
from mlops_actions.training.spec_places import SpecPlaces

RESERVED_COLUMNS = ("y_true", "y_pred", "y_score")
URL_CACHE_DIR = ".mlops/cache/data"
MISSING_GROUP = "missing"
_TRUE = frozenset({"true", "yes", "1", "1.0"})
_FALSE = frozenset({"false", "no", "0", "0.0"})
_CSV_FIELD_LIMIT = 1 << 24


@dataclass(frozen=True)
class Source:
    """Where the data file is: its path on disk, how to show it, its format, and its CSV line numbers."""

    path: Path
    display: str
    format: str
    lines: tuple[int, ...] = ()
    parts: tuple[Path, ...] = ()  # the files of a partitioned parquet dataset (``path`` is their folder)

    def place(self, row: int) -> tuple[Place, str]:
        """Place and words for 0-based data row ``row``: a line of a CSV file, a row of a parquet file.
        CSV line numbers are counted only when a place is needed (the fast reader does not count them)."""
        if self.format == "csv":
            lines = self.lines or _lines_or_empty(self)
            line = lines[row] if row < len(lines) else row + 2
            return Place(self.display, line), f"line {line}"
        return Place(self.display), f"row {row + 1}"


@dataclass(frozen=True)
class Dataset:
    """Checked data: ``X`` features, ``y`` target, ``groups`` sensitive and control labels (strings)."""

    X: pd.DataFrame
    y: pd.Series
    groups: pd.DataFrame
    display: str
    rows: int
    columns: Mapping[str, str]
    classes: tuple[str, ...] = ()
    pos_label: str | None = None
    notes: tuple[str, ...] = field(default=())
    split_columns: pd.DataFrame | None = None  # split.by / split.group columns, as read


# --- locating the file ------------------------------------------------------------------------------

def data_source(root: Path, spec: ModelSpec, places: SpecPlaces) -> Source:
    """The data file of ``spec``: a repository path, or the local cache of a pinned URL."""
    data = spec.data
    if data.path is None:
        return _url_source(root, spec, places)
    local = local_source(root, spec, places)  # DVC-tracked data, partitioned parquet datasets
    if local is not None:
        return Source(local.path, data.path, local.format, parts=local.parts)
    reason = repo_path_problem(root, data.path, must_exist=True)
    if reason:
        raise InputError(f"data path {data.path!r}: {reason}", place=places.at("data", "path"))
    return Source(root / data.path, data.path, data.format)


def url_cache_relpath(sha256: str) -> str:
    """Where ``refresh`` keeps the bytes of a URL pinned by ``sha256`` (repository-relative)."""
    return f"{URL_CACHE_DIR}/{sha256}"


def _url_source(root: Path, spec: ModelSpec, places: SpecPlaces) -> Source:
    url, sha = spec.data.url or "", spec.data.sha256 or ""
    cached = root / url_cache_relpath(sha)
    if not cached.is_file():
        raise InputError(
            f"the data at {url} is not in the local cache ({url_cache_relpath(sha)}); train does not "
            "download data", place=places.at("data", "url"),
            hint=f"run `mlops-actions fetch {spec.name}` (it checks the bytes), or download the file to "
                 f"{url_cache_relpath(sha)} yourself (its sha256 must be {sha})")
    if _sha256_file(cached) != sha:
        raise InputError(f"the cached copy of {url} ({url_cache_relpath(sha)}) does not match the pinned "
                         "sha256", place=places.at("data", "sha256"),
                         hint="delete the cached file and fetch it again, or pin the new sha256 in the spec")
    return Source(cached, url, spec.data.format)


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# --- reading ----------------------------------------------------------------------------------------

def read_frame(source: Source, places: SpecPlaces, numeric: frozenset[str] = frozenset(),
               ) -> tuple[pd.DataFrame, Source]:
    """The raw table and the source (with the line number of each CSV row when they were counted).

    CSV: the fast path (pyarrow's multithreaded reader: ``numeric`` columns parsed as float64, the others as
    text) answers for well-formed files; any problem it meets sends the file through the careful path (cells
    as text, every row's line counted), which names the file, line and what to do.
    """
    if source.parts:
        return read_partitions(source.parts, source.path, source.display), source
    _check_not_empty(source)
    _check_magic(source, places)
    if source.format == "parquet":
        return _read_parquet(source), source
    fast = _read_csv_fast(source, numeric)
    if fast is not None:
        return fast, source
    lines = _csv_row_lines(source)
    frame = _read_csv(source)
    if len(frame) == 0:
        raise InputError("the data file has a header but no data rows", place=Place(source.display, 1),
                         hint="commit the file with its rows (an export that stopped early?), or point data.path "
                              "at the full file")
    return frame, Source(source.path, source.display, source.format, lines)


def _check_not_empty(source: Source) -> None:
    with source.path.open("rb") as fh:
        head = fh.read(4096)
    if not head.strip():
        raise InputError("the data file is empty", place=Place(source.display),
                         hint="commit the data (if it is in git LFS, run `git lfs pull`)")
    if is_pointer(head):
        raise InputError(pointer_message(source.display), place=Place(source.display), hint=PULL_HINT)


def _check_magic(source: Source, places: SpecPlaces) -> None:
    with source.path.open("rb") as fh:
        is_parquet = fh.read(4) == b"PAR1"
    if source.format == "parquet" and not is_parquet:
        raise InputError(f"{source.display} is not a parquet file (no PAR1 magic bytes); is it CSV text?",
                         place=places.at("data", "format"),
                         hint="set data.format: csv, or convert the file to parquet")
    if source.format == "csv" and is_parquet:
        raise InputError(f"{source.display} is a parquet file, but the spec says format: csv",
                         place=places.at("data", "format"), hint="set data.format: parquet")


def _read_parquet(source: Source) -> pd.DataFrame:
    try:
        frame = pd.read_parquet(source.path)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"cannot read the parquet file: {exc}", place=Place(source.display)) from exc
    if len(frame) == 0:
        raise InputError("the parquet file has no rows", place=Place(source.display))
    return frame.reset_index(drop=True)


def _read_csv(source: Source) -> pd.DataFrame:
    try:
        return pd.read_csv(source.path, dtype=str, encoding="utf-8-sig", skipinitialspace=False)
    except pd.errors.EmptyDataError as exc:
        raise InputError("the data file is empty (no header row)", place=Place(source.display)) from exc
    except (pd.errors.ParserError, ValueError) as exc:
        raise InputError(f"cannot parse the CSV file: {exc}", place=Place(source.display)) from exc


def _read_csv_fast(source: Source, numeric: frozenset[str]) -> pd.DataFrame | None:
    """The table read by pyarrow, or None when anything is unusual (the careful path then explains it)."""
    import pyarrow as pa
    import pyarrow.csv as pv
    from pandas._libs.parsers import STR_NA_VALUES

    try:
        with source.path.open(encoding="utf-8-sig", newline="") as fh:
            header = next(csv.reader(fh), [])
        names = [h.strip() for h in header]
        if not header or len(set(names)) != len(names):
            return None
        types = {h: pa.float64() if h.strip() in numeric else pa.string() for h in header}
        quoted = _has_quotes(source.path)  # a quoted value may hold a newline: the (slower) exact chunking
        table = pv.read_csv(source.path, parse_options=pv.ParseOptions(newlines_in_values=quoted),
                            convert_options=pv.ConvertOptions(column_types=types, strings_can_be_null=True,
                                                              null_values=sorted(STR_NA_VALUES)))
    except (pa.ArrowInvalid, pa.ArrowException, UnicodeDecodeError, csv.Error, OSError):
        return None
    if table.num_rows == 0 or table.column_names != header:
        return None
    return table.to_pandas()


def _has_quotes(path: Path) -> bool:
    import mmap

    with path.open("rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return data.find(b'"') != -1


def _lines_or_empty(source: Source) -> tuple[int, ...]:
    try:
        return _csv_row_lines(source)
    except InputError:
        return ()


def _csv_row_lines(source: Source) -> tuple[int, ...]:
    """Start line of each data row; refuses a ragged row, a repeated column name and non-UTF-8 bytes."""
    lines: list[int] = []
    csv.field_size_limit(_CSV_FIELD_LIMIT)
    try:
        with source.path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.reader(fh, strict=False)
            header = _header(next(reader, []), source)
            end = reader.line_num
            for row in reader:
                start, end = end + 1, reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    _ragged(source, start, len(header), len(row))
                lines.append(start)
    except UnicodeDecodeError as exc:
        line = _first_bad_line(source.path)
        raise InputError(f"the data file is not UTF-8 text ({exc.reason})", place=Place(source.display, line),
                         hint="save the file as UTF-8") from exc
    except csv.Error as exc:
        raise InputError(f"cannot parse the CSV file: {exc}", place=Place(source.display)) from exc
    return tuple(lines)


def _header(header: list[str], source: Source) -> list[str]:
    names = [h.strip() for h in header]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise InputError(f"the header repeats the column name(s) {', '.join(map(repr, repeated))}",
                         place=Place(source.display, 1), hint="give every column a unique name")
    return names


def _ragged(source: Source, line: int, want: int, got: int) -> None:
    raise InputError(f"ragged row: line {line} has {got} field(s), the header has {want}",
                     place=Place(source.display, line),
                     hint="fix that row (a stray comma, or a value with a comma that needs quotes)")


def _first_bad_line(path: Path) -> int | None:
    with path.open("rb") as fh:
        for number, raw in enumerate(fh, start=1):
            try:
                raw.decode("utf-8")
            except UnicodeDecodeError:
                return number
    return None


# --- checking and coercing --------------------------------------------------------------------------

def load_dataset(root: Path, spec: ModelSpec, places: SpecPlaces) -> Dataset:
    """Read the data of ``spec`` and check it; the first problem found is raised with its place."""
    source = data_source(root, spec, places)
    numeric = frozenset(n for n, kind in spec.data.features.items() if kind == "numeric") - {spec.data.target}
    frame, source = read_frame(source, places, numeric)
    return check_frame(frame, spec, source, places)


def check_frame(frame: pd.DataFrame, spec: ModelSpec, source: Source, places: SpecPlaces) -> Dataset:
    """Check a raw table against ``spec`` and coerce it; pure apart from raising ``InputError``."""
    frame = frame.rename(columns=lambda c: str(c).strip())
    _check_roles(spec, places)
    _check_columns_present(frame, spec, source, places)
    X = _features(frame, {name: _feature(frame[name], kind, name, spec, source)
                          for name, kind in spec.data.features.items()})
    y, classes, pos_label, notes = _target(frame[spec.data.target], spec, source, places)
    groups = _groups(frame, spec, source, places)
    columns = {**{c: str(X[c].dtype) for c in X}, spec.data.target: str(y.dtype)}
    split_names = [c for c in (spec.split.by, spec.split.group) if c is not None]
    for name, parts in ((spec.split.by, ("split", "by", "column")), (spec.split.group, ("split", "group"))):
        if name is not None and name not in frame.columns:
            raise InputError(f"split column '{name}' is not in {source.display} (columns: {_names(frame)})",
                             place=places.at(*parts), hint="fix the column name in the spec or the data")
    split_columns = frame[list(dict.fromkeys(split_names))].reset_index(drop=True) if split_names else None
    return Dataset(X, y, groups, source.display, len(frame), dict(sorted(columns.items())), classes,
                   pos_label, notes, split_columns)


def _features(frame: pd.DataFrame, coerced: dict[str, pd.Series]) -> pd.DataFrame:
    """The coerced feature columns as one frame. Columns coercion returned as read (float64 numbers) are taken
    from ``frame`` without copying its data block (a copy of every number of a large file cost a second)."""
    names = list(coerced)
    changed = [n for n in names if not _same_column(coerced[n], frame[n])]
    floats = sum(len(frame) * 8 for dtype in frame.dtypes if dtype == np.float64)
    kept = sum(coerced[n].nbytes for n in names if n not in changed)
    if not kept or kept * 4 < floats * 3 or not frame.columns.is_unique:  # a view would keep many unused float
        return pd.DataFrame(coerced)  # columns alive (or take a repeated name twice): a copy instead
    X = frame[names].copy(deep=False)  # no copy of the data; a frame of its own to set columns in
    for name in changed:
        X[name] = coerced[name]
    return X


def _same_column(coerced: pd.Series, raw: pd.Series) -> bool:
    if coerced.dtype != raw.dtype or not isinstance(coerced.dtype, np.dtype):
        return False
    return np.shares_memory(coerced.to_numpy(), raw.to_numpy())


def model_inputs(frame: pd.DataFrame, spec: ModelSpec, display: str = "input") -> pd.DataFrame:
    """Features of new rows coerced as in training (booleans as 1.0/0.0...): what ``model.skops`` predicts on.

    The target and group columns are not needed; a missing feature column or a bad value is an ``InputError``.
    """
    frame = frame.rename(columns=lambda c: str(c).strip()).reset_index(drop=True)
    source = Source(Path(display), display, "parquet")
    missing = [name for name in spec.data.features if name not in frame.columns]
    if missing:
        raise InputError(f"column(s) {', '.join(map(repr, missing))} of the model's features are not in {display}",
                         place=Place(display))
    return pd.DataFrame({name: _coerce(frame[name], kind, name, source)
                         for name, kind in spec.data.features.items()})


def _check_roles(spec: ModelSpec, places: SpecPlaces) -> None:
    data = spec.data
    if data.target in data.features:
        raise InputError(f"the target '{data.target}' is listed as a feature (target leakage)",
                         place=places.at("data", "features", data.target, at="key"),
                         hint="remove it from data.features")
    for role in ("sensitive", "control"):
        for i, name in enumerate(getattr(data, role)):
            if name in RESERVED_COLUMNS:
                raise InputError(f"{role} column '{name}' has a name the predictions file reserves "
                                 f"({', '.join(RESERVED_COLUMNS)})", place=places.at("data", role, i),
                                 hint="rename the column in the data and in the spec")


def _check_columns_present(frame: pd.DataFrame, spec: ModelSpec, source: Source, places: SpecPlaces) -> None:
    have = set(frame.columns)
    data = spec.data
    wanted: list[tuple[str, tuple[Any, ...], str]] = [(data.target, ("data", "target"), "value")]
    wanted += [(name, ("data", "features", name), "key") for name in data.features]
    wanted += [(n, ("data", role, i), "value") for role in ("sensitive", "control")
               for i, n in enumerate(getattr(data, role))]
    for name, parts, at in wanted:
        if name not in have:
            raise InputError(f"column '{name}' is not in {source.display} (columns: {_names(frame)})",
                             place=places.at(*parts, at=at), hint="fix the column name in the spec or the data")


def _names(frame: pd.DataFrame, limit: int = 12) -> str:
    names = [str(c) for c in frame.columns]
    more = f", ... ({len(names)} in all)" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _feature(raw: pd.Series, kind: str, name: str, spec: ModelSpec, source: Source) -> pd.Series:
    if raw.isna().all():
        raise InputError(f"feature '{name}' has no values: every row is missing", place=Place(source.display),
                         hint="fix the data, or remove the feature from data.features")
    if spec.data.missing_features == "error" and raw.isna().any():
        _missing(raw, name, "feature", source, "or set data.missing.features: impute")
    return _coerce(raw, kind, name, source)


def _coerce(raw: pd.Series, kind: str, name: str, source: Source) -> pd.Series:
    if kind == "numeric":
        return to_numeric(raw, name, source)
    if kind == "boolean":
        return to_boolean(raw, name, source)
    if kind == "datetime":
        return to_datetime(raw, name, source)
    if kind == "text":
        return as_text(raw).fillna("")
    return as_text(raw)


def _missing(raw: pd.Series, name: str, what: str, source: Source, hint: str) -> None:
    row = int(np.flatnonzero(raw.isna().to_numpy())[0])
    place, where = source.place(row)
    raise InputError(f"{what} column '{name}' has a missing value at {where}", place=place,
                     hint=f"fill in the missing values in the data, {hint}")


def to_numeric(raw: pd.Series, name: str, source: Source) -> pd.Series:
    """Numbers as float64 (missing stays NaN); text or infinities are refused with their place."""
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    values = pd.to_numeric(raw, errors="coerce") if not pd.api.types.is_numeric_dtype(raw) else raw
    if values.dtype != np.float64:  # a float64 column read as such is returned itself (not copied)
        values = values.astype("float64")
    bad = (values.isna() & raw.notna()) | np.isinf(values)
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        place, where = source.place(row)
        raise InputError(f"column '{name}' is declared numeric but holds {raw.iloc[row]!r} at {where}",
                         place=place, hint="fix the value, or declare the column categorical or text")
    return values


def to_datetime(raw: pd.Series, name: str, source: Source) -> pd.Series:
    """Dates and timestamps (ISO 8601, else any format pandas infers) as naive UTC ``datetime64[ns]``; missing
    stays NaT; a value that is not a date is refused with its place."""
    if pd.api.types.is_datetime64_any_dtype(raw):
        values = raw
    else:
        text = raw.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
        try:
            values = pd.to_datetime(text, errors="coerce", format="ISO8601", utc=True)
        except (ValueError, TypeError):
            values = pd.to_datetime(text, errors="coerce", format="mixed", utc=True)
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_convert("UTC").dt.tz_localize(None)
    values = values.astype("datetime64[ns]")
    bad = values.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        place, where = source.place(row)
        raise InputError(f"column '{name}' is declared datetime but holds {raw.iloc[row]!r} at {where}",
                         place=place, hint="write dates as 2024-01-31 (or 2024-01-31T12:00:00), or declare the "
                                           "column categorical")
    return values


def to_boolean(raw: pd.Series, name: str, source: Source) -> pd.Series:
    """true/false, yes/no, 1/0 (any case) as 1.0/0.0; missing stays NaN."""
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    text = as_text(raw).str.strip().str.lower()
    values = text.map(lambda v: 1.0 if v in _TRUE else 0.0 if v in _FALSE else np.nan).astype("float64")
    bad = values.isna() & raw.notna()
    if bad.any():
        row = int(np.flatnonzero(bad.to_numpy())[0])
        place, where = source.place(row)
        raise InputError(f"column '{name}' is declared boolean but holds {raw.iloc[row]!r} at {where}",
                         place=place, hint="use true/false, yes/no or 1/0, or declare the column categorical")
    return values


def as_text(raw: pd.Series) -> pd.Series:
    """Values as Python strings in an object column, missing as NaN; whole floats lose their '.0'.

    Equal values are one shared ``str`` object (see ``_shared``)."""
    if isinstance(raw.dtype, pd.StringDtype):  # holds str or missing only: no per-value work
        return _shared(raw)
    if pd.api.types.is_float_dtype(raw) and raw.dropna().mod(1).eq(0).all():
        raw = raw.astype("Int64")
    text = raw.map(lambda v: v if isinstance(v, str) else str(v), na_action="ignore")
    return _shared(text)


def _shared(text: pd.Series) -> pd.Series:
    """``text`` as an object column in which equal strings are the same object, missing as NaN.

    scikit-learn handles categorical and label columns in Python (``Counter``, dict lookups, ``np.unique`` of
    objects): a million distinct ``str`` objects scattered in memory, read in the split's shuffled order, cost
    a cache miss each (the encoder and imputer ran 5-10x slower than on the same values read in order). A
    dozen shared objects stay in cache and keep their hash. The values, so the model, are the same."""
    codes, uniques = pd.factorize(text)  # missing values get the code -1
    table = np.append(np.asarray(uniques, dtype=object), np.nan)  # so -1 picks NaN
    return pd.Series(table[codes], index=text.index, name=text.name, dtype=object)


def _target(raw: pd.Series, spec: ModelSpec, source: Source, places: SpecPlaces,
            ) -> tuple[pd.Series, tuple[str, ...], str | None, tuple[str, ...]]:
    name = spec.data.target
    if raw.isna().any():
        _missing(raw, name, "target", source, "or drop those rows")
    if spec.task == "regression":
        return to_numeric(raw, name, source), (), None, ()
    y = as_text(raw)
    classes = tuple(sorted(y.unique()))
    if len(classes) < 2:
        raise InputError(f"the target '{name}' has one class only ({classes[0]!r}) in {source.display}; "
                         "classification needs at least two", place=places.at("data", "target"),
                         hint="check the data (a filter gone wrong?) or the target column")
    pos_label, notes = positive_label(raw, classes, spec, places)
    return y, classes, pos_label, notes


def positive_label(raw: pd.Series, classes: tuple[str, ...], spec: ModelSpec, places: SpecPlaces,
                   ) -> tuple[str | None, tuple[str, ...]]:
    """The class (as in the data) that ``data.positive_label`` names, with notes on how it matched."""
    wanted = spec.data.positive_label
    if wanted is None:
        if len(classes) != 2:
            return None, ()
        return classes[-1], (f"data.positive_label is not set; '{classes[-1]}' (the last class in sorted "
                             "order) counts as the positive class",)
    match = _match_label(wanted, classes)
    if match is None:
        raise InputError(f"positive_label {wanted!r} is not a value of the target '{spec.data.target}' "
                         f"(classes: {', '.join(map(repr, classes))})", place=places.at("data", "positive_label"),
                         hint=_label_hint(wanted, classes))
    return match, _label_notes(wanted, match, raw)


def _match_label(wanted: str | int | bool, classes: tuple[str, ...]) -> str | None:
    if isinstance(wanted, bool):
        words = _TRUE if wanted else _FALSE
        found = [c for c in classes if c.strip().lower() in words]
        return found[0] if len(found) == 1 else None
    if str(wanted) in classes:
        return str(wanted)
    return None


def _label_hint(wanted: str | int | bool, classes: tuple[str, ...]) -> str:
    close = [c for c in classes if c.strip().lower() == str(wanted).strip().lower()]
    if close:
        return f"labels are compared exactly; did you mean {close[0]!r}?"
    return "set data.positive_label to one of the classes"


def _label_notes(wanted: str | int | bool, match: str, raw: pd.Series) -> tuple[str, ...]:
    numeric = pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw)
    if isinstance(wanted, str) and numeric:
        return (f"positive_label {wanted!r} is text and the target holds numbers; compared as text: "
                f"it matches {match}",)
    if isinstance(wanted, bool | int) and not numeric:
        return (f"positive_label {wanted!r} matched the target value {match!r} (compared as text)",)
    return ()


def _groups(frame: pd.DataFrame, spec: ModelSpec, source: Source, places: SpecPlaces) -> pd.DataFrame:
    names = list(dict.fromkeys((*spec.data.sensitive, *spec.data.control)))
    columns = {name: _group_column(frame[name], name, spec, source) for name in names}
    return pd.DataFrame(columns, index=frame.index)


def _group_column(raw: pd.Series, name: str, spec: ModelSpec, source: Source) -> pd.Series:
    role = "sensitive" if name in spec.data.sensitive else "control"
    if raw.isna().any() and spec.data.missing_sensitive == "error":
        _missing(raw, name, role, source, f"or set data.missing.sensitive: group (a '{MISSING_GROUP}' group)")
    return as_text(raw).fillna(MISSING_GROUP)


# --- the split --------------------------------------------------------------------------------------

def check_split_size(dataset: Dataset, spec: ModelSpec, places: SpecPlaces) -> None:
    """Refuse data too small for the split before scikit-learn does, with numbers and the place."""
    n = dataset.rows
    n_test = int(np.ceil(spec.split.test_fraction * n))
    n_train = n - n_test
    place = places.at("split", "test_fraction") if "split" in spec.raw else Place(dataset.display)
    if n_test < 1 or n_train < 1:
        raise InputError(f"{n} row(s) are too few for a test fraction of {spec.split.test_fraction}: "
                         f"{n_train} for training, {n_test} for testing", place=place,
                         hint="add rows, or change split.test_fraction")
    if spec.task == "classification" and spec.stratify:
        _check_stratified(dataset, n_train, n_test, place)


def _check_stratified(dataset: Dataset, n_train: int, n_test: int, place: Place) -> None:
    counts = dataset.y.value_counts()
    k = len(counts)
    if n_test < k or n_train < k:
        raise InputError(f"a stratified split of {dataset.rows} rows into {n_train} for training and {n_test} "
                         f"for testing cannot hold all {k} classes in both", place=place,
                         hint="add rows, or change split.test_fraction")
    rare = counts[counts < 2]
    if len(rare):
        raise InputError(f"class {rare.index[0]!r} of the target has {int(rare.iloc[0])} row; a stratified "
                         "split needs at least 2 rows per class", place=Place(dataset.display),
                         hint="add rows of that class, or set split.stratify: false")
