"""The GitHub layer: the only code that imports PyGithub. Import it lazily (it pulls in PyGithub).

``env.connect(env, token_input, runtime)`` builds a ``GitHubRepo`` from a workflow run's environment;
``GitHubRepo.open(ClientConfig(...))`` builds one from explicit values (tests, the emulator, GHES).
"""

from __future__ import annotations

from mlops_actions.github.client import ClientConfig
from mlops_actions.github.env import connect
from mlops_actions.github.repo import GitHubRepo, RunContext
from mlops_actions.github.retry import RetryPolicy

__all__ = ["ClientConfig", "GitHubRepo", "RetryPolicy", "RunContext", "connect"]
