"""Benchmark: the monitor's drift engine against Evidently's data-drift preset on the same data.

Data: ``--rows`` rows (default 1,000,000) × 50 features (30 numeric, 20 categorical) for the reference and
as many for the current data, with known drift injected into 8 features (5 numeric, 3 categorical) and
the same distributions elsewhere (normal, exponential, uniform, integer-valued with ties, some missing).

Prints both times, the ratio, the drifted features each tool flags and whether they agree with each
other and with the injected set. Exit 0 when our engine flags exactly the injected features (and, when
run, Evidently flags the same ones), else 1.

    python benchmarks/bench_monitor.py                       # ours only needs the project's venv
    /work/venv-monitor/bin/python benchmarks/bench_monitor.py # with Evidently installed (slow: minutes)
    python benchmarks/bench_monitor.py --rows 20000 --skip-evidently

Larger than memory (``--stream``, implied from 2,000,000 rows on): the tables are generated on disk as Parquet
in chunks (never whole in memory; kept in ``--data-dir`` for later runs) and the streaming engine
(``monitoring.stream``) runs in a fresh process per size, which reports its peak RSS; ``--rows`` takes a
comma-separated list of sizes so that time can be checked to be linear in rows (rows/s per size).

    python benchmarks/bench_monitor.py --rows 5M,20M --cols 50
    python benchmarks/bench_monitor.py --rows 50M --cols 50        # ~40 GB of Parquet on disk
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from mlops_actions.monitoring.engine import Column, MonitorResult, compare
from mlops_actions.monitoring.thresholds import FAIL, Thresholds
from mlops_actions.reporting import monitor as report

NUMERIC, CATEGORICAL = 30, 20
DRIFTED_NUMERIC = ("num_03", "num_08", "num_13", "num_18", "num_23")
DRIFTED_CATEGORICAL = ("cat_02", "cat_09", "cat_15")


def _numeric(rng: np.random.Generator, i: int, rows: int, drift: bool) -> np.ndarray:
    kind = i % 5
    if kind == 0:
        values = rng.normal(10.0, 2.0, rows)
    elif kind == 1:
        values = rng.exponential(3.0, rows)
    elif kind == 2:
        values = rng.uniform(-5.0, 5.0, rows)
    elif kind == 3:
        values = rng.poisson(4.0, rows).astype(np.float64)  # integers: many ties
    else:
        values = rng.normal(0.0, 1.0, rows)
        values[rng.random(rows) < 0.05] = np.nan  # 5 % missing on both sides
    return _drift_numeric(rng, values, i) if drift else values


def _drift_numeric(rng: np.random.Generator, values: np.ndarray, i: int) -> np.ndarray:
    spread = np.nanstd(values)
    if i % 3 == 0:
        return values + 1.0 * spread  # mean shift of one standard deviation
    if i % 3 == 1:
        return np.nanmean(values) + (values - np.nanmean(values)) * 2.0  # twice the spread
    moved = rng.random(values.size) < 0.3
    return np.where(moved, values + 3.0 * spread, values)  # 30 % of the values jump


def _categorical(rng: np.random.Generator, i: int, rows: int, drift: bool) -> pd.Categorical:
    levels = 3 + (i * 7) % 20
    weights = np.linspace(1.0, 3.0, levels)
    if drift:
        weights = weights[::-1] ** 3  # the rare levels become the common ones
    names = [f"c{i}_{k:02d}" for k in range(levels)] + (["new_level"] if drift else [])
    if drift:
        weights = np.append(weights, weights.sum() * 0.25)  # a level never seen in training: ~20 %
    codes = rng.choice(len(names), size=rows, p=weights / weights.sum())
    return pd.Categorical.from_codes(codes, categories=names)


def make_data(rows: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    frames = []
    for drifted in (False, True):
        cols: dict[str, object] = {}
        for i in range(NUMERIC):
            name = f"num_{i:02d}"
            cols[name] = _numeric(rng, i, rows, drifted and name in DRIFTED_NUMERIC)
        for i in range(CATEGORICAL):
            name = f"cat_{i:02d}"
            cols[name] = _categorical(rng, i, rows, drifted and name in DRIFTED_CATEGORICAL)
        frames.append(pd.DataFrame(cols))
    return frames[0], frames[1]


def columns() -> tuple[Column, ...]:
    return (*(Column(f"num_{i:02d}", "numeric") for i in range(NUMERIC)),
            *(Column(f"cat_{i:02d}", "categorical") for i in range(CATEGORICAL)))


def run_ours(reference: pd.DataFrame, current: pd.DataFrame, workers: int | None) -> tuple[float, set[str]]:
    start = time.perf_counter()
    results = compare(reference, current, columns(), Thresholds(), workers=workers)
    result = MonitorResult("bench", "v1", "production", "reference", "current", len(reference), len(current),
                           Thresholds(), results)
    report.markdown(result)
    report.as_json(result)
    elapsed = time.perf_counter() - start
    return elapsed, {c.name for c in results if c.verdict == FAIL}


def run_evidently(reference: pd.DataFrame, current: pd.DataFrame) -> tuple[float, set[str]]:
    from evidently import DataDefinition, Dataset, Report
    from evidently.presets import DataDriftPreset

    definition = DataDefinition(numerical_columns=[c.name for c in columns() if c.kind == "numeric"],
                                categorical_columns=[c.name for c in columns() if c.kind == "categorical"])
    start = time.perf_counter()
    snapshot = Report([DataDriftPreset()]).run(Dataset.from_pandas(current, data_definition=definition),
                                               Dataset.from_pandas(reference, data_definition=definition))
    flagged = _evidently_flags(snapshot.dict())
    return time.perf_counter() - start, flagged


def _evidently_flags(snapshot: dict) -> set[str]:
    flagged = set()
    for metric in snapshot["metrics"]:
        config = metric.get("config") or {}
        if not str(config.get("type", "")).endswith("ValueDrift"):
            continue
        value, threshold = float(metric["value"]), float(config["threshold"])
        is_p_value = "p_value" in str(config.get("method", ""))
        if (value < threshold) if is_p_value else (value >= threshold):
            flagged.add(config["column"])
    return flagged


def _timed(label: str, func: Callable[[], tuple[float, set[str]]]) -> tuple[float, set[str]]:
    print(f"running {label}...", file=sys.stderr, flush=True)
    return func()


# -- larger than memory: data generated on disk in chunks, the streaming engine in a fresh process ---------------

STREAM_FROM = 2_000_000
CHUNK_ROWS = 1 << 18
PEAK_RSS_LIMIT = 1.5 * 1024**3
DATA_DIR = Path("/work/bench-cache/monitor")


def parse_rows(text: str) -> list[int]:
    """``5M,20M`` / ``1000000`` -> row counts."""
    units = {"k": 10**3, "m": 10**6, "g": 10**9}
    sizes = []
    for part in text.split(","):
        part = part.strip().lower()
        scale = units.get(part[-1:], 1)
        sizes.append(int(float(part[:-1] if scale > 1 else part) * scale))
    return sizes


def stream_columns(cols: int) -> tuple[Column, ...]:
    numeric = round(cols * NUMERIC / (NUMERIC + CATEGORICAL))
    return (*(Column(f"num_{i:02d}", "numeric") for i in range(numeric)),
            *(Column(f"cat_{i:02d}", "categorical") for i in range(cols - numeric)))


def generate(path: Path, rows: int, cols: int, drifted: bool, seed: int) -> None:
    """One table as Parquet, written a chunk at a time (memory O(chunk)); skipped when already there."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    writer = None
    for number, start in enumerate(range(0, rows, CHUNK_ROWS)):
        rng = np.random.default_rng([seed, int(drifted), number])
        size = min(CHUNK_ROWS, rows - start)
        data = {}
        for column in stream_columns(cols):
            i = int(column.name[4:])
            if column.kind == "numeric":
                data[column.name] = _numeric(rng, i, size, drifted and column.name in DRIFTED_NUMERIC)
            else:
                moved = drifted and column.name in DRIFTED_CATEGORICAL
                data[column.name] = pd.Series(_categorical(rng, i, size, moved))
        table = pa.Table.from_pandas(pd.DataFrame(data), preserve_index=False)
        # dictionary pages for the categorical columns only: pyarrow's default tries them on every float
        # column first and falls back, which made writing 4x slower (hours of generation at 50M rows)
        categorical = [c.name for c in stream_columns(cols) if c.kind != "numeric"]
        writer = writer or pq.ParquetWriter(partial, table.schema, use_dictionary=categorical)
        writer.write_table(table, row_group_size=CHUNK_ROWS)
    assert writer is not None
    writer.close()
    partial.rename(path)


_MEASURE = """
import json, resource, sys, time
from pathlib import Path
from mlops_actions.monitoring.engine import MonitorResult
from mlops_actions.monitoring.stream import TableSource, stream_compare
from mlops_actions.monitoring.thresholds import FAIL, Thresholds
from mlops_actions.reporting import monitor as report
import bench_monitor as b
columns = b.stream_columns(int(sys.argv[3]))
start = time.perf_counter()
found = stream_compare(TableSource(Path(sys.argv[1]), "parquet", "reference"),
                       TableSource(Path(sys.argv[2]), "parquet", "current"), columns, Thresholds())
result = MonitorResult("bench", "v1", "production", "reference", "current", found.reference_rows,
                       found.current_rows, Thresholds(), found.columns, notes=(found.note(),))
report.markdown(result)
elapsed = time.perf_counter() - start
print(json.dumps({"seconds": elapsed, "peak_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                  "flagged": sorted(c.name for c in found.columns if c.verdict == FAIL),
                  "bound": found.ks_error_bound, "rows": found.reference_rows + found.current_rows}))
"""


def run_stream(sizes: list[int], cols: int, data_dir: Path, seed: int) -> int:
    injected = {c.name for c in stream_columns(cols)} & (set(DRIFTED_NUMERIC) | set(DRIFTED_CATEGORICAL))
    print(f"streaming engine; columns: {cols}; drift injected into {len(injected)}: {', '.join(sorted(injected))}")
    print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    ok, speeds = True, []
    for rows in sizes:
        paths = [data_dir / f"{kind}-{rows}x{cols}-seed{seed}-v2.parquet" for kind in ("reference", "current")]
        print(f"generating {rows:,} rows x {cols} columns per table (skipped when cached)...", file=sys.stderr)
        for path, drifted in zip(paths, (False, True), strict=True):
            generate(path, rows, cols, drifted, seed)
        size = sum(p.stat().st_size for p in paths)
        here = Path(__file__).resolve().parent
        done = subprocess.run([sys.executable, "-c", _MEASURE, *map(str, paths), str(cols)],
                              capture_output=True, text=True, check=True, cwd=here,
                              env={**os.environ, "PYTHONPATH": f"{here.parent}{os.pathsep}{here}"})
        found = json.loads(done.stdout.strip().splitlines()[-1])
        speed = found["rows"] / found["seconds"]
        speeds.append(speed)
        good = set(found["flagged"]) == injected and found["peak_rss"] < PEAK_RSS_LIMIT
        ok = ok and good
        print(f"{rows:,} + {rows:,} rows ({size / 1024**3:.1f} GiB of Parquet): {found['seconds']:.1f} s, "
              f"{speed:,.0f} rows/s, peak RSS {found['peak_rss'] / 1024**2:,.0f} MiB "
              f"(limit {PEAK_RSS_LIMIT / 1024**2:,.0f}); KS error bound {found['bound']:.2g}; "
              f"flags exactly the injected features: {set(found['flagged']) == injected}")
    if len(speeds) > 1:
        spread = max(speeds) / min(speeds)
        print(f"rows/s from {min(speeds):,.0f} to {max(speeds):,.0f} (x{spread:.2f}): time "
              f"{'is' if spread < 1.3 else 'is NOT'} linear in rows (within 30 %)")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", default="1000000",
                        help="rows of each table (default 1,000,000); 5M, 20M, or a list 5M,20M")
    parser.add_argument("--cols", type=int, default=NUMERIC + CATEGORICAL, help="columns (streaming mode)")
    parser.add_argument("--stream", action="store_true", help="the streaming engine on Parquet files on disk "
                        f"(implied from {STREAM_FROM:,} rows)")
    parser.add_argument("--data-dir", type=Path, default=DATA_DIR, help="where the generated tables are kept")
    parser.add_argument("--seed", type=int, default=0, help="random seed of the generated data")
    parser.add_argument("--workers", type=int, default=None, help="threads of our engine (default: CPUs)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of our engine; the median is reported")
    parser.add_argument("--skip-evidently", action="store_true", help="time our engine only")
    args = parser.parse_args(argv)
    sizes = parse_rows(args.rows)
    if args.stream or len(sizes) > 1 or sizes[0] >= STREAM_FROM:
        return run_stream(sizes, args.cols, args.data_dir, args.seed)
    args.rows = sizes[0]

    reference, current = make_data(args.rows, args.seed)
    injected = set(DRIFTED_NUMERIC) | set(DRIFTED_CATEGORICAL)
    print(f"rows: {args.rows:,} reference + {args.rows:,} current; features: {NUMERIC} numeric + "
          f"{CATEGORICAL} categorical; drift injected into {len(injected)}: {', '.join(sorted(injected))}")
    print(f"cpus: {os.cpu_count()}, load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs = [_timed("mlops-actions monitor engine", lambda: run_ours(reference, current, args.workers))
            for _ in range(max(args.repeat, 1))]
    times = sorted(t for t, _ in runs)
    ours_s, ours = statistics.median(times), runs[0][1]
    print(f"mlops-actions monitor engine: {ours_s:.3f} s (median of {len(times)}; best {times[0]:.3f} s); "
          f"flags {len(ours)}: {', '.join(sorted(ours))}")
    ok = ours == injected
    print(f"mlops-actions flags exactly the injected features: {ok}")
    if not args.skip_evidently:
        ev_s, ev = _timed("Evidently DataDriftPreset", lambda: run_evidently(reference, current))
        print(f"Evidently DataDriftPreset: {ev_s:.3f} s; flags {len(ev)}: {', '.join(sorted(ev))}")
        print(f"ratio (Evidently / ours, median): {ev_s / ours_s:.1f}x")
        print(f"same drifted features flagged by both: {ev == ours}")
        ok = ok and ev == ours
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
