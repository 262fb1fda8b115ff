"""Benchmark: rendering the PR report for many models and groups, and `mlops-actions report` end to end.

Run: /work/venv/bin/python benchmarks/bench_report.py [--models 40] [--groups 60] [--rows 1000000]
1. Rendering only: MODELS model reports of GROUPS groups each (comment, with degradation to 65,536
   characters, and the 1 MiB job summary): time and sizes.
2. End to end: a results folder with ROWS held-out predictions (two sensitive features, 5 × 3 groups) in a
   real git repository (the example), `mlops-actions report` in-process: time (fairness engine included).
No competitor renders this report; the numbers are for regressions of our own.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))


def bench_render(models: int, groups: int) -> None:
    from reportkit import model

    from mlops_actions.reporting.report import ReportContext, github_length, render_comment, render_summary

    gates = [{"metric": "accuracy", "min": 0.7}, {"metric": "accuracy", "max_regression": 0.01},
             {"fairness": "demographic_parity_difference", "max": 0.1, "action": "warn"}]
    reports = [model(f"model-{i:03d}", groups=[f"group-{j:03d}" for j in range(groups)], gates=gates,
                     baseline={"metrics": {"accuracy": 0.79}}) for i in range(models)]
    start = time.perf_counter()
    comment = render_comment(reports, ReportContext(base_ref="main"))
    mid = time.perf_counter()
    summary = render_summary(reports, ReportContext(base_ref="main"))
    end = time.perf_counter()
    print(f"render {models} models x {groups} groups: comment {mid - start:.3f} s "
          f"({github_length(comment):,} chars), summary {end - mid:.3f} s ({len(summary.encode()):,} bytes)")


def bench_end_to_end(rows: int) -> None:
    import numpy as np
    import pandas as pd

    from mlops_actions.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "repo"
        shutil.copytree(REPO / "examples" / "arrests", root)
        for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                     ["-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-qm", "init"]):
            subprocess.run(["git", *args], cwd=root, check=True)
        folder = root / "mlops-out" / "arrests"
        shutil.copytree(REPO / "tests" / "fixtures" / "report" / "arrests", folder)
        rng = np.random.default_rng(0)
        pd.DataFrame({"y_true": rng.choice(["Yes", "No"], rows), "y_pred": rng.choice(["Yes", "No"], rows),
                      "colour": rng.choice(list("ABCDE"), rows), "sex": rng.choice(list("XYZ"), rows)}
                     ).to_parquet(folder / "predictions.parquet")
        start = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["-C", str(root), "report", "--out", str(Path(tmp) / "report.md")])
        elapsed = time.perf_counter() - start
        print(f"mlops-actions report, {rows:,} held-out rows, 15 groups: {elapsed:.3f} s (exit {code})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", type=int, default=40, help="models in the rendering benchmark")
    parser.add_argument("--groups", type=int, default=60, help="groups per model in the rendering benchmark")
    parser.add_argument("--rows", type=int, default=1_000_000, help="held-out rows in the end-to-end run")
    args = parser.parse_args()
    bench_render(args.models, args.groups)
    bench_end_to_end(args.rows)


if __name__ == "__main__":
    main()
