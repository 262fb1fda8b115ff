"""Read only the column names of a data file (the header), never the rows."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from mlops_actions.errors import InputError
from mlops_actions.lfs import LFS_POINTER_MAX, PULL_HINT, is_pointer, pointer_message

_HEADER_BYTES = 1 << 20


def read_columns(path: Path, fmt: str) -> list[str]:
    """Column names of a csv or parquet file; ``InputError`` with the reason when unreadable."""
    if fmt == "parquet":
        return _parquet_columns(path)
    return _csv_columns(path)


def _csv_columns(path: Path) -> list[str]:
    with path.open("rb") as fh:
        head = fh.read(_HEADER_BYTES)
    if not head.strip():
        raise InputError("the data file is empty (no header row)")
    if is_pointer(head):
        raise InputError(f"{pointer_message('the data file')}; {PULL_HINT}")
    if head.startswith(b"PAR1"):
        raise InputError("the data file is a parquet file, but the spec says format: csv")
    first = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text = first.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        raise InputError("the data file's header is not UTF-8 text") from exc
    row = next(csv.reader(io.StringIO(text)), [])
    return [c.strip() for c in row]


def _parquet_columns(path: Path) -> list[str]:
    with path.open("rb") as fh:
        head = fh.read(LFS_POINTER_MAX + 1)
    if is_pointer(head):
        raise InputError(f"{pointer_message('the data file')}; {PULL_HINT}")
    if head[:4] != b"PAR1":
        raise InputError("the data file is not parquet (no PAR1 magic bytes); is it CSV? set format: csv")
    import pyarrow.parquet as pq  # only for parquet headers

    try:
        return list(pq.read_schema(path).names)
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise InputError(f"cannot read the parquet schema: {exc}") from exc
