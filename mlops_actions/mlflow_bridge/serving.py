"""MLflow's scoring server for an exported model, on loopback, in the local environment.

``mlflow models serve -m DIR --env-manager local -h 127.0.0.1 -p PORT``: ``/ping`` and ``/health`` answer
when the model is loaded, ``/invocations`` takes MLflow's JSON or CSV bodies (a bad body gets MLflow's
400). The server runs as a child process of the same interpreter, so it sees the same libraries.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path

from mlops_actions.errors import InputError

HOST = "127.0.0.1"
DEFAULT_PORT = 5000
READY_TIMEOUT = 120.0


def check_port(port: int, host: str = HOST) -> None:
    """``InputError`` when something already listens on ``host:port``."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise InputError(f"port {port} on {host} is in use ({exc.strerror or exc}); nothing was started",
                             hint="pass another --port, or stop what listens there") from None


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def server_command(model_dir: Path, port: int, host: str = HOST, workers: int = 1) -> list[str]:
    return [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager", "local",
            "-h", host, "-p", str(port), "-w", str(workers)]


def start(model_dir: Path, port: int, host: str = HOST) -> subprocess.Popen[bytes]:
    """Start the scoring server (check the port first); the caller waits for it and stops it."""
    check_port(port, host)
    return subprocess.Popen(server_command(model_dir, port, host), env=server_env(os.environ))


def server_env(env: Mapping[str, str]) -> dict[str, str]:
    """MLflow starts ``uvicorn`` by name: put this interpreter's scripts folder first on PATH."""
    scripts = str(Path(sys.executable).parent)
    return {**env, "PATH": os.pathsep.join([scripts, env.get("PATH", "")])}


def wait_ready(process: subprocess.Popen[bytes], port: int, host: str = HOST,
               timeout: float = READY_TIMEOUT) -> None:
    """Return once ``/ping`` answers 200; ``InputError`` when the server exits or never answers."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise InputError(f"the MLflow scoring server exited with code {process.returncode} before it answered",
                             hint="its output above says why")
        try:
            with urllib.request.urlopen(f"http://{host}:{port}/ping", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise InputError(f"the MLflow scoring server did not answer on {host}:{port} within {timeout:.0f} s")


def stop(process: subprocess.Popen[bytes], grace: float = 10.0) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
