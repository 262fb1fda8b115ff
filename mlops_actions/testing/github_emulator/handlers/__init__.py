"""Request handlers, one module per area of GitHub's REST API; ``ROUTES`` is the whole route table."""

from __future__ import annotations

from ..server import Route
from . import checks, contents, deployments, git, issues, pull_writes, pulls, releases, repos, users

ROUTES: list[Route] = [
    *users.ROUTES, *repos.ROUTES, *pulls.ROUTES, *issues.ROUTES, *git.ROUTES, *releases.ROUTES,
    *deployments.ROUTES, *checks.ROUTES, *contents.ROUTES, *pull_writes.ROUTES,
]  # fmt: skip
