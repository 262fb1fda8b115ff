"""Benchmark: serving the example model, ours (`mlops-actions serve`: MLflow's scoring server on the exported
MLflow model) against the plain `mlflow models serve` of an `mlflow.sklearn.save_model` copy of the same model.

The example repository (``init --example arrests``) is trained once; ``export`` writes our MLflow model (timed:
the issue asks for under 3 s; a fresh process and a warm in-process run are printed, wall and CPU seconds,
with the import floor export cannot avoid and the load average). The plain copy is the same fitted pipeline saved by
``mlflow.sklearn.save_model`` with its defaults. Both servers run on loopback with one worker, the same
interpreter and ``--env-manager local``; each gets the same requests in turn: one row (latency per request,
median and p95 over --requests) and a 1,000-row batch (median over --batches). The predictions must be equal.

    python benchmarks/bench_serve.py [--requests 200] [--batches 30]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    return {**os.environ, "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}


def _run(*args: str, cwd: Path) -> None:
    subprocess.run([sys.executable, "-m", "mlops_actions", *args], cwd=cwd, check=True, env=_env(),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def prepare(work: Path) -> Path:
    root = work / "repo"
    _run("init", str(root), "--example", "arrests", cwd=work)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=b", "-c", "user.email=b@example.com", "commit", "-q", "-m", "scaffold"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    _run("train", "arrests", cwd=root)
    return root


def _child_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _fresh(args: list[str], cwd: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh ``python`` process (CPU: less noisy on a shared machine)."""
    cpu, start = _child_cpu(), time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=cwd, check=True, env=_env(), stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _child_cpu() - cpu


def time_export(root: Path, work: Path) -> dict[str, tuple[float, float]]:
    """Seconds of ``export`` in a fresh process (cold: imports included) and in-process once warm; and of the
    import export cannot avoid (pandas, which rebuilds the held-out rows; the split itself is numpy's)."""
    times = {"export, fresh process": _fresh(["-m", "mlops_actions", "export", "mlops-out/arrests", "--out",
                                              str(work / "cold")], root),
             "floor: import pandas": _fresh(["-c", "import pandas"], root),
             "import pandas + sklearn.model_selection (no longer imported by export)": _fresh(
                 ["-c", "import pandas, sklearn.model_selection"], root),
             "import mlflow (no longer imported by export)": _fresh(["-c", "import mlflow.pyfunc"], root)}
    from mlops_actions.commands.export import export

    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        export(root, "mlops-out/arrests", out=work / "warmup", cwd=root)
        cpu, start = time.process_time(), time.perf_counter()
        export(root, "mlops-out/arrests", out=work / "ours", cwd=root)
        times["export, in-process (warm)"] = (time.perf_counter() - start, time.process_time() - cpu)
    return times


def plain_copy(root: Path, work: Path) -> Path:
    import mlflow.sklearn
    from mlflow.models import Model

    from mlops_actions.training.artifact import load_trusted

    model = load_trusted((root / "mlops-out/arrests/model.skops").read_bytes(), ("sklearn.",))
    # MLflow's defaults (skops here), trusting the one type the default refuses (numpy.dtype), with the same
    # signature as ours: both servers then check and convert the request's columns alike
    signature = Model.load(str(work / "ours" / "MLmodel")).signature
    mlflow.sklearn.save_model(model, str(work / "plain"), skops_trusted_types=["numpy.dtype"], signature=signature)
    return work / "plain"


def start(command: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(command, env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2):
                return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"server on port {port} did not start")


def post(port: int, body: bytes) -> tuple[float, list]:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/invocations", data=body,
                                     headers={"Content-Type": "application/json"})
    start = time.perf_counter()
    with urllib.request.urlopen(request, timeout=60) as answer:
        predictions = json.loads(answer.read())["predictions"]
    return time.perf_counter() - start, predictions


def bodies(root: Path) -> tuple[bytes, bytes]:
    import pandas as pd

    from mlops_actions.mlflow_bridge.heldout import held_out

    record = json.loads((root / "mlops-out/arrests/record.json").read_text())
    rows = held_out(root, "arrests", record).frame
    batch = pd.concat([rows] * (1000 // len(rows) + 1)).head(1000)
    as_body = lambda frame: json.dumps({"dataframe_split": frame.to_dict(orient="split", index=False)}).encode()  # noqa: E731
    return as_body(rows.head(1)), as_body(batch)


def measure(port: int, one: bytes, batch: bytes, requests: int, batches: int) -> tuple[list[float], list[float], list]:
    for _ in range(5):  # warm up
        post(port, one)
    singles = [post(port, one)[0] for _ in range(requests)]
    results = [post(port, batch) for _ in range(batches)]
    return singles, [t for t, _ in results], results[-1][1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--batches", type=int, default=30)
    args = parser.parse_args()
    from mlops_actions.mlflow_bridge.serving import free_port

    with tempfile.TemporaryDirectory(prefix="bench-serve-") as scratch:
        work = Path(scratch)
        root = prepare(work)
        print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
        for name, (wall, cpu) in time_export(root, work).items():
            print(f"{name:>72}: {wall:6.2f} s wall, {cpu:6.2f} s CPU")
        print("(target: export under 3 s)")
        plain = plain_copy(root, work)
        one, batch = bodies(root)
        ours_port, plain_port = free_port(), free_port()
        ours = start([sys.executable, "-m", "mlops_actions", "-C", str(root), "serve", "mlops-out/arrests",
                      "--port", str(ours_port)], ours_port)
        theirs = start([sys.executable, "-m", "mlflow", "models", "serve", "-m", str(plain), "--env-manager",
                        "local", "-h", "127.0.0.1", "-p", str(plain_port), "-w", "1"], plain_port)
        try:
            a = measure(ours_port, one, batch, args.requests, args.batches)
            b = measure(plain_port, one, batch, args.requests, args.batches)
        finally:
            for process in (ours, theirs):
                process.terminate()
                process.wait(30)
    assert a[2] == b[2], "the two servers predict differently"
    for name, ours_times, plain_times in (("1 row", a[0], b[0]), ("1,000 rows", a[1], b[1])):
        o, p = statistics.median(ours_times), statistics.median(plain_times)
        o95 = statistics.quantiles(ours_times, n=20)[-1]
        p95 = statistics.quantiles(plain_times, n=20)[-1]
        print(f"{name:>10}: ours median {o * 1000:7.2f} ms (p95 {o95 * 1000:7.2f}) | plain mlflow models serve "
              f"median {p * 1000:7.2f} ms (p95 {p95 * 1000:7.2f}) | ratio ours/plain {o / p:.2f}")
    print("predictions: identical on the 1,000-row batch")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
