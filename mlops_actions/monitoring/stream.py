"""Drift of tables larger than memory: CSV and Parquet read in record batches, memory O(batch), not O(rows).

Every statistic is additive over batches, so nothing holds more than one batch of rows:

Categorical columns
    Level counts (levels as text) and missing counts are summed over batches: exactly the in-memory result.
Numeric columns: KS and PSI exact at a grid, with a stated error bound
    Pass 1 over each table picks up to ``GRID`` (8,192) of its quantiles from a mergeable summary (per
    batch, the quantiles of a strided sample; summaries merged by weight); the grid is the union of both.
    Pass 2 counts both samples exactly in the grid's cells ``(g[i-1], g[i]]`` (``searchsorted`` +
    ``bincount`` per batch).
    The empirical CDFs are then *exact at every grid point*, so:

    * the KS statistic reported is ``max_i |F_ref(g_i) − F_cur(g_i)|``, a lower bound of the true one;
    * between two grid points each CDF moves by at most its mass in that cell, so the true statistic is at
      most ``max_i max(F_ref(g_i) − F_cur(g_{i−1}), F_cur(g_i) − F_ref(g_{i−1}))``, computed from the same
      counts. The gap between the two is the stated error bound, reported per run: a cell holds about
      1/8,192 of either sample (both samples' quantiles are grid points), so the bound is about 1e-4; a
      column with at most 8,192 distinct values on each side (integers, flags) is exact;
    * PSI uses the reference's deciles rounded up to the next grid point (the bin edges move by at most one
      cell's mass) and exact counts in those bins.

    Why not an external sort (exact KS)? Sorting 50 M values per column on disk costs writing and reading
    the data again per column; the grid costs one extra sequential read and gives an error bound far below
    any drift threshold (PSI 0.1, p-values). Why not a randomised sketch (KLL)? Its bound holds only with a
    probability and the result would depend on a seed; here the bound is deterministic and computed.

Each table is read twice, in batches of ``BATCH_ROWS`` rows (Parquet row groups larger than that are read
a row group at a time by pyarrow).
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from mlops_actions.errors import InputError
from mlops_actions.monitoring.data import NUMERIC
from mlops_actions.monitoring.drift import (
    ColumnDrift,
    LevelCounts,
    categorical_drift,
    ks_p_value,
    psi,
)
from mlops_actions.monitoring.engine import Column, ColumnResult
from mlops_actions.monitoring.thresholds import Thresholds, judge

GRID = 8192
BATCH_ROWS = 1 << 18
SAMPLE_PER_BATCH = 1 << 15
MAX_SUMMARIES = 32


@dataclass(frozen=True)
class TableSource:
    """A CSV or Parquet table to stream: a path, or bytes already in memory (a git blob)."""

    data: Path | bytes
    fmt: str
    display: str

    def open(self) -> Any:
        return io.BytesIO(self.data) if isinstance(self.data, bytes) else self.data


# -- reading batches -----------------------------------------------------------------------------------------

def batches(source: TableSource, names: Sequence[str], numeric: Sequence[str],
            batch_rows: int = BATCH_ROWS) -> Iterator[Any]:
    """Record batches holding ``names`` (numeric ones as float64); a bad file is an ``InputError``."""
    import pyarrow as pa

    try:
        yield from (_parquet if source.fmt == "parquet" else _csv)(source, names, numeric, batch_rows)
    except (pa.ArrowException, OSError, ValueError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise InputError(f"{source.display}: cannot read it as {source.fmt}: {first}",
                         hint="a numeric column must hold numbers only; the file must be UTF-8 CSV or Parquet"
                         ) from None


def _parquet(source: TableSource, names: Sequence[str], numeric: Sequence[str], rows: int) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    handle = pq.ParquetFile(source.open(), pre_buffer=False, buffer_size=1 << 20)  # no read-ahead of the file
    missing = [n for n in names if n not in handle.schema_arrow.names]
    if missing:
        raise InputError(f"{source.display}: missing column(s) {', '.join(map(repr, missing))}",
                         hint=f"the file has: {', '.join(handle.schema_arrow.names[:30])}")
    for batch in handle.iter_batches(batch_size=rows, columns=list(names), use_threads=True):
        yield pa.RecordBatch.from_arrays([_as_float(batch.column(n)) if n in numeric else batch.column(n)
                                          for n in names], names=list(names))


def _csv(source: TableSource, names: Sequence[str], numeric: Sequence[str], rows: int) -> Iterator[Any]:
    import pyarrow as pa
    import pyarrow.csv as pcsv

    options = pcsv.ConvertOptions(include_columns=list(names), strings_can_be_null=True,
                                  column_types={n: pa.float64() for n in numeric})
    reader = pcsv.open_csv(source.open(), read_options=pcsv.ReadOptions(block_size=max(rows * 64, 1 << 20)),
                           convert_options=options)
    yield from reader


def _as_float(column: Any) -> Any:
    import pyarrow as pa
    import pyarrow.compute as pc

    return column if column.type == pa.float64() else pc.cast(column, pa.float64())


def _floats(column: Any) -> np.ndarray:
    return np.asarray(column.to_numpy(zero_copy_only=False), dtype=np.float64)


# -- numeric columns: the grid and the counts ------------------------------------------------------------------

@dataclass
class GridSummary:
    """Pass 1: weighted quantile summaries of the reference, merged into a grid of at most ``GRID`` values."""

    values: list[np.ndarray] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def add(self, present: np.ndarray) -> None:
        if present.size == 0:
            return
        step = max(1, present.size // SAMPLE_PER_BATCH)
        sample = np.sort(present[::step])
        points = sample[np.linspace(0, sample.size - 1, min(GRID, sample.size)).astype(np.int64)]
        self.values.append(points)
        self.weights.append(present.size / points.size)
        if len(self.values) > MAX_SUMMARIES:
            merged = self.grid()
            total = sum(v.size * w for v, w in zip(self.values, self.weights, strict=True))
            self.values, self.weights = [merged], [total / merged.size]

    def grid(self) -> np.ndarray:
        if not self.values:
            return np.empty(0)
        values = np.concatenate(self.values)
        weights = np.concatenate([np.full(v.size, w) for v, w in zip(self.values, self.weights, strict=True)])
        order = np.argsort(values, kind="stable")
        cum = np.cumsum(weights[order])
        targets = np.linspace(0, cum[-1], GRID + 1)[1:]
        picked = values[order][np.minimum(np.searchsorted(cum, targets), values.size - 1)]
        return np.unique(picked)


@dataclass
class CellCounts:
    """Pass 2: exact counts of one sample in the grid's cells, and of its missing values."""

    grid: np.ndarray
    counts: np.ndarray = field(init=False)  # values in (g[i-1], g[i]]; the last cell is (g[-1], +inf)
    on_grid: np.ndarray = field(init=False)  # of which equal to g[i]
    missing: int = 0
    total: int = 0

    def __post_init__(self) -> None:
        self.counts = np.zeros(self.grid.size + 1, dtype=np.int64)
        self.on_grid = np.zeros(self.grid.size + 1, dtype=np.int64)

    def add(self, values: np.ndarray) -> None:
        nan = np.isnan(values)
        present = values[~nan] if nan.any() else values
        self.total += values.size
        self.missing += values.size - present.size
        if present.size:  # sort the batch (SIMD), then find the few grid points in it: faster than the reverse
            ordered = np.sort(present)
            at_or_below = np.searchsorted(ordered, self.grid, side="right")
            below = np.searchsorted(ordered, self.grid, side="left")
            self.counts += np.diff(at_or_below, prepend=0, append=ordered.size)
            self.on_grid[:-1] += at_or_below - below


@dataclass(frozen=True)
class GridDrift:
    drift: ColumnDrift
    error_bound: float  # the true KS statistic is within [statistic, statistic + error_bound]


def grid_drift(reference: CellCounts, current: CellCounts, bins: int) -> GridDrift:
    """PSI, KS (exact at the grid points) and its error bound from the two samples' cell counts."""
    missing = (_rate(reference.missing, reference.total), _rate(current.missing, current.total))
    n, m = int(reference.counts.sum()), int(current.counts.sum())
    if n == 0 or m == 0:
        return GridDrift(ColumnDrift("numeric", "ks", None, None, None, *missing), 0.0)
    f_ref, f_cur = np.cumsum(reference.counts) / n, np.cumsum(current.counts) / m
    lower = float(np.max(np.abs(f_ref - f_cur)))
    before_ref, before_cur = np.concatenate([[0.0], f_ref[:-1]]), np.concatenate([[0.0], f_cur[:-1]])
    inside_ref = (reference.counts - reference.on_grid) / n  # mass strictly between two grid points
    inside_cur = (current.counts - current.on_grid) / m
    upper = float(max(lower, np.max(before_ref + inside_ref - before_cur),
                      np.max(before_cur + inside_cur - before_ref)))
    edges = _decile_cells(np.cumsum(reference.counts), n, bins)
    ref_bins, cur_bins = _bin_counts(reference.counts, edges), _bin_counts(current.counts, edges)
    drift = ColumnDrift("numeric", "ks", psi(ref_bins, cur_bins), lower, ks_p_value(lower, n, m), *missing)
    return GridDrift(drift, max(0.0, upper - lower))


def _decile_cells(cum_ref: np.ndarray, n: int, bins: int) -> np.ndarray:
    """Cell index holding each reference quantile edge (``inverted_cdf`` ranks), without duplicates."""
    ranks = np.ceil(np.arange(1, bins) / bins * n).astype(np.int64)
    return np.unique(np.searchsorted(cum_ref, ranks, side="left"))


def _bin_counts(counts: np.ndarray, edge_cells: np.ndarray) -> np.ndarray:
    cum = np.cumsum(counts)
    at_edges = cum[edge_cells]
    return np.diff(np.concatenate([[0], at_edges, [cum[-1]]]))


def _rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


# -- categorical columns -----------------------------------------------------------------------------------------

@dataclass
class LevelTally:
    counts: dict[str, int] = field(default_factory=dict)
    missing: int = 0

    def add(self, column: Any) -> None:
        import pyarrow as pa
        import pyarrow.compute as pc

        self.missing += column.null_count
        text = column if pa.types.is_string(column.type) else pc.cast(column, pa.string())
        counted = pc.value_counts(text)
        for level, count in zip(counted.field("values").to_pylist(), counted.field("counts").to_pylist(),
                                strict=True):
            if level is not None:
                self.counts[level] = self.counts.get(level, 0) + count

    def result(self) -> LevelCounts:
        return LevelCounts(self.counts, self.missing)


# -- the two passes ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class StreamResult:
    columns: tuple[ColumnResult, ...]
    reference_rows: int
    current_rows: int
    ks_error_bound: float  # the largest over the numeric columns

    def note(self) -> str:
        return (f"streamed in batches of {BATCH_ROWS:,} rows: KS exact at up to {GRID:,} reference quantiles, the "
                f"true statistic at most {self.ks_error_bound:.2g} higher "
                f"(docs/data-at-scale.md)")


def stream_compare(reference: TableSource, current: TableSource, columns: Sequence[Column],
                   thresholds: Thresholds, batch_rows: int = BATCH_ROWS, workers: int = 2) -> StreamResult:
    """Drift of every column, reading each table in batches twice: all columns (level counts, the grid's
    quantile summaries), then the numeric ones (counts in the grid's cells)."""
    ref_names = list(dict.fromkeys(c.source for c in columns))
    cur_names = list(dict.fromkeys(c.name for c in columns))
    ref_numeric = [c.source for c in columns if c.kind == NUMERIC]
    cur_numeric = [c.name for c in columns if c.kind == NUMERIC]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        ref_grids, ref_levels, n = _first_pass(pool, reference, ref_names, ref_numeric, batch_rows)
        cur_grids, cur_levels, m = _first_pass(pool, current, cur_names, cur_numeric, batch_rows)
        grids = {c.source: np.union1d(ref_grids[c.source], cur_grids[c.name]) for c in columns if c.kind == NUMERIC}
        ref_cells = _second_pass(pool, reference, ref_numeric, grids, batch_rows)
        cur_cells = _second_pass(pool, current, cur_numeric,
                                 {c.name: grids[c.source] for c in columns if c.kind == NUMERIC}, batch_rows)
    results, bound = [], 0.0
    for column in columns:
        if column.kind == NUMERIC:
            found = grid_drift(ref_cells[column.source], cur_cells[column.name], thresholds.bins)
            stats, bound = found.drift, max(bound, found.error_bound)
        else:
            stats = categorical_drift(ref_levels[column.source].result(), cur_levels[column.name].result())
        verdict, reasons = judge(stats, thresholds)
        results.append(ColumnResult(column.name, column.role, stats, verdict, reasons))
    return StreamResult(tuple(results), n, m, bound)


def _first_pass(pool: ThreadPoolExecutor, source: TableSource, names: list[str], numeric: list[str], rows: int,
                ) -> tuple[dict[str, np.ndarray], dict[str, LevelTally], int]:
    """Grid summaries of the numeric columns, level counts of the others, and the row count."""
    summaries = {name: GridSummary() for name in numeric}
    levels = {name: LevelTally() for name in names if name not in summaries}
    total = 0
    for batch in batches(source, names, numeric, rows):
        def one(name: str, batch: Any = batch) -> None:
            if name in summaries:
                values = _floats(batch.column(name))
                summaries[name].add(values[~np.isnan(values)])
            else:
                levels[name].add(batch.column(name))
        list(pool.map(one, names))
        total += batch.num_rows
    if total == 0:
        raise InputError(f"{source.display}: the table has no rows", hint="the data needs at least one row")
    return {name: summary.grid() for name, summary in summaries.items()}, levels, total


def _second_pass(pool: ThreadPoolExecutor, source: TableSource, numeric: list[str], grids: dict[str, np.ndarray],
                 rows: int) -> dict[str, CellCounts]:
    """Exact counts of the numeric columns in the grid's cells."""
    cells = {name: CellCounts(grids[name]) for name in numeric}
    if not numeric:
        return cells
    for batch in batches(source, numeric, numeric, rows):
        list(pool.map(lambda name, batch=batch: cells[name].add(_floats(batch.column(name))), numeric))
    return cells
