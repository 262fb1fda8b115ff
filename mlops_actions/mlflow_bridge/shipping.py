"""Run a team's deploy command for one exported version, keeping the last lines of what it printed.

The command is the workflow's own input (trusted like any ``run:`` step of it) and runs with ``bash -c``;
everything about the version reaches it through environment variables, never pasted into the command:

===============================  ===============================================================
``MLOPS_MODEL_DIR``              the exported MLflow model directory
``MLOPS_MODEL``, ``MLOPS_VERSION``, ``MLOPS_TAG``   ``arrests``, ``v3``, ``arrests@v3``
``MLOPS_ENVIRONMENT``            the deployment's environment (``production``)
``MLOPS_DEPLOYMENT_ID``          the GitHub Deployment's id
``MLOPS_ARTIFACT_SHA256``        the verified artifact's sha256
``MLOPS_ENVIRONMENT_URL_FILE``   write the endpoint's URL here to set the status's environment_url
``MLOPS_PYTHON``                 the interpreter mlops-actions (and MLflow) run in
===============================  ===============================================================
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

TAIL_LINES = 20


@dataclass(frozen=True)
class Outcome:
    code: int
    tail: tuple[str, ...]
    environment_url: str = ""

    @property
    def last_line(self) -> str:
        return next((line for line in reversed(self.tail) if line.strip()), "")


def command_env(base: Mapping[str, str], values: Mapping[str, str]) -> dict[str, str]:
    return {**base, **{f"MLOPS_{key.upper()}": value for key, value in values.items()}}


def run_command(command: str, *, cwd: Path, env: Mapping[str, str], url_file: Path,
                tail: int = TAIL_LINES) -> Outcome:
    """Run ``command``, echoing its output line by line; the exit code, the last lines and the URL it wrote."""
    last: collections.deque[str] = collections.deque(maxlen=tail)
    try:
        process = subprocess.Popen(["bash", "-c", command], cwd=cwd, env=dict(env), stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError as exc:
        return Outcome(127, (f"cannot start bash: {exc.strerror or exc}",))
    assert process.stdout is not None  # PIPE was asked for
    for raw in process.stdout:
        line = raw.decode("utf-8", "replace").rstrip("\r\n")
        print(line, flush=True)
        last.append(line)
    code = process.wait()
    return Outcome(code, tuple(last), _url(url_file))


def _url(path: Path) -> str:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
    if text and not text.startswith(("https://", "http://")):
        print(f"warning: {path.name} holds {text[:80]!r}, not an http(s) URL; no environment_url is set",
              file=sys.stderr)
        return ""
    return text.splitlines()[0] if text else ""


def url_file(scratch: Path) -> Path:
    path = scratch / "environment-url"
    path.unlink(missing_ok=True)
    return path


def inherited_env() -> dict[str, str]:
    """The environment the command inherits: this process's, as a workflow step's would be."""
    return dict(os.environ)
