"""Retries around whole API operations: backoff with jitter, rate limits, and re-reads before re-creating.

PyGithub is built with its own retries off; every operation goes through ``Retrier.call``, which

- retries 5xx and network errors with exponential backoff and jitter;
- honours ``Retry-After`` and secondary rate limits (403 / 429);
- waits for ``x-ratelimit-reset`` when ``x-ratelimit-remaining`` is 0;
- never sleeps more than ``RetryPolicy.max_wait`` seconds in total for one operation, and fails with a
  message saying when the limit resets when it would have to;
- before repeating a write whose response was lost (the server may have applied it), calls the
  operation's ``recover`` read: if that finds the result, it is returned instead of writing twice.

The decision (``decide``) is a pure function of the failure, the attempt and the clock.
"""

from __future__ import annotations

import email.utils
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from mlops_actions.errors import GitHubError
from mlops_actions.github.errors import Failure, Op, failure_of, to_error

T = TypeVar("T")
log = logging.getLogger("mlops_actions.github")


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6  # tries of one request, the first included
    base_delay: float = 1.0  # first backoff, doubled each time, then jittered to 50-100 %
    max_delay: float = 30.0  # cap of one backoff
    max_wait: float = 60.0  # total seconds one operation may sleep (backoffs and rate limits together)
    secondary_wait: float = 60.0  # wait after a secondary rate limit that gives no Retry-After
    reset_margin: float = 1.0  # added to the wait for x-ratelimit-reset (it has one-second resolution)
    settle: float = 10.0  # after a write timed out, wait this long before re-reading (it may still be applied)


@dataclass(frozen=True)
class Decision:
    retry: bool
    delay: float = 0.0
    reason: str = ""
    rate_limit: str | None = None  # "primary" or "secondary" when a rate limit caused it


NO_RETRY = Decision(False)


def is_rate_limited(failure: Failure) -> bool:
    if failure.status == 429:
        return True
    if failure.status != 403:
        return False
    headers = failure.headers
    return ("retry-after" in headers or headers.get("x-ratelimit-remaining") == "0"
            or "rate limit" in failure.message.lower())


def backoff(attempt: int, policy: RetryPolicy, jitter: float) -> float:
    """Exponential backoff for the ``attempt``-th failure (1-based), scaled by 50-100 % (``jitter`` in [0, 1))."""
    full = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return full * (0.5 + jitter / 2)


def decide(failure: Failure, attempt: int, policy: RetryPolicy, now: float, jitter: float) -> Decision:
    """Whether and how long to wait before trying the request again."""
    if is_rate_limited(failure):
        return _rate_limit_decision(failure, attempt, policy, now, jitter)
    if failure.status is None:
        return Decision(True, backoff(attempt, policy, jitter), f"{failure.network} ({failure.message})")
    if failure.status >= 500:
        after = retry_after_seconds(failure.headers.get("retry-after"), now)
        delay = backoff(attempt, policy, jitter) if after is None else after
        return Decision(True, delay, f"server error {failure.status}")
    return NO_RETRY


def _rate_limit_decision(failure: Failure, attempt: int, policy: RetryPolicy, now: float,
                         jitter: float) -> Decision:
    headers = failure.headers
    after = retry_after_seconds(headers.get("retry-after"), now)
    if after is not None:
        return Decision(True, after, f"rate limited ({failure.status}), Retry-After {after:g} s", "secondary")
    reset = headers.get("x-ratelimit-reset", "")
    if headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        delay = max(0.0, int(reset) - now) + policy.reset_margin
        return Decision(True, delay, f"primary rate limit exhausted until {_utc(int(reset))}", "primary")
    delay = max(policy.secondary_wait, backoff(attempt, policy, jitter))
    return Decision(True, delay, f"secondary rate limit ({failure.status})", "secondary")


def retry_after_seconds(value: str | None, now: float) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


class Retrier:
    """Runs operations with the policy; ``sleep``, ``clock`` and ``rng`` are injectable for tests."""

    def __init__(self, policy: RetryPolicy | None = None, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None) -> None:
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.clock = clock
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    def call(self, op: Op, fn: Callable[[], T], *, recover: Callable[[], T | None] | None = None) -> T:
        """``fn()`` with retries; for a write, ``recover()`` re-reads before a repeat (see module doc)."""
        waited = 0.0
        attempt = 0
        while True:
            attempt += 1
            try:
                return fn()
            except Exception as exc:  # classified below; anything else propagates unchanged
                failure = failure_of(exc)
                if failure is None:
                    raise
                decision = decide(failure, attempt, self.policy, self.clock(), self.rng.random())
                self._check_can_retry(op, failure, decision, attempt, waited, exc)
            delay = self._delay(op, failure, decision, recover)
            log.warning("GitHub: %s while trying to %s; retrying in %.1f s (attempt %d of %d)",
                        decision.reason, op.action, delay, attempt + 1, self.policy.max_attempts)
            self.sleep(delay)
            waited += delay
            found = self._recover(op, failure, recover)
            if found is not None:
                return found

    def _delay(self, op: Op, failure: Failure, decision: Decision, recover: Callable[[], Any] | None) -> float:
        """The wait; longer after a timed-out write, which the server may still be applying."""
        if recover is not None and op.write and failure.network == "timeout":
            return max(decision.delay, min(self.policy.settle, self.policy.max_wait))
        return decision.delay

    def _check_can_retry(self, op: Op, failure: Failure, decision: Decision, attempt: int, waited: float,
                         exc: Exception) -> None:
        if not decision.retry:
            raise to_error(failure, op) from exc
        if decision.rate_limit and waited + decision.delay > self.policy.max_wait:
            raise self._over_bound(op, decision, waited) from exc
        if attempt >= self.policy.max_attempts or waited + decision.delay > self.policy.max_wait:
            raise GitHubError(
                f"GitHub kept failing to {op.action}: {decision.reason}, {attempt} attempts over "
                f"{waited:.0f} s.", hint=_gave_up_hint(failure)
            ) from exc

    def _over_bound(self, op: Op, decision: Decision, waited: float) -> GitHubError:
        room = max(0.0, self.policy.max_wait - waited)
        return GitHubError(
            f"GitHub's API rate limit stopped the attempt to {op.action}: {decision.reason}; that is "
            f"{decision.delay:.0f} s away, longer than the {room:.0f} s this step may still wait.",
            hint="re-run the job after the reset, spread the workflow's API calls, or use a token with its "
                 "own quota (e.g. a GitHub App installation token).")

    def _recover(self, op: Op, failure: Failure, recover: Callable[[], T | None] | None) -> T | None:
        if recover is None or not (op.write and failure.maybe_applied):
            return None
        check = Op(f"check whether GitHub already applied the request to {op.action}", op.subject,
                   op.permission)
        return self.call(check, recover)


def _gave_up_hint(failure: Failure) -> str:
    """A server that kept answering 5xx is GitHub's trouble; one never reached may be a wrong address."""
    degraded = "GitHub may be degraded (https://www.githubstatus.com); re-run the job."
    if failure.status is None:
        return f"check GITHUB_API_URL and the runner's network; {degraded}"
    return degraded
