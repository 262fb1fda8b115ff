"""Smoke test of benchmarks/bench_monitor.py at a tiny size (Evidently skipped)."""

from __future__ import annotations

import importlib.util

from testkit import REPO

BENCH = REPO / "benchmarks" / "bench_monitor.py"


def test_benchmark_flags_exactly_the_injected_features(capsys) -> None:
    spec = importlib.util.spec_from_file_location("bench_monitor", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert bench.main(["--rows", "4000", "--skip-evidently", "--workers", "1", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "mlops-actions flags exactly the injected features: True" in out
    assert "flags 8: cat_02, cat_09, cat_15, num_03, num_08, num_13, num_18, num_23" in out
