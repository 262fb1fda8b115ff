"""Request handlers, one module per area of GitHub's REST API; ``ROUTES`` is the whole route table."""

from __future__ import annotations

from ..server import Route
from . import checks, deployments, git, issues, pulls, releases, repos, users

ROUTES: list[Route] = [
    *users.ROUTES, *repos.ROUTES, *pulls.ROUTES, *issues.ROUTES, *git.ROUTES, *releases.ROUTES,
    *deployments.ROUTES, *checks.ROUTES,
]  # fmt: skip
