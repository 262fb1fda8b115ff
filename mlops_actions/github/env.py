"""``connect``: the one place that reads the GitHub-related environment variables of a workflow run.

Called by the CLI's composition root with ``ctx.env``; everything below receives explicit values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, Protocol

from mlops_actions import bounded
from mlops_actions.errors import InputError, Place
from mlops_actions.github.client import DEFAULT_API_URL, ClientConfig
from mlops_actions.github.pacing import GITHUB_LIMITS, Window, parse_windows
from mlops_actions.github.repo import GitHubRepo, RunContext
from mlops_actions.github.retry import RetryPolicy


class Masker(Protocol):
    def mask(self, secret: str) -> None: ...


def token_from(env: Mapping[str, str], token_input: str | None) -> str:
    """The action's token input, else GITHUB_TOKEN; refuses to go on without one."""
    token = (token_input or "").strip() or env.get("GITHUB_TOKEN", "").strip()
    if not token:
        raise InputError("no GitHub token: the `github-token` input is empty and GITHUB_TOKEN is not set",
                         hint="pass `github-token: ${{ secrets.GITHUB_TOKEN }}` (or set env GITHUB_TOKEN) "
                              "in the workflow step.")
    return token


_EVENT_HINT = ("GITHUB_EVENT_PATH is set by GitHub Actions to the JSON payload of the event; outside Actions, "
               "unset it or point it at a JSON file")


def read_event(path: str | None) -> dict[str, Any]:
    """The webhook payload at GITHUB_EVENT_PATH ({} when unset)."""
    if not path:
        return {}
    try:
        data = bounded.loads(bounded.read_text(Path(path)))
    except OSError as exc:
        raise InputError(f"cannot read the event payload: {exc.strerror}", place=Place(path),
                         hint=_EVENT_HINT) from exc
    except ValueError as exc:
        raise InputError(f"the event payload is not valid JSON: {exc}", place=Place(path), hint=_EVENT_HINT) from exc
    if not isinstance(data, dict):
        raise InputError("the event payload is not a JSON object", place=Place(path), hint=_EVENT_HINT)
    return data


def run_context(env: Mapping[str, str]) -> RunContext:
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if not repository:
        raise InputError("GITHUB_REPOSITORY is not set", hint="run inside GitHub Actions, or set it to owner/name.")
    server, run_id = env.get("GITHUB_SERVER_URL", "").rstrip("/"), env.get("GITHUB_RUN_ID", "")
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if server and run_id else None
    return RunContext(repository=repository, sha=env.get("GITHUB_SHA") or None,
                      event_name=env.get("GITHUB_EVENT_NAME") or None,
                      event=read_event(env.get("GITHUB_EVENT_PATH")), run_url=run_url)


def _number(env: Mapping[str, str], name: str, default: float, *, minimum: float = 0.0) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = float("nan")
    if not minimum <= value < float("inf"):
        raise InputError(f"{name}={raw!r} is not a number >= {minimum:g}", hint=f"unset it for {default:g}.")
    return value


def retry_policy(env: Mapping[str, str]) -> RetryPolicy:
    """The retry policy; MLOPS_GITHUB_MAX_WAIT (total seconds one operation may wait, default 60),
    MLOPS_GITHUB_ATTEMPTS (default 6) and MLOPS_GITHUB_BACKOFF (first backoff, default 1 s) tune it."""
    base = RetryPolicy()
    return replace(base, max_wait=_number(env, "MLOPS_GITHUB_MAX_WAIT", base.max_wait),
                   max_attempts=int(_number(env, "MLOPS_GITHUB_ATTEMPTS", base.max_attempts, minimum=1)),
                   base_delay=_number(env, "MLOPS_GITHUB_BACKOFF", base.base_delay))


def write_limits(env: Mapping[str, str]) -> tuple[Window, ...]:
    """The secondary rate limits writes are paced under: MLOPS_GITHUB_WRITE_LIMITS, e.g. ``80/60,500/3600``
    (content-creating requests per seconds; GitHub's, the default, when unset)."""
    raw = env.get("MLOPS_GITHUB_WRITE_LIMITS", "").strip()
    if not raw:
        return GITHUB_LIMITS
    try:
        return parse_windows(raw)
    except ValueError as exc:
        raise InputError(f"MLOPS_GITHUB_WRITE_LIMITS={raw!r}: {exc}",
                         hint="write windows as REQUESTS/SECONDS separated by commas, e.g. 80/60,500/3600 "
                              "(GitHub's limits), or unset it") from None


def config_from(env: Mapping[str, str], token: str, repository: str) -> ClientConfig:
    """Client settings; MLOPS_GITHUB_WRITE_PAUSE (seconds, default 1) spaces writes as GitHub asks, and
    MLOPS_GITHUB_WRITE_LIMITS sets the windows they are paced under (``write_limits``)."""
    pause = _number(env, "MLOPS_GITHUB_WRITE_PAUSE", 1.0)
    return ClientConfig(api_url=env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL, token=token,
                        repository=repository, retry=retry_policy(env), seconds_between_writes=pause or None,
                        write_limits=write_limits(env))


def connect(env: Mapping[str, str], token_input: str | None, runtime: Masker) -> GitHubRepo:
    """The repository of this workflow run, with the token masked in the log before anything else."""
    token = token_from(env, token_input)
    runtime.mask(token)
    context = run_context(env)
    return GitHubRepo.open(config_from(env, token, context.repository), context)
