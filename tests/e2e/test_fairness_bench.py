"""Smoke test: the fairness benchmark script runs end to end at a tiny size and agrees with fairlearn."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testkit import REPO

BENCH = REPO / "benchmarks" / "bench_fairness.py"


@pytest.mark.slow
def test_benchmark_runs_at_tiny_size() -> None:
    out = subprocess.run([sys.executable, str(BENCH), "--rows", "3000", "--fairlearn-max-rows", "3000",
                          "--repeat", "1", "--bootstrap", "20", "--json"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    result = json.loads(out.strip().splitlines()[-1])
    assert result["rows"] == 3000
    assert result["max_abs_difference"] <= 1e-12
    assert result["seconds"] > 0 and result["fairlearn_seconds"] > 0 and result["ratio"] > 0
    assert result["peak_rss_mb"] > 0
