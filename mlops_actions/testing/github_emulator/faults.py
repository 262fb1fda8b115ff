"""Injected faults: make chosen requests fail the way GitHub (or the network) sometimes does.

A faults file is a JSON list; each item is one fault::

    [
      {"method": "POST", "path": "/repos/*/issues/*/comments", "status": "drop"},
      {"method": "GET", "path": "^/repos/[^/]+/[^/]+/pulls/\\d+$", "status": 502, "count": 1},
      {"path": "*", "status": 403, "kind": "secondary_rate_limit", "retry_after": 1},
      {"path": "*", "kind": "primary_rate_limit", "reset_in": 2},
      {"path": "*", "kind": "content_rate_limit", "limit": 80, "window": 60},
      {"method": "POST", "path": "/repos/*/deployments/*/statuses", "status": 503, "after": 20, "count": 0}
    ]

Fields (all optional but ``path``):

- ``method``: HTTP method to match, ``*`` (default) for any.
- ``path``: the request path (without query string). A pattern starting with ``^`` is a regular expression
  (``re.search``); anything else is a glob (``fnmatch``, ``*`` also matches ``/``).
- ``status``: the HTTP status to answer instead of handling the request, or ``"drop"``: handle the request
  (its effect is applied) and then close the connection without any response. Without ``status`` the
  request is handled normally (useful with ``latency``).
- ``count``: how many matching requests the fault hits (default 1); ``0`` means every one.
- ``after``: let this many matching requests through untouched before the fault starts hitting (default 0):
  ``"after": 20, "count": 0`` fails every matching request from the 21st on, as a job cancelled half way.
- ``retry_after``: seconds, sent as the ``Retry-After`` header.
- ``latency``: seconds to wait before answering.
- ``headers``: extra response headers (object of strings).
- ``message``: the error message of the JSON body (default: GitHub's text for the status or kind).
- ``kind``: ``secondary_rate_limit`` (403 "You have exceeded a secondary rate limit"), or
  ``primary_rate_limit``: the caller's rate-limit budget becomes exhausted (``x-ratelimit-remaining: 0``,
  reset ``reset_in`` seconds ahead, default 2) so every request answers 403 "API rate limit exceeded"
  until the reset time passes, exactly like GitHub; or ``content_rate_limit``: GitHub's secondary limit on
  content-creating requests. Of the matching requests that create content (POST, PATCH, PUT, DELETE), at most
  ``limit`` (default 80) are handled within any ``window`` seconds (default 60); one more is answered 403 "You
  have exceeded a secondary rate limit" with ``Retry-After`` (whole seconds until the oldest leaves the window)
  and is not applied. Reads pass. ``hits`` counts the refusals; the window runs on the emulator's clock
  (``GitHubEmulator(clock=...)``, default ``time.monotonic``), so a test can use a one-second window.

Faults are tried in order; the first matching fault with hits left applies.
"""

from __future__ import annotations

import fnmatch
import json
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

DROP = "drop"
PRIMARY = "primary_rate_limit"
SECONDARY = "secondary_rate_limit"
CONTENT = "content_rate_limit"
KINDS = (PRIMARY, SECONDARY, CONTENT)
WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
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
    after: int = 0
    limit: int = 80
    window: float = 60.0
    hits: int = 0
    passed: int = 0  # matching requests let through (``after``)
    sent: deque[float] = field(default_factory=deque)  # when the handled writes came (``content_rate_limit``)

    def matches(self, method: str, path: str) -> bool:
        """Whether this fault applies to ``method path`` (ignoring how many hits are left)."""
        if self.method not in ("*", method.upper()):
            return False
        if self.path.startswith("^"):
            return re.search(self.path, path) is not None
        return fnmatch.fnmatchcase(path, self.path)

    @property
    def exhausted(self) -> bool:
        return self.kind != CONTENT and self.count > 0 and self.hits >= self.count

    def error_body(self) -> dict[str, Any]:
        """The JSON body GitHub sends with this fault's status."""
        status = int(self.status) if isinstance(self.status, int) else 500
        default = SECONDARY_MESSAGE if self.kind in (SECONDARY, CONTENT) else _phrase(status)
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
    known = set(Fault.__dataclass_fields__) - {"hits", "passed", "sent"}
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
    if fault.kind in (SECONDARY, CONTENT) and fault.status is None:
        fault.status = 403
    if not (isinstance(fault.after, int) and fault.after >= 0):
        raise FaultError(f"{where}: after must be a whole number >= 0")
    if fault.kind == CONTENT and not (isinstance(fault.limit, int) and fault.limit >= 1
                                      and isinstance(fault.window, (int, float)) and fault.window > 0):
        raise FaultError(f"{where}: a content_rate_limit needs limit >= 1 and window > 0 seconds")


def load(path: Path) -> list[Fault]:
    """Faults from a JSON file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise FaultError(f"{path}: {exc}") from exc
    return parse(data, str(path))


class FaultPlan:
    """The faults of a running emulator; thread-safe hit counting."""

    def __init__(self, faults: list[Fault], clock: Callable[[], float] = time.monotonic) -> None:
        self.faults = faults
        self.clock = clock
        self._lock = threading.Lock()

    def take(self, method: str, path: str) -> Fault | None:
        """The first matching fault with hits left (counting this hit), or None."""
        with self._lock:
            for fault in self.faults:
                if fault.exhausted or not fault.matches(method, path):
                    continue
                if fault.kind == CONTENT:
                    if self._over_limit(fault, method):
                        return fault
                    continue
                if fault.passed < fault.after:
                    fault.passed += 1
                    continue
                fault.hits += 1
                return fault
        return None

    def _over_limit(self, fault: Fault, method: str) -> bool:
        """Whether this write exceeds ``fault``'s window (then it is refused: hit, Retry-After set)."""
        if method.upper() not in WRITES:
            return False
        now = self.clock()
        while fault.sent and fault.sent[0] <= now - fault.window:
            fault.sent.popleft()
        if len(fault.sent) < fault.limit:
            fault.sent.append(now)
            return False
        fault.hits += 1
        fault.retry_after = max(1, math.ceil(fault.sent[0] + fault.window - now))
        return True

    def refusals(self) -> int:
        """How many requests the ``content_rate_limit`` and ``secondary_rate_limit`` faults refused."""
        with self._lock:
            return sum(f.hits for f in self.faults if f.kind in (CONTENT, SECONDARY))

    def add(self, fault: Fault) -> None:
        """Add a fault while the emulator runs."""
        with self._lock:
            self.faults.append(fault)
