"""Build approval ``Lookups`` from the GitHub layer, with caching (one question per person and team), and
judge a pull request with them.

CODEOWNERS come from the caller (the governance in force, never the pull request's own tree) and count for
the paths the caller names (what is promoted), never for whatever else the pull request touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from mlops_actions.convention.model import ApprovalRule
from mlops_actions.registry import codeowners
from mlops_actions.registry.approvals import Decision, Lookups, ReviewedPull, ReviewVote, decide

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort
    from mlops_actions.github.values import PullRequest, Review


def votes(reviews: Iterable[Review]) -> list[ReviewVote]:
    """Our ReviewVote from the GitHub layer's Review values."""
    return [ReviewVote(r.login, r.state, r.commit_id, r.submitted_at) for r in reviews]


class Approvals:
    """Decides approval rules on pull requests through ``gh`` (a ``GitHubRepo``), asking GitHub each question
    once: a reviewer's permission, a team membership, a PR's reviews and who pushed its last commit."""

    def __init__(self, gh: GitHubPort) -> None:
        self.gh = gh
        self._pulls: dict[int, ReviewedPull] = {}
        self.permission = cache(lambda login: str(gh.permission(login)))
        self.in_team = cache(self._in_team)

    def _in_team(self, team: str, login: str) -> bool:
        org, _, slug = team.lstrip("@").partition("/")
        return bool(self.gh.is_team_member(org, slug, login))

    def lookups(self, rule: ApprovalRule, *, codeowners_text: str | None, paths: Iterable[str]) -> Lookups:
        """Lookups whose CODEOWNERS are the owners of ``paths`` per ``codeowners_text``."""
        owners: tuple[str, ...] = ()
        if rule.codeowners and codeowners_text:
            owners = codeowners.owners_of_paths(codeowners_text, paths)
        return Lookups(permission=self.permission, in_team=self.in_team, codeowners=owners)

    def decide(self, pr: PullRequest, rule: ApprovalRule, *, codeowners_text: str | None,
               paths: Iterable[str]) -> Decision:
        """The approval decision on merged pull request ``pr`` (its reviews, author, last pushers, merger)."""
        if pr.number not in self._pulls:
            self._pulls[pr.number] = ReviewedPull(tuple(votes(self.gh.reviews(pr.number))), pr.author, pr.head_sha,
                                                  pr.merged_by, tuple(self.gh.last_pushers(pr)))
        return decide(self._pulls[pr.number], rule,
                      lookups=self.lookups(rule, codeowners_text=codeowners_text, paths=paths))

