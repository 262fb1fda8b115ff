"""``mlops-actions serve MODEL@vN|MODEL@ENV|PATH [--port N]``: the version answering requests on 127.0.0.1.

The model is exported (as ``export`` does, verified against its record) into a temporary folder, and
MLflow's scoring server runs it in this environment (``--env-manager local``) until it is stopped
(Ctrl-C or SIGTERM). The temporary folder is removed afterwards.
"""

from __future__ import annotations

import signal
import tempfile
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from mlops_actions.errors import EXIT_OK
from mlops_actions.mlflow_bridge import require_mlflow_installed
from mlops_actions.mlflow_bridge.exporting import export_to
from mlops_actions.mlflow_bridge.serving import HOST, check_port, start, stop, wait_ready

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort


def serve(root: Path, target: str, *, port: int, gh: GitHubPort | None = None, cwd: Path | None = None) -> int:
    require_mlflow_installed("serve")  # the server runs in its own process: no import here
    check_port(port)
    with tempfile.TemporaryDirectory(prefix="mlops-serve-") as scratch:
        run = export_to(root, target, out=Path(scratch) / "model", gh=gh, cwd=cwd)
        process = start(run.result.path, port)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            wait_ready(process, port)
            print(f"serving {run.source.label} (artifact sha256 {run.source.sha256[:12]}) on "
                  f"http://{HOST}:{port}/invocations; /ping and /health answer; Ctrl-C stops it", flush=True)
            process.wait()
        finally:
            stop(process)
    return EXIT_OK if process.returncode in (0, -signal.SIGTERM, -signal.SIGINT) else process.returncode


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt
