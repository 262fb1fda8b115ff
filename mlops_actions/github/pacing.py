"""Content-creating requests paced under GitHub's secondary rate limits, instead of failing on them.

GitHub allows about 80 content-creating requests (POST, PATCH, PUT, DELETE) a minute and 500 an hour; a burst
beyond that is answered 403 "secondary rate limit" and may block the token for minutes. Registering a
thousand models (a tag object, a ref, a release and three uploads each) is far beyond both, so every write
first waits until it fits in every window. ``delay`` is pure (the times are passed in); ``Pacer`` takes its
clock and sleep from the caller, like ``retry.Retrier``.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

WRITES = frozenset({"POST", "PATCH", "PUT", "DELETE"})
_PACED = ("requestJsonAndCheck", "requestMemoryBlobAndCheck", "requestBlobAndCheck", "requestMultipartAndCheck")


@dataclass(frozen=True)
class Window:
    """At most ``requests`` content-creating requests in any ``seconds``."""

    requests: int
    seconds: float


GITHUB_LIMITS = (Window(80, 60.0), Window(500, 3600.0))


def parse_windows(text: str) -> tuple[Window, ...]:
    """``"80/60,500/3600"`` (requests per seconds, comma-separated) as windows; ValueError saying what is wrong."""
    windows = []
    for item in (part.strip() for part in text.split(",")):
        requests, slash, seconds = item.partition("/")
        try:
            window = Window(int(requests), float(seconds)) if slash else None
        except ValueError:
            window = None
        if window is None or window.requests < 1 or not 0 < window.seconds < float("inf"):
            raise ValueError(f"{item!r} is not REQUESTS/SECONDS (a whole number >= 1 and seconds > 0)")
        windows.append(window)
    return tuple(windows)


def delay(times: Sequence[float], now: float, windows: Sequence[Window]) -> float:
    """Seconds to wait at ``now`` so that one more write keeps every window (``times``: earlier writes)."""
    wait = 0.0
    for window in windows:
        recent = [t for t in times if t > now - window.seconds]
        if len(recent) >= window.requests:
            wait = max(wait, recent[-window.requests] + window.seconds - now)
    return wait


class Pacer:
    """Remembers when writes were sent and sleeps before one that would exceed a window."""

    def __init__(self, windows: Sequence[Window], *, clock: Callable[[], float], sleep: Callable[[float], None],
                 say: Callable[[str], None] | None = None) -> None:
        self.windows = tuple(windows)
        self._times: deque[float] = deque(maxlen=max((w.requests for w in self.windows), default=1))
        self._clock, self._sleep = clock, sleep
        self._say = say or (lambda text: print(text, file=sys.stderr))
        self.waited = 0.0

    def before_write(self) -> None:
        wait = delay(self._times, self._clock(), self.windows)
        if wait > 0:
            if wait >= 30:
                self._say(f"mlops-actions: pausing {wait:.0f} s: GitHub allows "
                          + " and ".join(f"{w.requests} content-creating requests per {w.seconds:g} s"
                                         for w in self.windows))
            self._sleep(wait)
            self.waited += wait
        self._times.append(self._clock())


def pace(requester: Any, pacer: Pacer) -> None:
    """Make every write through PyGithub's ``requester`` wait for ``pacer`` first (reads are not paced)."""
    for name in _PACED:
        real = getattr(requester, name, None)
        if real is None:
            continue

        def paced(verb: str, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            if str(verb).upper() in WRITES:
                pacer.before_write()
            return _real(verb, *args, **kwargs)

        setattr(requester, name, paced)
