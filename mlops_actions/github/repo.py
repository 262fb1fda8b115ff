"""``GitHubRepo``: the one object the commands talk to, in our vocabulary, returning our value objects."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.github import checks, comments, deployments, issues, proposals, pulls, releases, tags
from mlops_actions.github.client import ClientConfig, Session, open_session
from mlops_actions.github.values import (
    Asset,
    AssetFile,
    CheckResult,
    CheckRun,
    CodeOwners,
    Comment,
    CommentResult,
    Deployment,
    DeploymentRequest,
    DeploymentStatus,
    Issue,
    IssueResult,
    PullRequest,
    Release,
    Review,
    TagInfo,
)


@dataclass(frozen=True)
class RunContext:
    """What the workflow run is about: read from the environment once by ``env.connect``."""

    repository: str
    sha: str | None = None
    event_name: str | None = None
    event: Mapping[str, Any] = field(default_factory=dict)
    run_url: str | None = None


def _number(pr: int | PullRequest) -> int:
    return pr.number if isinstance(pr, PullRequest) else int(pr)


class GitHubRepo:
    """One repository on GitHub (or GHES, or the emulator) through PyGithub, with retries and idempotent writes."""

    def __init__(self, session: Session, context: RunContext | None = None) -> None:
        self.session = session
        self.context = context or RunContext(session.full_name)

    @classmethod
    def open(cls, config: ClientConfig, context: RunContext | None = None, *,
             sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.time,
             rng: random.Random | None = None) -> GitHubRepo:
        return cls(open_session(config, sleep=sleep, clock=clock, rng=rng), context)

    @property
    def full_name(self) -> str:
        return self.session.full_name

    def identity(self) -> str:
        return self.session.identity()

    # pull requests and reviews
    def pr_for_event(self, payload: Mapping[str, Any] | None = None) -> PullRequest | None:
        return pulls.pr_for_event(self.session, self.context.event if payload is None else payload)

    def pr_for_commit(self, sha: str) -> PullRequest | None:
        return pulls.pr_for_commit(self.session, sha)

    def pull_request(self, number: int) -> PullRequest:
        return pulls.get_pull(self.session, number)

    def reviews(self, pr: int | PullRequest) -> tuple[Review, ...]:
        return pulls.reviews(self.session, _number(pr))

    def last_pushers(self, pr: PullRequest) -> tuple[str, ...]:
        return pulls.last_pushers(self.session, pr.number, pr.head_sha)

    def changed_files(self, pr: int | PullRequest) -> tuple[str, ...]:
        return pulls.changed_files(self.session, _number(pr))

    def permission(self, login: str) -> str:
        return pulls.permission(self.session, login)

    def is_team_member(self, org: str, slug: str, login: str) -> bool:
        return pulls.is_team_member(self.session, org, slug, login)

    def team_members(self, org: str, slug: str) -> tuple[str, ...]:
        return pulls.team_members(self.session, org, slug)

    def codeowners(self, ref: str) -> CodeOwners | None:
        return pulls.codeowners(self.session, ref)

    # comments and checks
    def upsert_comment(self, pr_number: int, body: str, marker: str) -> CommentResult:
        return comments.upsert_comment(self.session, pr_number, body, marker)

    def find_comment(self, pr_number: int, marker: str) -> Comment | None:
        return comments.find_comment(self.session, pr_number, marker)

    def check_run(self, run: CheckRun, *, run_id: int | None = None) -> CheckResult:
        return checks.check_run(self.session, run, run_id=run_id)

    def commit_status(self, sha: str, context: str, conclusion: str, description: str,
                      target_url: str | None = None) -> CheckResult:
        return checks.commit_status(self.session, sha, context, conclusion, description, target_url)

    # tags and releases
    def create_annotated_tag(self, name: str, message: str, sha: str,
                             tagger: dict[str, str] | None = None) -> TagInfo:
        return tags.create_annotated_tag(self.session, name, message, sha, tagger)

    def tag(self, name: str) -> TagInfo | None:
        return tags.get_tag(self.session, name)

    def tag_messages(self, prefix: str) -> tuple[TagInfo, ...]:
        return tags.tag_messages(self.session, prefix)

    def release(self, tag: str, *, name: str, body: str, prerelease: bool = False,
                make_latest: bool = True) -> Release:
        return releases.release(self.session, tag, name=name, body=body, prerelease=prerelease,
                                make_latest=make_latest)

    def get_release(self, tag: str) -> Release | None:
        return releases.get_release(self.session, tag)

    def upload_asset(self, release: Release, file: AssetFile, *,
                     assets: tuple[Asset, ...] | None = None) -> Asset:
        return releases.upload_asset(self.session, release, file, assets=assets)

    def download_asset(self, asset: int | Asset) -> bytes:
        return releases.download_asset(self.session, asset.id if isinstance(asset, Asset) else asset)

    # deployments and environments
    def deployments(self, environment: str, limit: int = 20,
                    more: Callable[[Sequence[Deployment]], bool] | None = None) -> tuple[Deployment, ...]:
        return deployments.deployments(self.session, environment, limit, more)

    def create_deployment(self, request: DeploymentRequest) -> Deployment:
        return deployments.create_deployment(self.session, request)

    def set_deployment_status(self, deployment_id: int, state: str, *, description: str = "",
                              environment_url: str = "", log_url: str = "") -> DeploymentStatus:
        return deployments.set_deployment_status(self.session, deployment_id, state, description=description,
                                                 environment_url=environment_url, log_url=log_url)

    def latest_deployment_status(self, deployment_id: int) -> DeploymentStatus | None:
        return deployments.latest_status(self.session, deployment_id)

    def environments(self) -> tuple[str, ...]:
        return deployments.environment_names(self.session)

    # issues
    def find_issue(self, marker: str) -> Issue | None:
        return issues.find_issue(self.session, marker)

    def upsert_issue(self, marker: str, title: str, body: str, labels: tuple[str, ...] = ()) -> IssueResult:
        return issues.upsert_issue(self.session, marker, title, body, labels)

    def close_issue(self, marker: str, comment: str | None = None) -> IssueResult:
        return issues.close_issue(self.session, marker, comment)

    # proposed changes (a branch, one commit through the contents API, a pull request)
    def propose_file(self, proposal: proposals.Proposal) -> proposals.ProposalResult:
        return proposals.propose_file(self.session, proposal)

    def open_pull_from(self, branch: str) -> PullRequest | None:
        return proposals.find_pull(self.session, branch)

    def file_at(self, path: str, ref: str) -> bytes | None:
        found = proposals.read_file(self.session, path, ref)
        return None if found is None else found.content
