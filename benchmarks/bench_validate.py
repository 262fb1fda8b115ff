"""Benchmark: `mlops-actions validate` vs `check-jsonschema` on the same 1,000 spec files.

Run: /work/venv/bin/python benchmarks/bench_validate.py [--files 1000] [--runs 3]
Both tools run as command-line programs (start-up included), on a valid set and on a set where every
file holds one error; we also give line and column and run the semantic checks, check-jsonschema does not.
Targets (issue 2): valid set <= 0.5x check-jsonschema's time; error set <= 1.0x; cold start of
`validate` on one file: median under 0.25 s.
"""

from __future__ import annotations

import argparse
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


def timed(cmd: list[str], cwd: Path, runs: int) -> tuple[float, int]:
    times, code = [], 0
    for _ in range(runs):
        start = time.perf_counter()
        result = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
        times.append(time.perf_counter() - start)
        code = result.returncode
    return statistics.median(times), code


def compare(label: str, root: Path, paths: list[Path], runs: int) -> float:
    """Runs alternate (ours, theirs, ours, ...) so a busy machine slows both alike; medians compared."""
    ours_cmd = [str(BIN / "mlops-actions"), "validate"]
    theirs_cmd = [str(BIN / "check-jsonschema"), "--schemafile", str(SCHEMA), *[str(p) for p in paths]]
    ours_t, theirs_t, codes = [], [], {}
    for _ in range(runs):
        for name, cmd, times in (("ours", ours_cmd, ours_t), ("theirs", theirs_cmd, theirs_t)):
            seconds, codes[name] = timed(cmd, root, 1)
            times.append(seconds)
    ours, theirs = statistics.median(ours_t), statistics.median(theirs_t)
    ratio = ours / theirs
    print(f"{label:>10}: mlops-actions validate {ours:6.3f} s (min {min(ours_t):.3f}, exit {codes['ours']}) | "
          f"check-jsonschema {theirs:6.3f} s (min {min(theirs_t):.3f}, exit {codes['theirs']}) | "
          f"ratio {ratio:.2f}x")
    return ratio


def cold_start(root: Path, runs: int) -> float:
    one = root / "models" / "m0000" / "model.yaml"
    median, _ = timed([str(BIN / "mlops-actions"), "validate", str(one)], root, runs)
    print(f"cold start, one file: median {median:.3f} s over {runs} runs (target < 0.25 s)")
    return median


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--files", type=int, default=1000, help="spec files per set")
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
