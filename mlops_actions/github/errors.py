"""Turn what PyGithub and requests raise into one ``Failure`` value, and a failure into a ``GitHubError``.

Each call names its ``Op``: what we were doing, on what, and which entry of the workflow's ``permissions:``
block it needs. So a 403 says which permission is missing, a 404 names the object, a 401 says the token
is invalid or expired. Tokens and request headers never appear in a message.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import requests
from github import GithubException

from mlops_actions.errors import GitHubError

FORK_HINT = ("pull requests from forks get a read-only token whatever `permissions:` says; "
             "run write steps from a `workflow_run` workflow.")


@dataclass(frozen=True)
class Op:
    """One operation against the API, described for error messages."""

    action: str  # "create the comment on pull request #12"
    subject: str  # "pull request #12"
    permission: str | None = None  # "pull-requests: write": the `permissions:` entry it needs
    write: bool = False


@dataclass(frozen=True)
class Failure:
    """What went wrong with one request: an HTTP status, or a network error (status None)."""

    status: int | None
    message: str = ""
    headers: dict[str, str] = field(default_factory=dict)  # lower-case names
    details: tuple[str, ...] = ()
    network: str | None = None  # the kind of network error
    maybe_applied: bool = False  # the server may have applied the request before it failed


def failure_of(exc: BaseException) -> Failure | None:
    """The ``Failure`` an exception stands for, or None when it is not an API or network error."""
    if isinstance(exc, GithubException):
        return Failure(exc.status, _message(exc.data), _lower(exc.headers), _details(exc.data),
                       maybe_applied=exc.status >= 500)
    if isinstance(exc, requests.HTTPError) and exc.response is not None:
        resp = exc.response
        return Failure(resp.status_code, resp.reason or "", _lower(resp.headers),
                       maybe_applied=resp.status_code >= 500)
    if isinstance(exc, requests.ConnectionError | requests.Timeout):
        return _network_failure(exc)
    return None


def _network_failure(exc: requests.RequestException) -> Failure:
    never_sent = isinstance(exc, requests.ConnectTimeout) or "NewConnectionError" in repr(exc)
    kind = "timeout" if isinstance(exc, requests.Timeout) else "connection error"
    return Failure(None, str(exc.__class__.__name__), network=kind, maybe_applied=not never_sent)


def _lower(headers: Any) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (headers or {}).items()}


def _message(data: Any) -> str:
    if isinstance(data, dict):
        return str(data.get("message", ""))
    if isinstance(data, bytes):
        return data.decode("utf-8", errors="replace")[:200]
    return "" if data is None else str(data)[:200]


def _details(data: Any) -> tuple[str, ...]:
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return ()
    return tuple(_detail(e) for e in errors)


def _detail(error: Any) -> str:
    if not isinstance(error, dict):
        return str(error)
    if error.get("message"):
        return str(error["message"])
    parts = [str(error.get(k)) for k in ("resource", "field", "code") if error.get(k)]
    return " ".join(parts)


def _status_text(failure: Failure) -> str:
    text = f"{failure.status} {failure.message}".strip()
    if failure.details:
        text += ": " + "; ".join(failure.details)
    return text


def to_error(failure: Failure, op: Op) -> GitHubError:
    """The message a user can act on for a failure that will not be retried."""
    if failure.status is None:
        return GitHubError(f"could not reach GitHub to {op.action} ({failure.network}: {failure.message})",
                           hint="check GITHUB_API_URL and the runner's network; the request was retried.")
    builder = {401: _unauthorized, 403: _forbidden, 404: _not_found}.get(failure.status, _other)
    return builder(failure, op)


def _unauthorized(failure: Failure, op: Op) -> GitHubError:
    return GitHubError(
        f"GitHub rejected the token while trying to {op.action} ({_status_text(failure)}): "
        "the token is invalid or has expired.",
        hint="pass a valid token in the `github-token` input or GITHUB_TOKEN; "
             "a job's GITHUB_TOKEN expires when the job ends.")


def _forbidden(failure: Failure, op: Op) -> GitHubError:
    text = f"GitHub refused to {op.action} ({_status_text(failure)})."
    if op.permission:
        text += f" The workflow's token lacks `{op.permission}`."
        hint = (f"add `{op.permission}` to the job's `permissions:` block (a job that sets `permissions:` "
                f"gets only what it lists); {FORK_HINT}")
    else:
        hint = f"check the token's permissions and the repository settings; {FORK_HINT}"
    return GitHubError(text, hint=hint)


def _not_found(failure: Failure, op: Op) -> GitHubError:
    text = f"{op.subject} not found, or the token cannot see it (404 while trying to {op.action})."
    need = f" and that the job's `permissions:` grants `{op.permission}`" if op.permission else ""
    return GitHubError(text, hint=f"check that {op.subject} exists, that GITHUB_REPOSITORY names the repository "
                                  f"(owner/name){need}.")


def _other(failure: Failure, op: Op) -> GitHubError:
    if failure.status == 422:
        return GitHubError(f"GitHub rejected the request to {op.action} ({_status_text(failure)}).")
    return GitHubError(f"GitHub failed to {op.action} ({_status_text(failure)}).")
