"""releases (to come)."""

from __future__ import annotations

from ..server import Route

ROUTES: list[Route] = []
