"""Build approval ``Lookups`` from the GitHub layer, with caching (one question per person and team)."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from mlops_actions.convention.model import ApprovalRule
from mlops_actions.registry import codeowners
from mlops_actions.registry.approvals import Lookups, ReviewVote


def votes(reviews: Iterable[Any]) -> list[ReviewVote]:
    """Our ReviewVote from the GitHub layer's Review values."""
    return [ReviewVote(r.login, r.state, r.commit_id, r.submitted_at) for r in reviews]


def lookups(gh: Any, rule: ApprovalRule, *, pr_number: int, codeowners_ref: str,
            paths: Iterable[str] | None = None) -> Lookups:
    """Lookups answering through ``gh`` (a ``GitHubRepo``); CODEOWNERS are read only when the rule uses them."""

    @cache
    def permission(login: str) -> str:
        return str(gh.permission(login))

    @cache
    def in_team(team: str, login: str) -> bool:
        org, _, slug = team.lstrip("@").partition("/")
        return bool(gh.is_team_member(org, slug, login))

    owners: tuple[str, ...] = ()
    if rule.codeowners:
        found = gh.codeowners(codeowners_ref)
        changed = list(paths) if paths is not None else list(gh.changed_files(pr_number))
        owners = codeowners.owners_of_paths(found.text, changed) if found else ()
    return Lookups(permission=permission, in_team=in_team, codeowners=owners)
