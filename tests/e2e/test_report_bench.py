"""Smoke test: the report benchmark runs end to end at a tiny size, stages included (it had drifted from
``evaluation.results.load_candidate``'s signature with nothing to notice)."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from testkit import REPO

BENCH = REPO / "benchmarks" / "bench_report.py"


@pytest.mark.slow
def test_benchmark_runs_at_tiny_size() -> None:
    done = subprocess.run([sys.executable, str(BENCH), "--only-retrained", "--retrained", "2",
                           "--retrained-rows", "3000"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "2 retrained models x 3,000 held-out rows" in done.stdout
    assert "(exit 0;" in done.stdout and "2 glances with paired intervals" in done.stdout
    stages = re.search(r"per stage, CPU seconds, one thread: (.*); total", done.stdout)
    assert stages is not None, done.stdout
    assert [part.rsplit(" ", 2)[0] for part in stages.group(1).split(", ")] == [
        "read", "fairness", "intervals and pictures", "gates", "render"]
