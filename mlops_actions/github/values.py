"""Value objects the GitHub layer takes and hands back: our vocabulary, never PyGithub objects.

Everything here is a frozen dataclass built from plain data; nothing imports PyGithub.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

COMMENT_LIMIT = 65_536  # characters GitHub accepts in an issue / PR comment or issue body
CHECK_SUMMARY_LIMIT = 65_535  # characters in a check run's output.summary
STATUS_DESCRIPTION_LIMIT = 140  # characters in a commit status description
ANNOTATION_BATCH = 50  # annotations GitHub accepts per check-run request


@dataclass(frozen=True)
class PullRequest:
    number: int
    author: str
    head_sha: str
    head_ref: str
    base_ref: str
    state: str
    merged: bool
    merged_by: str | None
    merge_commit_sha: str | None
    title: str
    head_repo: str | None = None  # owner/name of the head repository (differs for forks)


@dataclass(frozen=True)
class Review:
    login: str
    state: str  # APPROVED, CHANGES_REQUESTED, COMMENTED, DISMISSED, PENDING
    commit_id: str | None
    submitted_at: str | None  # ISO 8601, as GitHub sends it
    review_id: int = 0


@dataclass(frozen=True)
class Comment:
    id: int
    author: str
    body: str
    url: str


@dataclass(frozen=True)
class CommentResult:
    comment: Comment
    action: str  # "created", "updated" or "unchanged"


@dataclass(frozen=True)
class CodeOwners:
    path: str
    text: str


@dataclass(frozen=True)
class Annotation:
    path: str
    start_line: int
    message: str
    level: str = "failure"  # notice | warning | failure
    end_line: int | None = None
    title: str | None = None

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": self.path, "start_line": self.start_line,
                                "end_line": self.end_line or self.start_line,
                                "annotation_level": self.level, "message": self.message}
        if self.title:
            data["title"] = self.title
        return data


@dataclass(frozen=True)
class CheckRun:
    """A completed check run to record on commit ``head_sha``: its name, conclusion and output (title, summary,
    optional longer ``text`` and annotations), and where its details are."""

    name: str
    head_sha: str
    conclusion: str
    title: str
    summary: str
    text: str | None = None
    annotations: tuple[Annotation, ...] = ()
    details_url: str | None = None


@dataclass(frozen=True)
class CheckResult:
    kind: str  # "check_run", or "status" when checks were not permitted and a commit status stood in
    id: int | None
    url: str | None
    conclusion: str


@dataclass(frozen=True)
class TagInfo:
    name: str
    commit_sha: str  # the commit the tag peels to
    object_sha: str  # the tag object (annotated) or the commit (lightweight)
    message: str  # "" for a lightweight tag
    annotated: bool
    tagger_date: str | None = None


@dataclass(frozen=True)
class Asset:
    id: int
    name: str
    size: int
    content_type: str
    state: str
    url: str


@dataclass(frozen=True)
class AssetFile:
    """A file to attach to a release: its name, bytes, media type and label."""

    name: str
    data: bytes
    content_type: str = "application/octet-stream"
    label: str = ""


@dataclass(frozen=True)
class Release:
    id: int
    tag: str
    name: str
    body: str
    draft: bool
    prerelease: bool
    html_url: str
    upload_url: str
    assets: tuple[Asset, ...] = ()


@dataclass(frozen=True)
class DeploymentStatus:
    id: int
    state: str
    description: str
    environment_url: str
    log_url: str
    created_at: str | None
    creator: str | None


@dataclass(frozen=True)
class Deployment:
    id: int
    ref: str
    sha: str
    environment: str
    payload: dict[str, Any] | str = field(default_factory=dict)
    description: str = ""
    created_at: str | None = None
    creator: str | None = None
    latest_status: DeploymentStatus | None = None


@dataclass(frozen=True)
class DeploymentRequest:
    """A deployment to create: ``ref`` to ``environment`` with its ``payload`` (our version record) and
    description; the commit statuses GitHub must see first, and whether the environment is production or
    transient (None: GitHub's default)."""

    ref: str
    environment: str
    payload: Mapping[str, Any]
    description: str = ""
    required_contexts: tuple[str, ...] = ()
    production: bool | None = None
    transient: bool = False


@dataclass(frozen=True)
class Issue:
    number: int
    title: str
    body: str
    state: str
    url: str
    author: str


@dataclass(frozen=True)
class IssueResult:
    issue: Issue | None  # None only for "absent"
    action: str  # "created", "updated", "unchanged", "closed" or "absent"
