"""Benchmark: ``mlops-actions plan`` vs ``dvc status`` on a synthetic repository.

The repository has N models (default 5,000), each with its own data file tracked by DVC (``data/<m>.csv.dvc``,
default 10 GiB of tracked data in all), every model registered (an annotated version tag whose record holds its
fingerprint), and an equivalent DVC pipeline (one stage per model, its data file and spec as deps, dvc.lock
written). After editing 1, 10 and 100 specs (one line each), and separately appending a row to 1, 10 and 100
data files and recording them (``dvc add``: the .dvc file and the cache object), both tools are timed (median
of ``--repeat`` runs, each a fresh process, after one warm-up run). Linux inotify watches the data folder during
every ``plan`` run: the benchmark FAILS if plan opens any data file (DVC's md5 in the .dvc file is the data's
hash: O(1) per model, whatever its size).

How 10 GiB is made cheaply: each data file is sparse -- a CSV header, a hole of zeros, and a few distinct rows
at its end -- so it takes a few KiB of disk, while its size (what ``dvc status`` and ``du --apparent-size``
see) is 10 GiB / N. Its md5 is computed in O(1) from the shared md5 state of header + hole. DVC's cache
objects are sparse files of the same bytes, read-only as DVC leaves them. ``dvc status`` reads each file once
(the warm-up, 10 GiB of md5) and afterwards knows it by inode, mtime and size, as plan knows files by git's
index or the .dvc file: both tools then do the work a one-line change needs.

    python benchmarks/bench_plan.py                          # 5,000 models, 10 GiB (cached in /work/bench-cache)
    python benchmarks/bench_plan.py --models 20 --megabytes 4 --no-dvc    # the smoke test's size

dvc is looked up as ``--dvc`` (default: /work/venv-plan/bin/dvc, then ``dvc`` on PATH); without it the
DVC half is skipped and says so. Both tools run with bytecode (``PYTHONDONTWRITEBYTECODE`` dropped), as
installed by pip; the verdict is on CPU seconds when a loaded machine inflates wall time.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import hashlib
import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from mlops_actions.training.fingerprint import snapshots_worktree  # noqa: E402

CACHE = Path("/work/bench-cache")
DEFAULT_DVC = Path("/work/venv-plan/bin/dvc")
BUDGET_SECONDS = 1.0  # issue 15: plan at 5,000 models and 10 GB after a one-line change
SPEC = """name: {name}
task: classification
data:
  path: data/{name}.csv
  format: csv
  target: d
  features:
    a: categorical
    b: categorical
    c: categorical
split:
  seed: 42
  test_fraction: 0.25
estimator:
  class: sklearn.linear_model.LogisticRegression
  params:
    C: 1.0
metrics:
  accuracy: higher
"""
GIT_ENV = {"GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


# -- inotify: which files of a folder any process opens ---------------------------------------------------

IN_ACCESS, IN_OPEN = 0x1, 0x20


class Watch:
    """Linux inotify on one folder: names of the files opened or read there, by any process."""

    def __init__(self, folder: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, str(folder).encode(), IN_OPEN | IN_ACCESS) < 0:
            raise OSError(ctypes.get_errno(), "inotify is not available")

    def drain(self) -> set[str]:
        names: set[str] = set()
        while True:
            try:
                buf = os.read(self.fd, 1 << 16)
            except BlockingIOError:
                return names
            pos = 0
            while pos < len(buf):
                _wd, _mask, _cookie, size = struct.unpack_from("iIII", buf, pos)
                names.add(buf[pos + 16:pos + 16 + size].rstrip(b"\0").decode())
                pos += 16 + size

    def close(self) -> None:
        os.close(self.fd)


# -- the synthetic repository --------------------------------------------------------------------------------

def git(root: Path, *args: str, stdin: str | None = None) -> str:
    env = {**os.environ, **GIT_ENV}
    return subprocess.run(["git", *args], cwd=root, input=stdin, text=True, check=True, capture_output=True,
                          env=env).stdout.strip()


HEADER = b"a,b,c,d\n"
EXTRA_ROW = b"0,0,0,0\n"


def tail_rows(i: int) -> bytes:
    """The distinct rows at the end of model ``i``'s data file (the same length for every model)."""
    return b"".join(b"%016x,%016x,%016x,%d\n" % (i, j, i * 7919 + j, j % 2) for j in range(4))


class SparseData:
    """Data files of ``size`` bytes each: the header, a hole of zeros, then ``tail_rows`` (and any appended rows).
    The md5 of header + hole is the same for every file: computed once, then each file's md5 costs O(1)."""

    def __init__(self, size: int) -> None:
        self.size = max(size, len(HEADER) + len(tail_rows(0)))
        self.hole = self.size - len(HEADER) - len(tail_rows(0))
        self.prefix = hashlib.md5(HEADER, usedforsecurity=False)
        zeros = bytes(1 << 20)
        left = self.hole
        while left:
            self.prefix.update(zeros[:min(left, len(zeros))])
            left -= min(left, len(zeros))

    def write(self, path: Path, i: int, extra: bytes = b"") -> tuple[str, int]:
        """Write model ``i``'s file (sparse) at ``path``; its (md5, size)."""
        tail = tail_rows(i) + extra
        with path.open("wb") as fh:
            fh.write(HEADER)
            fh.seek(len(HEADER) + self.hole)
            fh.write(tail)
        digest = self.prefix.copy()
        digest.update(tail)
        return digest.hexdigest(), self.size + len(extra)


def dvc_file(name: str, md5: str, size: int) -> str:
    """The .dvc file ``dvc add`` writes for a file (DVC 3)."""
    return f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: {name}.csv\n"


def record_data(root: Path, data: SparseData, i: int, extra: bytes = b"", cache: bool = True) -> tuple[str, int]:
    """What ``dvc add data/<m>.csv`` leaves: the file, its .dvc file and (with DVC) its cache object."""
    name = f"m{i:04d}"
    md5, size = data.write(root / f"data/{name}.csv", i, extra)
    (root / f"data/{name}.csv.dvc").write_text(dvc_file(name, md5, size))
    if cache and (root / ".dvc").is_dir():
        obj = root / f".dvc/cache/files/md5/{md5[:2]}/{md5[2:]}"
        if not obj.exists():
            obj.parent.mkdir(parents=True, exist_ok=True)
            data.write(obj, i, extra)
            obj.chmod(0o444)
    return md5, size


def build(root: Path, models: int, megabytes: int, dvc: str | None) -> None:
    print(f"building {root} ({models} models, {megabytes} MB of DVC-tracked sparse data) ...", flush=True)
    start = time.perf_counter()
    shutil.rmtree(root, ignore_errors=True)
    (root / "data").mkdir(parents=True)
    data = SparseData(megabytes * 1024 * 1024 // models)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "core.looseCompression", "1")
    env = {**os.environ, **GIT_ENV, "DVC_NO_ANALYTICS": "1"}
    if dvc:
        subprocess.run([dvc, "init", "-q"], cwd=root, check=True, env=env)
        subprocess.run([dvc, "config", "core.autostage", "false"], cwd=root, check=True, env=env)
    (root / "data/.gitignore").write_text("/*.csv\n")
    lock = {}
    for i in range(models):
        name = f"m{i:04d}"
        (root / f"models/{name}").mkdir(parents=True)
        spec = SPEC.format(name=name).encode()
        (root / f"models/{name}/model.yaml").write_bytes(spec)
        md5, size = record_data(root, data, i)
        lock[f"train_{name}"] = {"cmd": f"mlops-actions train {name}", "deps": [
            {"path": f"data/{name}.csv", "hash": "md5", "md5": md5, "size": size},
            {"path": f"models/{name}/model.yaml", "hash": "md5",
             "md5": hashlib.md5(spec, usedforsecurity=False).hexdigest(), "size": len(spec)}]}
    if dvc:
        stages = {stage: {"cmd": entry["cmd"], "deps": [d["path"] for d in entry["deps"]]}  # type: ignore[index]
                  for stage, entry in lock.items()}
        (root / "dvc.yaml").write_text(json.dumps({"stages": stages}, indent=1))  # JSON is YAML
        (root / "dvc.lock").write_text(json.dumps({"schema": "2.0", "stages": lock}, indent=1))
    git(root, "add", "-A")
    git(root, "commit", "-qm", "synthetic repository")
    if dvc:  # the first status reads every file once (10 GiB of md5) and must find everything up to date
        out = subprocess.run([dvc, "status"], cwd=root, check=True, env=env, capture_output=True, text=True).stdout
        assert "up to date" in out, f"dvc status after the build: {out[:2000]}"
    register_all(root)
    print(f"built in {time.perf_counter() - start:.1f}s", flush=True)


def register_all(root: Path) -> None:
    """An annotated tag ``<model>@v1`` per model whose record holds the model's current fingerprint."""
    refs, head = [], git(root, "rev-parse", "HEAD")
    for name, snap in snapshots_worktree(root).items():
        assert snap.fingerprint is not None
        record = {"record_version": 1, "model": name, "version": "v1", **snap.fingerprint.record_fields(),
                  "artifact": {"file": "model.skops", "sha256": "0" * 64, "format": "skops"},
                  "metrics": {"accuracy": 0.5}}
        tag = git(root, "mktag", stdin=(f"object {head}\ntype commit\n"
                                        f"tag {name}@v1\ntagger bench <bench@example.com> 1700000000 +0000\n\n"
                                        f"{json.dumps(record)}\n"))
        refs.append(f"update refs/tags/{name}@v1 {tag}\n")
    git(root, "update-ref", "--stdin", stdin="".join(refs))
    pack_tags(root)


def pack_tags(root: Path) -> None:
    """Tags as a clone has them: refs in packed-refs, tag objects in a pack (not 1,000 loose files)."""
    git(root, "pack-refs", "--all")
    oids = git(root, "for-each-ref", "--format=%(objectname)", "refs/tags/")
    subprocess.run(["git", "pack-objects", "-q", ".git/objects/pack/pack"], cwd=root, input=oids + "\n",
                   text=True, check=True, capture_output=True)
    git(root, "prune-packed")


def prepared(models: int, megabytes: int, dvc: str | None, cache: Path) -> Path:
    root = cache / f"plan-{models}x{megabytes}MB-sparse{'-dvc' if dvc else ''}"
    if not (root / ".git/bench-complete").exists():
        build(root, models, megabytes, dvc)
        (root / ".git/bench-complete").write_text("ok\n")
        time.sleep(1.1)  # let the index become older than every file written by the build
    restore(root)
    if _planned(root):  # records made by an older fingerprint format: register again
        register_all(root)
    elif any((root / ".git/refs/tags").iterdir()):
        pack_tags(root)
    return root


def _planned(root: Path) -> list[str]:
    from mlops_actions.commands.plan import compute_plan, resolve_base
    from mlops_actions.gitio import Git

    return [p.model for p in compute_plan(root, resolve_base(Git(root), "HEAD")) if p.train]


def restore(root: Path, edited: Sequence[str] = ()) -> None:
    """Back to the committed state with git's index stat info fresh (as some time after a checkout in CI).

    Restored files get an mtime in the past: files written within the index's own second are "racily
    clean" to git and would be re-read by everyone, us and dvc alike.
    """
    git(root, "checkout", "-q", "--", ".")
    past = time.time() - 60
    for path in edited:
        os.utime(root / path, (past, past))
    git(root, "update-index", "-q", "--refresh")


# -- edits and timings ----------------------------------------------------------------------------------------

def edit_specs(root: Path, count: int) -> list[str]:
    names = [f"m{i:04d}" for i in range(count)]
    for name in names:
        spec = root / f"models/{name}/model.yaml"
        spec.write_text(spec.read_text().replace("C: 1.0", "C: 0.5"))
    return names


def edit_data(root: Path, data: SparseData, count: int) -> list[str]:
    """A row appended to ``count`` data files, each recorded as ``dvc add`` does (.dvc file, cache object)."""
    for i in range(count):
        record_data(root, data, i, EXTRA_ROW)
    return [f"m{i:04d}" for i in range(count)]


def restore_data(root: Path, data: SparseData, count: int) -> None:
    for i in range(count):
        record_data(root, data, i)


@contextmanager
def watching(folder: Path) -> Iterator[Watch]:
    watch = Watch(folder)
    try:
        yield watch
    finally:
        watch.close()


def timed(argv: list[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> tuple[float, float, str]:
    """(wall seconds, CPU seconds of the process and its children, stdout) of one run."""
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}  # bytecode, as pip
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    out = subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), out


def time_plan(root: Path, repeat: int) -> tuple[list[tuple[float, float]], dict[str, object], set[str]]:
    """Times of ``mlops-actions plan --format json`` (each a fresh process), its output, data files opened."""
    argv = [sys.executable, "-m", "mlops_actions", "-C", str(root), "plan", "--base", "HEAD", "--format", "json"]
    runs, opened, out = [], set(), ""
    with watching(root / "data") as watch:
        for attempt in range(repeat + 1):  # the first is a warm-up (bytecode, the cache of hashed files)
            wall, cpu, out = timed(argv)
            runs += [(wall, cpu)] if attempt else []
            opened |= watch.drain()
    return runs, json.loads(out), opened


def time_in_process(root: Path, repeat: int) -> float:
    """Median time of the plan computation itself, without Python start-up and imports."""
    from mlops_actions.commands.plan import compute_plan, resolve_base
    from mlops_actions.gitio import Git

    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        compute_plan(root, resolve_base(Git(root), "HEAD"))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def time_dvc(root: Path, dvc: str, repeat: int) -> tuple[list[tuple[float, float]], str]:
    env = {**os.environ, "DVC_NO_ANALYTICS": "1"}
    runs, out = [], ""
    for attempt in range(repeat + 1):  # the first is a warm-up (bytecode, its state of hashed files)
        wall, cpu, out = timed([dvc, "status"], cwd=root, env=env)
        runs += [(wall, cpu)] if attempt else []
    return runs, out


def summary(runs: list[tuple[float, float]]) -> dict[str, float]:
    walls = [w for w, _ in runs]
    return {"min": min(walls), "median": statistics.median(walls), "cpu": statistics.median(c for _, c in runs)}


def scenario(root: Path, data: SparseData, kind: str, count: int, dvc: str | None,
             repeat: int) -> dict[str, object]:
    names = edit_specs(root, count) if kind == "spec" else edit_data(root, data, count)
    ours, doc, opened = time_plan(root, repeat)
    planned = sorted(e["model"] for e in doc["include"])  # type: ignore[index]
    assert planned == names, f"plan listed {planned[:5]}..., expected {names[:5]}..."
    opened = {n for n in opened if n.endswith(".csv")}  # the .dvc files are what plan reads instead
    assert not opened, f"plan opened data files: {sorted(opened)[:10]}"
    row: dict[str, object] = {"edit": f"{count} {kind}(s)", "plan": summary(ours), "opened": len(opened),
                              "in_process": time_in_process(root, repeat)}
    if dvc:
        theirs, out = time_dvc(root, dvc, repeat)
        assert all(f"train_{n}" in out for n in names), "dvc status did not see the edit"
        row["dvc"] = summary(theirs)
    if kind == "data":
        restore_data(root, data, count)
    restore(root, [f"models/{n}/model.yaml" if kind == "spec" else f"data/{n}.csv" for n in names])
    return row


def report(rows: list[dict[str, Any]], dvc: str | None, skipped: bool) -> None:
    print("\nwall seconds as min / median of the runs; cpu = median CPU seconds (process + children)")
    print(f"{'edit':<14} {'plan min/med':>13} {'cpu':>6} {'in-proc':>8} {'opened':>7} "
          f"{'dvc status min/med':>19} {'cpu':>6} {'ratio':>6}")
    for r in rows:
        ours, theirs = r["plan"], r.get("dvc")
        them = f"{theirs['min']:.3f}/{theirs['median']:.3f} {theirs['cpu']:>6.2f}" if theirs else f"{'skipped':>26}"
        ratio = f"{theirs['median'] / ours['median']:.1f}x" if theirs else "-"
        print(f"{r['edit']:<14} {ours['min']:.3f}/{ours['median']:.3f} {ours['cpu']:>6.2f} {r['in_process']:>8.3f} "
              f"{r['opened']:>7} {them:>26} {ratio:>6}")
    if skipped:
        print("\ndvc: skipped (--no-dvc) - no DVC comparison in this run")
    elif not dvc:
        print("\ndvc: NOT INSTALLED - the DVC comparison was skipped (pip install dvc into /work/venv-plan)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", type=int, default=5000, help="number of models (default 5000)")
    parser.add_argument("--megabytes", type=int, default=10240,
                        help="total DVC-tracked data in MiB, as sparse files (default 10240)")
    parser.add_argument("--edits", default="1,10,100", help="numbers of specs/data files to edit (default 1,10,100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement, median reported (default 3)")
    parser.add_argument("--cache", type=Path, default=CACHE, help="where the generated repository is kept")
    parser.add_argument("--dvc", default=None, help="dvc executable (default: /work/venv-plan/bin/dvc or PATH)")
    parser.add_argument("--no-dvc", action="store_true", help="skip the dvc comparison")
    args = parser.parse_args()
    dvc = None if args.no_dvc else (args.dvc or (str(DEFAULT_DVC) if DEFAULT_DVC.exists() else shutil.which("dvc")))
    root = prepared(args.models, args.megabytes, dvc, args.cache)
    edits = [int(e) for e in args.edits.split(",") if int(e) <= args.models]
    data = SparseData(args.megabytes * 1024 * 1024 // args.models)
    rows = [scenario(root, data, kind, n, dvc, args.repeat) for kind in ("spec", "data") for n in edits]
    report(rows, dvc, args.no_dvc)
    one = rows[0]["plan"]
    load = os.getloadavg()[0]
    if one["min"] < BUDGET_SECONDS:
        verdict = "PASS"
    elif one["cpu"] < BUDGET_SECONDS:
        verdict = f"PASS on CPU time ({one['cpu']:.3f}s); wall time inflated by a load average of {load:.1f}"
    else:
        verdict = "FAIL"
    print(f"\none-line edit to one spec: plan {one['min']:.3f}s best, {one['median']:.3f}s median wall, "
          f"{one['cpu']:.3f}s CPU (budget {BUDGET_SECONDS}s): {verdict}")
    print(f"no unchanged data file was opened by plan or git (inotify); load average {load:.1f} "
          f"on {os.cpu_count()} CPUs")
    if rows[0].get("dvc"):
        print(f"dvc status / plan (median wall): {rows[0]['dvc']['median'] / one['median']:.1f}x")
    return 0 if verdict != "FAIL" or args.models < 1000 else 1


if __name__ == "__main__":
    raise SystemExit(main())
