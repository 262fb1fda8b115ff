"""Reading the reference and current tables, and checking that they hold what the model needs.

Every failure is an ``InputError`` naming the file and the column; raw cell values never appear in a
message (they may be personal data), only column names and row numbers.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from pathlib import Path

import pandas as pd

from mlops_actions.errors import InputError

FORMATS = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet"}
NUMERIC, CATEGORICAL, TEXT = "numeric", "categorical", "text"
KIND_OF_TYPE = {"numeric": NUMERIC, "categorical": CATEGORICAL, "boolean": CATEGORICAL, "text": TEXT}


def format_of(path: Path) -> str:
    """``csv`` or ``parquet`` from the file name."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise InputError(f"{path}: cannot tell the data format from the file name",
                         hint="name the file *.csv or *.parquet")
    return fmt


def read_path(path: Path) -> pd.DataFrame:
    """A table read from a CSV or Parquet file."""
    if not path.is_file():
        raise InputError(f"{path}: {'a folder, not a file' if path.is_dir() else 'no such file'}",
                         hint="pass the path of a CSV or Parquet file with --current")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read the file: {exc.strerror or exc}") from None
    return read_bytes(raw, format_of(path), str(path))


def read_bytes(raw: bytes, fmt: str, display: str) -> pd.DataFrame:
    """A table parsed from bytes; an empty file or a table without rows is refused."""
    if not raw.strip():
        raise InputError(f"{display}: the file is empty", hint="the data needs a header and at least one row")
    from pyarrow import ArrowException

    try:
        frame = _parse(raw, fmt)
    except (ValueError, TypeError, OSError, pd.errors.ParserError, ArrowException) as exc:
        raise InputError(f"{display}: cannot read it as {fmt}: {_first_line(exc)}",
                         hint="give a UTF-8 CSV file with a header line (*.csv) or a Parquet file (*.parquet)"
                         ) from None
    if frame.empty:
        raise InputError(f"{display}: the table has no rows", hint="the data needs at least one row")
    return frame


def _parse(raw: bytes, fmt: str) -> pd.DataFrame:
    if fmt == "parquet":
        return pd.read_parquet(io.BytesIO(raw))
    return pd.read_csv(io.BytesIO(raw), engine="pyarrow")


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def require_columns(frame: pd.DataFrame, needed: Sequence[str], display: str, why: str) -> None:
    """Refuse a table that lacks any of ``needed``, naming every missing column."""
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        names = ", ".join(f"'{c}'" for c in missing)
        raise InputError(f"{display}: missing column(s) {names} ({why})",
                         hint=f"the file has: {', '.join(map(str, frame.columns[:30]))}")


def numeric_columns(frame: pd.DataFrame, columns: Mapping[str, str], display: str) -> pd.DataFrame:
    """``frame`` with every numeric column as float64; text in a numeric column is refused by name."""
    converted = {}
    for name, kind in columns.items():
        if kind == NUMERIC:
            converted[name] = _as_float(frame[name], name, display)
    return frame.assign(**converted) if converted else frame


def _as_float(series: pd.Series, name: str, display: str) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series) or pd.api.types.is_bool_dtype(series):
        return series.astype("float64")
    numbers = pd.to_numeric(series.astype(object), errors="coerce")
    bad = numbers.isna() & series.notna()
    if bad.any():
        row = int(bad.to_numpy().argmax()) + 1
        raise InputError(f"{display}: column '{name}' is numeric in the model spec but holds text "
                         f"(first at data row {row})",
                         hint="fix the data, or declare the column categorical in the model spec")
    return numbers.astype("float64")
