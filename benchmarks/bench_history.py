"""Benchmark: `mlops-actions history` vs `gto show` / `gto history` on a repository with many version tags.

One repository holds MODELS x VERSIONS versions, each as an annotated tag whose message is a valid version
record: ``<model>@v<N>`` (ours) and, for GTO, which only reads SemVer, ``<model>@v<N>.0.0`` with the same
message on the same commit, plus GTO stage tags ``<model>#staging#1`` / ``<model>#production#1`` matching
``environments/*.yaml``. So each tool reads every tag and finds MODELS x VERSIONS versions of its own.
All tags are written by one ``git fast-import`` run (1,500 ``git tag`` calls would take minutes).

Both tools run as separate processes (the user's whole wait: interpreter start, imports, git, output),
median of --repeat runs each, with bytecode (``PYTHONDONTWRITEBYTECODE`` dropped, as pip installs them). The
refs are packed (``git pack-refs --all``), as a clone has them: 30,000 loose ref files cost both tools
file-system time no CI checkout has. Our first run checks every record against the schema and remembers valid tag
objects by id in .git/mlops-actions/cache.json (tags are immutable); later runs only parse them. Both
numbers are printed; the ratios use the later runs.

    python benchmarks/bench_history.py [--models 15] [--versions 100] [--repeat 3] [--gto-repeat N] [--gto PATH]

GTO comes from its own virtual environment (default /work/venv-gto/bin/gto, else `gto` on PATH):
``python3.11 -m venv /work/venv-gto && /work/venv-gto/bin/pip install gto``. Without it, ours runs alone.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

EPOCH = 1_764_000_000  # 2025-11-24T16:00:00Z; version N of every model is registered N hours later
GTO_DEFAULT = Path("/work/venv-gto/bin/gto")
POLICY = ("environments:\n  - name: staging\n  - name: production\n    requires: [staging]\n"
          "approvals:\n  register:\n    required: 1\n")
GIT_ENV = {"GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.com",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.com"}


def _hex(*parts: object) -> str:
    return hashlib.sha256("/".join(map(str, parts)).encode()).hexdigest()


def record(model: str, number: int, commit: str) -> dict:
    """A valid version record (schemas/version-record) of ``model@v<number>``."""
    when = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(EPOCH + number * 3600))
    score = 0.7 + (number % 29) / 100
    return {
        "record_version": 1, "model": model, "version": f"v{number}", "task": "classification",
        "fingerprint": _hex(model, number, "fingerprint"), "spec_sha256": _hex(model, number, "spec"),
        "data": [{"path": f"data/{model}.csv", "hash": "sha256:" + _hex(model, number, "data"), "rows": 5000}],
        "libraries": {"scikit-learn": "1.5.2", "numpy": "2.1.0"},
        "artifact": {"file": "model.skops", "sha256": _hex(model, number, "artifact"), "format": "skops"},
        "metrics": {"accuracy": round(score, 4), "f1": round(score - 0.05, 4), "roc_auc": round(score + 0.1, 4)},
        "metric_directions": {"accuracy": "higher", "f1": "higher", "roc_auc": "higher"},
        "fairness": {"demographic_parity_difference": 0.04},
        "gates": {"verdict": "pass", "results": []},
        "commit": commit, "pr": number + 1,
        "approvers": [{"login": "alice", "commit": commit, "submitted_at": when},
                      {"login": "carol", "commit": commit, "submitted_at": when}],
        "merged_by": "carol", "created_at": when,
        "run_url": f"https://github.example/acme/models/actions/runs/{number}",
    }


def _data(text: str) -> bytes:
    raw = text.encode()
    return b"data %d\n%s\n" % (len(raw), raw)


def _environments(models: Sequence[str], versions: int) -> dict[str, dict[str, str]]:
    """Staging runs each model's latest version, production the one before."""
    return {"staging": {m: f"v{versions}" for m in models},
            "production": {m: f"v{max(versions - 1, 1)}" for m in models}}


def _commits(models: Sequence[str], versions: int, envs: dict[str, dict[str, str]]) -> bytes:
    """One commit per version number on main; the last one holds the policy, specs and environments."""
    out = []
    for n in range(1, versions + 1):
        stamp = f"{EPOCH + n * 3600} +0000"
        out.append(b"commit refs/heads/main\nmark :%d\n" % n)
        out.append(f"committer Bench <bench@example.com> {stamp}\n".encode() + _data(f"train round {n}"))
        if n > 1:
            out.append(b"from :%d\n" % (n - 1))
        out.append(b"M 100644 inline ROUND\n" + _data(str(n)))
        if n == versions:
            files = {"mlops.yaml": POLICY, **{f"models/{m}/model.yaml": f"# spec of {m}\n" for m in models},
                     **{f"environments/{e}.yaml": "".join(f"{m}: {v}\n" for m, v in sorted(state.items()))
                        for e, state in envs.items()}}
            for path, text in files.items():
                out.append(f"M 100644 inline {path}\n".encode() + _data(text))
    return b"".join(out)


def _tags(models: Sequence[str], versions: int, envs: dict[str, dict[str, str]], commits: list[str]) -> bytes:
    out = []
    for model in models:
        for n in range(1, versions + 1):
            message = json.dumps(record(model, n, commits[n - 1]), indent=2, sort_keys=True) + "\n"
            for name in (f"{model}@v{n}", f"{model}@v{n}.0.0"):
                out.append(f"tag {name}\nfrom {commits[n - 1]}\ntagger Bench <bench@example.com> "
                           f"{EPOCH + n * 3600 + 60} +0000\n".encode() + _data(message))
        for env in envs:
            n = int(envs[env][model][1:])
            out.append(f"tag {model}#{env}#1\nfrom {commits[n - 1]}\ntagger Bench <bench@example.com> "
                       f"{EPOCH + n * 3600 + 120} +0000\n".encode() + _data(f"promote {model} to {env}"))
    return b"".join(out)


def make_repo(root: Path, models: int, versions: int) -> list[str]:
    """A git repository at ``root`` with ``models`` x ``versions`` version tags (ours and GTO's)."""
    names = [f"model-{i:02d}" for i in range(models)]
    envs = _environments(names, versions)
    env = {**os.environ, **GIT_ENV}
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True, env=env)
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=_commits(names, versions, envs),
                   check=True, env=env)
    log = subprocess.run(["git", "rev-list", "--reverse", "main"], cwd=root, check=True, capture_output=True,
                         text=True, env=env).stdout.split()
    subprocess.run(["git", "fast-import", "--quiet"], cwd=root, input=_tags(names, versions, envs, log),
                   check=True, env=env)
    subprocess.run(["git", "checkout", "-q", "main"], cwd=root, check=True, env=env)
    subprocess.run(["git", "pack-refs", "--all"], cwd=root, check=True, env=env)  # as a clone has them
    return names


@dataclass(frozen=True)
class Timing:
    wall: float  # seconds, median of the runs
    cpu: float  # user + system seconds (process and children), median of the runs: less sensitive to load


def timed(argv: Sequence[str], cwd: Path, repeat: int, env: dict[str, str] | None = None) -> tuple[Timing, str]:
    """Median wall and CPU times of ``repeat`` runs of ``argv`` and its output (fails loudly on a non-zero exit)."""
    env = {k: v for k, v in (env or os.environ).items() if k != "PYTHONDONTWRITEBYTECODE"}
    walls, cpus, out = [], [], ""
    for _ in range(repeat):
        before, start = resource.getrusage(resource.RUSAGE_CHILDREN), time.perf_counter()
        proc = subprocess.run(list(argv), cwd=cwd, capture_output=True, text=True, env=env)
        elapsed, after = time.perf_counter() - start, resource.getrusage(resource.RUSAGE_CHILDREN)
        if proc.returncode != 0:
            raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
        walls.append(elapsed)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        out = proc.stdout
    return Timing(statistics.median(walls), statistics.median(cpus)), out


def gto_path(given: str | None) -> str | None:
    if given:
        return given
    if GTO_DEFAULT.is_file():
        return str(GTO_DEFAULT)
    return shutil.which("gto")


def ours_argv(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mlops_actions", "-C", str(root), "history", *args]


def offline_env() -> dict[str, str]:
    """The environment without a GitHub token: history reads environments/*.yaml (what gto reads too)."""
    return {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_REPOSITORY")}


def run(models: int, versions: int, repeat: int, gto: str | None, workdir: Path,
        gto_repeat: int | None = None) -> dict[str, Timing]:
    root = workdir / "repo"
    start = time.perf_counter()
    names = make_repo(root, models, versions)
    print(f"repository: {models} models x {versions} versions = {models * versions} version tags "
          f"(+ the same for GTO) made in {time.perf_counter() - start:.2f} s")
    env = offline_env()
    times = {}
    times["ours history (first run)"], _ = timed(ours_argv(root), root, 1, env)  # checks every record
    times["ours history"], text = timed(ours_argv(root), root, repeat, env)  # valid tag ids remembered
    times["ours history --format json"], out = timed(ours_argv(root, "--format", "json"), root, repeat, env)
    rows = json.loads(out)["versions"]
    assert len(rows) == models * versions and all(r["problem"] is None for r in rows), "history lost versions"
    assert f"{names[0]}@v{versions}" in text
    times[f"ours history {names[0]}"], _ = timed(ours_argv(root, names[0]), root, repeat, env)
    if gto:
        runs = gto_repeat or repeat
        timed([gto, "show"], root, 1)  # warm-up: its bytecode compiled, as ours was by the first run
        times["gto show"], _ = timed([gto, "show"], root, runs)
        times["gto history"], _ = timed([gto, "history"], root, runs)
        times[f"gto history {names[0]}"], _ = timed([gto, "history", names[0]], root, runs)
    return times


def report(times: dict[str, Timing]) -> None:
    print(f"  {'':<34} {'wall':>8} {'cpu':>8}   (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)")
    for name, t in times.items():
        print(f"  {name:<34} {t.wall:8.3f} {t.cpu:8.3f} s")
    ours = times["ours history"]
    for name in ("gto show", "gto history"):
        if name in times:
            print(f"  {name} / ours history: {times[name].wall / ours.wall:.1f}x wall, "
                  f"{times[name].cpu / ours.cpu:.1f}x cpu")
    print(f"  ours under 1 s (issue 15, at 15,000 tags): wall {'yes' if ours.wall < 1 else 'NO'}, "
          f"cpu {'yes' if ours.cpu < 1 else 'NO'}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, default=15, help="number of models (default 15)")
    parser.add_argument("--versions", type=int, default=100, help="versions per model (default 100)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool; the median counts (default 3)")
    parser.add_argument("--gto-repeat", type=int, default=None,
                        help="runs of each gto command (default: --repeat; gto takes minutes at 15,000 tags)")
    parser.add_argument("--gto", default=None, help="path of the gto executable (default: see above)")
    parser.add_argument("--no-gto", action="store_true", help="run ours only")
    args = parser.parse_args(argv)
    gto = None if args.no_gto else gto_path(args.gto)
    if gto is None and not args.no_gto:
        print("gto not found: running ours only (install it in its own venv, see the docstring)")
    with tempfile.TemporaryDirectory(prefix="bench-history-") as tmp:
        report(run(args.models, args.versions, args.repeat, gto, Path(tmp), args.gto_repeat))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
