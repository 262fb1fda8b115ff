"""The one constructor the composition root calls: a ``Mirror`` when a tracking server is configured.

``mirror_from`` reads only what it is handed (the environment mapping and the repository), and imports
nothing from MLflow: a repository without MLflow pays for nothing.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from mlops_actions.mlflow_bridge.tracking import Mirror, RunInfo, mirror_config


def mirror_from(root: Path, env: Mapping[str, str], warn: Callable[[str], None] | None = None) -> Mirror | None:
    """The mirror of this run, or None when neither MLFLOW_TRACKING_URI nor mlops.yaml names a server."""
    from mlops_actions.convention.discovery import POLICY_FILE
    from mlops_actions.convention.model import Policy
    from mlops_actions.convention.schemas import POLICY
    from mlops_actions.convention.validation import load_valid

    raw = load_valid(root, POLICY_FILE, POLICY) if (root / POLICY_FILE).is_file() else None
    config = mirror_config(env, raw)
    if config is None:
        return None
    return Mirror(config, run_info(root, env), warn or _stderr, Policy.from_dict(raw).allowed_prefixes, root)


def run_info(root: Path, env: Mapping[str, str]) -> RunInfo:
    from mlops_actions.gitio import Git

    sha = env.get("GITHUB_SHA") or Git(root).commit_of("HEAD")
    server, repo, run = (env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    url = f"{server.rstrip('/')}/{repo}/actions/runs/{run}" if server and repo and run else None
    return RunInfo(sha or None, _pr_number(env.get("GITHUB_EVENT_PATH")), url)


def _pr_number(path: str | None) -> int | None:
    try:
        event = json.loads(Path(path).read_text(encoding="utf-8")) if path else {}
    except (OSError, ValueError):
        return None
    pull = event.get("pull_request") if isinstance(event, dict) else None
    number = pull.get("number") if isinstance(pull, dict) else None
    return number if isinstance(number, int) else None


def _stderr(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def warn_both(runtime: Any) -> Callable[[str], None]:
    """A warning on stderr and, under GitHub Actions, as a ``::warning`` annotation."""
    def warn(message: str) -> None:
        _stderr(message)
        runtime.command("warning", message, title="mlops-actions MLflow")
    return warn
