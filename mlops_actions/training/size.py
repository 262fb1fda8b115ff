"""The memory a dataset needs once loaded, estimated before loading it; refused above the policy's limit.

A 1 GB CSV, or a small parquet file whose pages expand to 20 million rows, would take a 7 GB runner down in
pandas before any check could speak. So the size is estimated from what costs nothing to read: a parquet
file's metadata (rows, columns, the uncompressed size of each column), or the first MiB of a CSV file
extrapolated by the file's size. Every cell of a CSV becomes a Python string (train reads CSV as text to give
exact places); parquet text columns too, numbers take 8 bytes. ``LOAD_FACTOR`` covers the copies training
makes (the raw table, Arrow's buffers while converting, the coerced features), measured: the example data
repeated to 313,560 rows x 8 columns (10 MB of CSV) raised the peak RSS by 168 MiB while loading; the
estimate says 185 MiB.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.units import format_size
from mlops_actions.errors import InputError
from mlops_actions.training.data import Source, data_source
from mlops_actions.training.spec_places import SpecPlaces

LOAD_FACTOR = 1.25
STRING_COST = 57  # a Python str object (49 bytes before its characters) plus the column's pointer (8)
NUMBER_COST = 8
ROW_COST = 36  # per row: its CSV line number (an int object and a pointer) and the index
CSV_SAMPLE_BYTES = 1 << 20
_TEXT_TYPES = frozenset({"BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY", "INT96"})


@dataclass(frozen=True)
class Estimate:
    """Rows and columns of a data file and the bytes loading it takes; ``sampled`` when rows are extrapolated."""

    rows: int
    columns: int
    bytes: int
    sampled: bool = False

    def describe(self) -> str:
        how = ", rows estimated from the first MiB" if self.sampled else ""
        return f"about {format_size(self.bytes)} of memory ({self.rows:,} rows x {self.columns} columns{how})"


def parquet_estimate(path: Path) -> Estimate | None:
    """From the footer alone; None when the file is no readable parquet (the reader then says why)."""
    import pyarrow.parquet as pq

    try:
        meta = pq.ParquetFile(path).metadata
    except Exception:  # pyarrow raises several types for a corrupt footer
        return None
    rows, columns = meta.num_rows, meta.num_columns
    per_row = sum(_column_cost(meta, i, rows) for i in range(columns))
    return Estimate(rows, columns, int(rows * per_row * LOAD_FACTOR))


def _column_cost(meta: object, index: int, rows: int) -> float:
    physical = meta.schema.column(index).physical_type  # type: ignore[attr-defined]
    if physical not in _TEXT_TYPES:
        return NUMBER_COST
    groups = range(meta.num_row_groups)  # type: ignore[attr-defined]
    text = sum(meta.row_group(g).column(index).total_uncompressed_size for g in groups)  # type: ignore[attr-defined]
    return STRING_COST + text / max(rows, 1)


def csv_estimate(path: Path) -> Estimate | None:
    """From the first MiB, extrapolated by the file's size; None for an empty file (the reader says so)."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        sample = fh.read(CSV_SAMPLE_BYTES)
    whole = len(sample) >= size
    if not whole:
        sample = sample[: sample.rfind(b"\n") + 1] or sample
    header_end = sample.find(b"\n") + 1 or len(sample)
    columns = len(next(csv.reader(io.StringIO(sample[:header_end].decode("utf-8", "replace"))), []))
    body = sample[header_end:]
    rows = body.count(b"\n") + (0 if body.endswith(b"\n") or not body else 1)
    if columns == 0:
        return None
    if not whole and rows:
        rows = int(rows * (size - header_end) / len(body))
    per_row = columns * STRING_COST + ROW_COST + (len(body) / rows if rows else 0)
    return Estimate(rows, columns, int(rows * per_row * LOAD_FACTOR), sampled=not whole)


def estimate(source: Source) -> Estimate | None:
    return parquet_estimate(source.path) if source.format == "parquet" else csv_estimate(source.path)


def check_fits(root: Path, spec: ModelSpec, policy: Policy, places: SpecPlaces) -> Estimate | None:
    """Refuse, before pandas reads a byte, data whose loading would need more than ``limits.max_memory``."""
    source = data_source(root, spec, places)
    found = estimate(source)
    if found is None or found.bytes <= policy.max_memory:
        return found
    key = "path" if spec.data.path is not None else "url"
    raise InputError(
        f"{source.display}: loading it needs {found.describe()}, more than the policy allows "
        f"(limits.max_memory: {format_size(policy.max_memory)}); nothing was loaded",
        place=places.at("data", key),
        hint="train it out of core with a command trainer (`train: {command: ...}` in the spec, which reads the "
             "data itself), train on a sample, or raise limits.max_memory in mlops.yaml if the runner has the "
             "memory")
