"""Wrappers that turn an expected refusal into None inside a retried call (so it is not an error)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from github import GithubException

from mlops_actions.github.errors import failure_of
from mlops_actions.github.retry import is_rate_limited

T = TypeVar("T")


def none_on_404(fn: Callable[[], T]) -> Callable[[], T | None]:
    """``fn`` answering None where GitHub answers 404 (an absent object, not an error here)."""
    def wrapped() -> T | None:
        try:
            return fn()
        except GithubException as exc:
            if exc.status == 404:
                return None
            raise
    return wrapped


def none_on_forbidden(fn: Callable[[], T]) -> Callable[[], T | None]:
    """``fn`` answering None on a 403 that is a refusal, not a rate limit (which stays retryable)."""
    def wrapped() -> T | None:
        try:
            return fn()
        except GithubException as exc:
            failure = failure_of(exc)
            if exc.status == 403 and failure is not None and not is_rate_limited(failure):
                return None
            raise
    return wrapped
