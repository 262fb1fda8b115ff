"""``served``: a model answering on loopback for the length of a ``with`` block, for tests.

``mlops-actions serve TARGET`` runs in a child process of this interpreter (so the server sees the same
libraries) on a free port; the block gets a ``Served`` once ``/ping`` answers, and the server is stopped
(SIGINT, as Ctrl-C; killed when it does not stop) when the block ends, whatever happened in it::

    from mlops_actions.testing.serving import served

    with served("arrests@v3", root=repo) as server:
        status, answer = server.invoke({"dataframe_split": rows.to_dict(orient="split", index=False)})
        assert status == 200 and answer["predictions"] == expected

Standard library only (no MLflow import here: the server imports it).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Served:
    """A running scoring server: its port, base URL and process."""

    port: int
    url: str
    process: subprocess.Popen[bytes]
    log: Path  # what the server printed (stdout and stderr)

    def get(self, path: str, timeout: float = 10) -> int:
        """The HTTP status of ``GET path`` (``/ping``, ``/health``)."""
        try:
            with urllib.request.urlopen(f"{self.url}{path}", timeout=timeout) as answer:  # noqa: S310 (http, loopback)
                return int(answer.status)
        except urllib.error.HTTPError as exc:
            return int(exc.code)

    def invoke(self, body: Mapping[str, Any] | bytes, timeout: float = 60) -> tuple[int, Any]:
        """POST ``body`` (JSON) to ``/invocations``: the status and the decoded JSON answer, errors included."""
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(f"{self.url}/invocations", data=data,  # noqa: S310 (http, loopback)
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:  # noqa: S310
                return int(answer.status), json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return int(exc.code), json.loads(exc.read() or b"null")


def free_port(host: str = HOST) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


@contextmanager
def served(target: str, *, root: Path, env: Mapping[str, str] | None = None, port: int | None = None,
           timeout: float = 300.0) -> Iterator[Served]:
    """``mlops-actions -C root serve target`` on ``port`` (a free one by default) until the block ends.

    ``env`` is the server's environment (default: this process's); this interpreter's scripts folder goes
    first on its PATH (MLflow starts ``uvicorn`` by name). ``RuntimeError`` with the end of the server's
    output when it exits or does not answer ``/ping`` within ``timeout`` seconds (a loaded machine loads
    MLflow slowly).
    """
    port = port or free_port()
    base = dict(os.environ if env is None else env)
    base["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), base.get("PATH", "")])
    with tempfile.TemporaryDirectory(prefix="mlops-served-") as scratch:
        log = Path(scratch) / "server.log"
        with log.open("wb") as sink:
            process = subprocess.Popen([sys.executable, "-m", "mlops_actions", "-C", str(root), "serve", target,
                                        "--port", str(port)], env=base, stdout=sink, stderr=subprocess.STDOUT)
            server = Served(port, f"http://{HOST}:{port}", process, log)
            try:
                _wait(server, timeout, sink)
                yield server
            finally:
                _stop(process)


def _wait(server: Served, timeout: float, sink: BinaryIO) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the server exited with code {server.process.returncode}:\n{_tail(server, sink)}")
        try:
            if server.get("/ping", timeout=2) == 200:
                return
        except OSError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"the server did not answer {server.url}/ping within {timeout:.0f} s:\n{_tail(server, sink)}")


def _tail(server: Served, sink: BinaryIO, lines: int = 20) -> str:
    sink.flush()
    text = server.log.read_text(encoding="utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _stop(process: subprocess.Popen[bytes], grace: float = 30.0) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
