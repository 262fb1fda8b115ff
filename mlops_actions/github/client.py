"""Build the PyGithub client from explicit values; the ``Session`` every operation module receives.

The client is lazy (no request until one is needed), has PyGithub's own retries off (``retry.Retrier``
does them, with re-reads before re-creating), asks for 100 items per page, and throttles writes as
GitHub recommends. Nothing here reads the environment: ``env.connect`` does that once.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlparse

from github import Auth, Github
from github.GithubObject import GithubObject
from github.PaginatedList import PaginatedList
from github.Repository import Repository

from mlops_actions.errors import InputError
from mlops_actions.github.errors import Op
from mlops_actions.github.guards import none_on_forbidden
from mlops_actions.github.pacing import GITHUB_LIMITS, Pacer, Window, pace
from mlops_actions.github.retry import Retrier, RetryPolicy

DEFAULT_API_URL = "https://api.github.com"
ACTIONS_BOT = "github-actions[bot]"  # who GITHUB_TOKEN comments as; it may not read GET /user
T = TypeVar("T", bound=GithubObject)
_REPOSITORY = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


@dataclass(frozen=True)
class ClientConfig:
    api_url: str
    token: str = field(repr=False)
    repository: str  # "owner/name"
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    timeout: int = 15
    per_page: int = 100
    seconds_between_writes: float | None = 1.0  # GitHub asks for a pause between writes
    user_agent: str = "mlops-actions"
    login: str | None = None  # the token's identity when already known (saves GET /user)
    write_limits: tuple[Window, ...] = GITHUB_LIMITS  # secondary rate limits writes are paced under


def check_config(config: ClientConfig) -> None:
    """Refuse a malformed API URL, repository or empty token before any request."""
    url = urlparse(config.api_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise InputError(f"GITHUB_API_URL {config.api_url!r} is not an http(s) URL",
                         hint="leave it unset on github.com; on GitHub Enterprise Server use https://HOST/api/v3")
    if not _REPOSITORY.match(config.repository):
        raise InputError(f"GITHUB_REPOSITORY {config.repository!r} is not of the form owner/name",
                         hint="GitHub Actions sets it; outside Actions, set it to owner/name, e.g. octocat/hello")
    if not config.token.strip():
        raise InputError("the GitHub token is empty",
                         hint="pass `github-token: ${{ secrets.GITHUB_TOKEN }}` or set GITHUB_TOKEN")
    if any(c.isspace() or not c.isprintable() for c in config.token):  # never quoted: it is a secret
        raise InputError("the GitHub token holds a line break, a space or a control character, so it cannot be "
                         "sent in an HTTP header (the token itself is not shown)",
                         hint="re-create the secret without the trailing newline or pasted extra lines")


def build_github(config: ClientConfig) -> Github:
    check_config(config)
    return Github(auth=Auth.Token(config.token), base_url=config.api_url.rstrip("/"), timeout=config.timeout,
                  user_agent=config.user_agent, per_page=config.per_page, retry=None,
                  seconds_between_requests=None, seconds_between_writes=config.seconds_between_writes,
                  lazy=True)


def raw(obj: GithubObject) -> dict[str, Any]:
    """The JSON GitHub sent for ``obj``, without PyGithub completing it (which would cost a request)."""
    data = GithubObject.raw_data.fget(obj)  # type: ignore[attr-defined]
    return dict(data or {})


class Session:
    """The client, the repository, the retrier and the token's identity (read once, then cached)."""

    def __init__(self, gh: Github, repository: str, retrier: Retrier, login: str | None = None) -> None:
        self.gh = gh
        self.full_name = repository
        self.repo: Repository = gh.get_repo(repository)
        self.retrier = retrier
        self._login = login

    def request(self, verb: str, path: str, *, params: dict[str, Any] | None = None,
                body: Any = None) -> Any:
        """One JSON request to ``/repos/{owner}/{name}{path}`` (for calls PyGithub would pad with reads)."""
        _, data = self.gh.requester.requestJsonAndCheck(verb, f"{self.repo.url}{path}", parameters=params,
                                                         input=body)
        return data

    def paginate(self, cls: type[T], path: str, params: dict[str, Any] | None = None) -> PaginatedList[T]:
        """Every item of a list endpoint under the repository, page after page (Link headers)."""
        return PaginatedList(cls, self.gh.requester, f"{self.repo.url}{path}", params)

    def identity(self) -> str:
        """The login the token acts as: GET /user once; a job's GITHUB_TOKEN, which may not, is the bot."""
        if self._login is None:
            op = Op("read the token's identity (GET /user)", "the authenticated user")
            self._login = self.retrier.call(op, self._fetch_login)
        return self._login

    def _fetch_login(self) -> str:
        data = none_on_forbidden(lambda: raw(self.gh.get_user().complete()))()
        return ACTIONS_BOT if data is None else str(data["login"])  # installation tokens may not read /user


def open_session(config: ClientConfig, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.time, rng: random.Random | None = None) -> Session:
    retrier = Retrier(config.retry, sleep=sleep, clock=clock, rng=rng)
    session = Session(build_github(config), config.repository, retrier, config.login)
    pace(session.gh.requester, Pacer(config.write_limits, clock=clock, sleep=sleep))
    return session
