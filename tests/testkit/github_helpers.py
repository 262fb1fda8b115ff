"""Shared setup for tests of the GitHub layer against the emulator (no mocks of PyGithub)."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from mlops_actions.github import ClientConfig, GitHubRepo, RetryPolicy
from mlops_actions.testing.github_emulator import WEBHOOKS as _PACKAGED_WEBHOOKS
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.openapi import load as load_openapi

WEBHOOKS = _PACKAGED_WEBHOOKS
REPO = "Codertocat/Hello-World"  # the repository of the real webhook payloads
PR = 2  # their pull request
BOT, BOT_TOKEN = "mlops-bot", "bot-token"
USERS = [f"{BOT}:{BOT_TOKEN}:write", "alice:alice-token:write", "reader:reader-token:read"]
MARKER = "mlops-actions:report"
FAST = RetryPolicy(max_attempts=6, base_delay=0.05, max_delay=0.2, max_wait=3.0, secondary_wait=0.3,
                   reset_margin=0.1)

_OPENAPI: list[Any] = []


def openapi() -> Any:
    """GitHub's OpenAPI description, loaded once: the emulator checks every request and answer against it."""
    if not _OPENAPI:
        _OPENAPI.append(load_openapi())
    return _OPENAPI[0]


def payload(name: str) -> dict[str, Any]:
    return json.loads((WEBHOOKS / name).read_text(encoding="utf-8"))


@contextmanager
def emulator(events: tuple[str, ...] = ("pull_request.opened.1.json",), **kwargs: Any) -> Iterator[GitHubEmulator]:
    with GitHubEmulator(users=USERS, events=[payload(e) for e in events], strict=openapi(), **kwargs) as gh:
        yield gh


class Sleeps(list):
    """Records the waits the retrier asked for, optionally really sleeping."""

    def __init__(self, real: bool = False) -> None:
        super().__init__()
        self.real = real

    def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self.real:
            import time

            time.sleep(seconds)


def client(gh: GitHubEmulator, token: str = BOT_TOKEN, policy: RetryPolicy = FAST,
           sleeps: Sleeps | None = None) -> GitHubRepo:
    config = ClientConfig(gh.url, token, REPO, retry=policy, seconds_between_writes=None)
    return GitHubRepo.open(config, sleep=sleeps if sleeps is not None else Sleeps(), rng=random.Random(0))


def calls(gh: GitHubEmulator) -> list[str]:
    """The request log as ``METHOD path status`` lines."""
    return [f"{r.method} {r.path} {r.status}" + (" dropped" if r.dropped else "") for r in gh.requests]


def comments_on(gh: GitHubEmulator, number: int = PR) -> list[Any]:
    return [c for c in gh.state.comments.values() if c.repo == REPO and c.issue_number == number]


class FakeTime:
    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
