"""Injected faults: make chosen requests fail the way GitHub (or the network) sometimes does.

A faults file is a JSON list; each item is one fault::

    [
      {"method": "POST", "path": "/repos/*/issues/*/comments", "status": "drop"},
      {"method": "GET", "path": "^/repos/[^/]+/[^/]+/pulls/\\d+$", "status": 502, "count": 1},
      {"path": "*", "status": 403, "kind": "secondary_rate_limit", "retry_after": 1},
      {"path": "*", "kind": "primary_rate_limit", "reset_in": 2}
    ]

Fields (all optional but ``path``):

- ``method``: HTTP method to match, ``*`` (default) for any.
- ``path``: the request path (without query string). A pattern starting with ``^`` is a regular expression
  (``re.search``); anything else is a glob (``fnmatch``, ``*`` also matches ``/``).
- ``status``: the HTTP status to answer instead of handling the request, or ``"drop"``: handle the request
  (its effect is applied) and then close the connection without any response. Without ``status`` the
  request is handled normally (useful with ``latency``).
- ``count``: how many matching requests the fault hits (default 1); ``0`` means every one.
- ``retry_after``: seconds, sent as the ``Retry-After`` header.
- ``latency``: seconds to wait before answering.
- ``headers``: extra response headers (object of strings).
- ``message``: the error message of the JSON body (default: GitHub's text for the status or kind).
- ``kind``: ``secondary_rate_limit`` (403 "You have exceeded a secondary rate limit"), or
  ``primary_rate_limit``: the caller's rate-limit budget becomes exhausted (``x-ratelimit-remaining: 0``,
  reset ``reset_in`` seconds ahead, default 2) so every request answers 403 "API rate limit exceeded"
  until the reset time passes, exactly like GitHub.

Faults are tried in order; the first matching fault with hits left applies.
"""

from __future__ import annotations

import fnmatch
import json
import re
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

DROP = "drop"
PRIMARY = "primary_rate_limit"
SECONDARY = "secondary_rate_limit"
KINDS = (PRIMARY, SECONDARY)
SECONDARY_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
    "If you reach out to GitHub Support for help, please include the request ID."
)


class FaultError(ValueError):
    """A faults file or item is malformed."""


@dataclass
class Fault:
    """One injected fault (see the module docstring)."""

    path: str
    method: str = "*"
    status: int | str | None = None
    count: int = 1
    retry_after: float | None = None
    latency: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    message: str | None = None
    kind: str | None = None
    reset_in: float = 2.0
    hits: int = 0

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to ``method path`` (ignoring how many hits are left)."""
        if self.method not in ("*", method.upper()):
            return False
        if self.path.startswith("^"):
            return re.search(self.path, path) is not None
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.count > 0 and self.hits >= self.count

    def error_body(self) -> dict[str, Any]:
        """The JSON body GitHub sends with this fault's status."""
        status = int(self.status) if isinstance(self.status, int) else 500
        default = SECONDARY_MESSAGE if self.kind == SECONDARY else _phrase(status)
        return {"message": self.message or default, "documentation_url": "https://docs.github.com/rest",
                "status": str(status)}  # fmt: skip


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def parse(items: Any, source: str = "faults") -> list[Fault]:
    """Faults from parsed JSON; ``FaultError`` naming the item when one is malformed."""
    if not isinstance(items, list):
        raise FaultError(f"{source}: expected a JSON list of faults")
    return [_fault(item, f"{source}[{index}]") for index, item in enumerate(items)]


def _fault(item: Any, where: str) -> Fault:
    if not isinstance(item, dict) or not isinstance(item.get("path"), str):
        raise FaultError(f"{where}: a fault is an object with at least a string 'path'")
    known = set(Fault.__dataclass_fields__) - {"hits"}
    unknown = sorted(set(item) - known)
    if unknown:
        raise FaultError(f"{where}: unknown field(s) {', '.join(unknown)}")
    fault = Fault(**item)
    _check(fault, where)
    return fault


def _check(fault: Fault, where: str) -> None:
    if fault.status is not None and fault.status != DROP and not (isinstance(fault.status, int)
                                                                  and 100 <= fault.status <= 599):  # fmt: skip
        raise FaultError(f"{where}: status must be an HTTP status (100-599) or \"drop\"")
    if fault.kind is not None and fault.kind not in KINDS:
        raise FaultError(f"{where}: kind must be one of {', '.join(KINDS)}")
    if fault.kind == SECONDARY and fault.status is None:
        fault.status = 403


def load(path: Path) -> list[Fault]:
    """Faults from a JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FaultError(f"{path}: {exc}") from exc
    return parse(data, str(path))


class FaultPlan:
    """The faults of a running emulator; thread-safe hit counting."""

    def __init__(self, faults: list[Fault]) -> None:
        self.faults = faults
        self._lock = threading.Lock()

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault with hits left (counting this hit), or None."""
        with self._lock:
            for fault in self.faults:
                if not fault.exhausted and fault.matches(method, path):
                    fault.hits += 1
                    return fault
        return None

    def add(self, fault: Fault) -> None:
        """Add a fault while the emulator runs."""
        with self._lock:
            self.faults.append(fault)
