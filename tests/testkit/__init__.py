"""Shared test helpers, imported as ``testkit`` (pyproject's ``[tool.pytest.ini_options] pythonpath`` puts
``tests/`` on ``sys.path``): paths, ``git``, the loopback ``DataServer``, and kits per area (``testkit.actkit``,
``testkit.casekit``, ``testkit.govkit``, ``testkit.reportkit``, ``testkit.github_helpers``, ``testkit.realdata``).
The fixtures every test gets live in ``testkit.plugin``, registered by ``tests/conftest.py``.
A test never imports ``conftest`` (``tests/unit/test_layout.py`` checks)."""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
EXAMPLE = REPO / "examples" / "arrests"
CASES = TESTS / "cases"
FIXTURES = TESTS / "fixtures"
SNAPSHOTS = TESTS / "snapshots"


@dataclass(frozen=True)
class Ran:
    """A CLI run in this process, read like ``subprocess.CompletedProcess``."""

    returncode: int
    stdout: str
    stderr: str


def run_main(*argv: str, env: Mapping[str, str] | None = None) -> Ran:
    """``mlops-actions ARGV`` in this process through ``main(argv, env=...)`` (``env`` defaults to a copy of
    ``os.environ``, which the CLI never changes for such a run), output captured. A usage error's
    ``SystemExit`` is its exit code, as in a process. Commands that train pin BLAS kernels in ``os.environ``
    (see ``cli._pin_blas_kernels``): run those in a process when the artifact's bytes matter."""
    from mlops_actions.cli import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv), env=dict(os.environ if env is None else env))
        except SystemExit as stop:
            code = stop.code if isinstance(stop.code, int) else 1
    return Ran(code, out.getvalue(), err.getvalue())


def git(cwd: Path, *args: str) -> str:
    """Run git in ``cwd`` and return its stdout (raises on failure)."""
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


class DataServer:
    """A data source on loopback: serves ``answers`` in turn (the last repeats); an int is an HTTP error."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.answers: list[bytes | int] = []
        self.requests = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                answer = server.answers[min(server.requests, len(server.answers) - 1)]
                server.requests += 1
                if isinstance(answer, int):
                    self.send_error(answer)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_port}/churn.csv"
