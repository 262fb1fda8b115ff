"""Benchmark: our fairness engine vs fairlearn's MetricFrame on the same data, in one run.

Run: /work/venv/bin/python benchmarks/bench_fairness.py [--rows 1000000 10000000] [--fairlearn-max-rows N]
Data: binary labels and predictions with group-dependent rates, two sensitive features (5 × 3 groups,
pandas string columns as read from CSV/Parquet). Fairlearn computes accuracy, selection rate, TPR, FPR and
count per group; we compute those and much more (all rates with Wilson intervals, sixteen disparities with
1,000-replicate bootstrap intervals). Printed per size: both times, the ratio, the largest absolute
difference between the two results (per-group and overall values, differences and ratios), and memory:
the data is written to Parquet and each size is measured in a fresh child process that reads it (as the CLI
does), so "peak RSS" is the whole process (Python, libraries, data, evaluate) and the tracemalloc peak is
what ``evaluate`` itself allocates through numpy/Python (arrow buffers are not traced). Fairlearn runs for sizes up to
``--fairlearn-max-rows`` (default 1M; it takes about 20 s there, minutes at 10M).
Targets (issue 4): at least 100x faster than fairlearn at 1M rows with identical numbers; 10M rows in under
1.5 s and under 2 GB peak memory.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RATES = ("accuracy", "selection_rate", "tpr", "fpr")


def make_data(rows: int, seed: int = 0) -> tuple:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    race = rng.integers(0, 5, rows, dtype=np.int8)
    sex = rng.integers(0, 3, rows, dtype=np.int8)
    base = (np.array([0.30, 0.45, 0.50, 0.55, 0.70], dtype=np.float32)[race]
            + np.array([-0.05, 0.0, 0.05], dtype=np.float32)[sex])
    y_true = (rng.random(rows, dtype=np.float32) < base).astype(np.int64)
    del base
    flip = rng.random(rows, dtype=np.float32) < 0.2
    y_pred = np.where(flip, 1 - y_true, y_true)
    del flip
    features = pd.DataFrame({  # text columns, as pandas reads them from CSV or Parquet
        "race": pd.Series(pd.Categorical.from_codes(race, ["Asian", "Black", "Hispanic", "Other", "White"]))
        .astype("str"),
        "sex": pd.Series(pd.Categorical.from_codes(sex, ["Female", "Male", "Nonbinary"])).astype("str"),
    })
    return y_true, y_pred, features


def _max_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def run_ours(y_true, y_pred, features, repeat: int, bootstrap: int) -> dict:
    from mlops_actions.fairness import FairnessOptions, evaluate

    evaluate(y_true[:1000], y_pred[:1000], features.iloc[:1000], FairnessOptions(bootstrap=10))  # load lazy modules
    rss_before = _max_rss_mb()
    times, report = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        report = evaluate(y_true, y_pred, features, FairnessOptions(bootstrap=bootstrap))
        times.append(time.perf_counter() - start)
    start = time.perf_counter()
    evaluate(y_true, y_pred, features, FairnessOptions(bootstrap=0))
    no_boot = time.perf_counter() - start
    return {"report": report, "seconds": statistics.median(times), "best": min(times),
            "no_bootstrap_seconds": no_boot, "peak_rss_mb": _max_rss_mb(),
            "rss_growth_mb": _max_rss_mb() - rss_before}


def run_fairlearn(y_true, y_pred, features) -> dict:
    import sklearn.metrics as skm
    from fairlearn.metrics import (
        MetricFrame,
        count,
        equalized_odds_difference,
        false_positive_rate,
        selection_rate,
        true_positive_rate,
    )

    metrics = {"accuracy": skm.accuracy_score, "selection_rate": selection_rate, "tpr": true_positive_rate,
               "fpr": false_positive_rate, "count": count}
    start = time.perf_counter()
    frame = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred, sensitive_features=features)
    seconds = time.perf_counter() - start
    eod = equalized_odds_difference(y_true, y_pred, sensitive_features=features)
    return {"frame": frame, "seconds": seconds, "eod": eod}


def max_difference(report, fl: dict) -> float:
    """Largest |ours − fairlearn| over per-group and overall rates, counts, differences and ratios."""
    import numpy as np

    frame = fl["frame"]
    ours = report.by_group.loc[frame.by_group.index]
    gaps = [np.abs(ours[r].to_numpy() - frame.by_group[r].to_numpy(dtype=float)).max() for r in RATES]
    gaps.append(np.abs(ours["n"].to_numpy() - frame.by_group["count"].to_numpy(dtype=float)).max())
    gaps += [abs(float(report.overall[r]) - float(frame.overall[r])) for r in RATES]
    for method, sfx in (("between_groups", ""), ("to_overall", "@to_overall")):
        diff, ratio = frame.difference(method=method), frame.ratio(method=method)
        gaps.append(abs(report.summary[f"demographic_parity_difference{sfx}"] - diff["selection_rate"]))
        gaps.append(abs(report.summary[f"demographic_parity_ratio{sfx}"] - ratio["selection_rate"]))
        gaps.append(abs(report.summary[f"equal_opportunity_difference{sfx}"] - diff["tpr"]))
        gaps.append(abs(report.summary[f"equalized_odds_ratio{sfx}"] - min(ratio["tpr"], ratio["fpr"])))
    gaps.append(abs(report.summary["equalized_odds_difference"] - fl["eod"]))
    return float(max(gaps))


def write_data(rows: int, path: Path) -> None:
    y_true, y_pred, features = make_data(rows)
    features.assign(y_true=y_true, y_pred=y_pred).to_parquet(path)


def read_data(path: Path) -> tuple:
    import pandas as pd

    frame = pd.read_parquet(path)
    return frame["y_true"], frame["y_pred"], frame[["race", "sex"]]


def _current_rss_mb() -> float:
    import os

    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child(path: Path, with_fairlearn: bool, repeat: int, bootstrap: int) -> dict:
    y_true, y_pred, features = read_data(path)
    rows = len(y_true)
    rss_with_data = _current_rss_mb()
    ours = run_ours(y_true, y_pred, features, repeat, bootstrap)
    result = {k: v for k, v in ours.items() if k != "report"} | {"rows": rows, "rss_with_data_mb": rss_with_data}
    result["traced_peak_mb"] = traced_peak(y_true, y_pred, features)
    if with_fairlearn:
        fl = run_fairlearn(y_true, y_pred, features)
        result |= {"fairlearn_seconds": fl["seconds"], "ratio": fl["seconds"] / ours["seconds"],
                   "max_abs_difference": max_difference(ours["report"], fl)}
    return result


def traced_peak(y_true, y_pred, features) -> float:
    """Peak of the memory numpy and Python allocate inside one ``evaluate`` call (tracemalloc), in MB."""
    import tracemalloc

    from mlops_actions.fairness import evaluate

    tracemalloc.start()
    evaluate(y_true, y_pred, features)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def run_size(rows: int, args: argparse.Namespace) -> dict:
    """Write the data as Parquet, then measure in a fresh child process that reads it (as the CLI would)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.parquet"
        write_data(rows, path)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(path), "--repeat",
               str(args.repeat), "--bootstrap", str(args.bootstrap)]
        if rows <= args.fairlearn_max_rows:
            cmd.append("--with-fairlearn")
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def show(r: dict) -> None:
    line = (f"{r['rows']:>11,} rows  ours {r['seconds']:.3f} s (median of runs; best {r['best']:.3f} s, "
            f"{r['no_bootstrap_seconds']:.3f} s without bootstrap)\n{'':>17}memory: peak RSS "
            f"{r['peak_rss_mb']:.0f} MB for the whole process (data read from Parquet: "
            f"{r['rss_with_data_mb']:.0f} MB), evaluate's own traced peak {r['traced_peak_mb']:.0f} MB")
    if "fairlearn_seconds" in r:
        line += (f"\n{'':>17}fairlearn {r['fairlearn_seconds']:.2f} s  ratio {r['ratio']:.0f}x  "
                 f"max abs difference {r['max_abs_difference']:.2e}")
    print(line, flush=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 10_000_000], help="data sizes")
    p.add_argument("--fairlearn-max-rows", type=int, default=1_000_000,
                   help="run fairlearn only up to this size (pass 10000000 to include 10M: minutes)")
    p.add_argument("--repeat", type=int, default=3, help="timed runs of ours per size (median shown)")
    p.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates in our runs")
    p.add_argument("--json", action="store_true", help="print one JSON object per size instead")
    p.add_argument("--child", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--with-fairlearn", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.with_fairlearn, args.repeat, args.bootstrap)))
        return 0
    for rows in args.rows:
        result = run_size(rows, args)
        print(json.dumps(result)) if args.json else show(result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
