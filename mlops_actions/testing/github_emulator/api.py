"""What a handler receives and returns: ``Call`` (request + state + renderer), ``Reply``, ``ApiError``,
plus GitHub's pagination (``per_page`` up to 100, default 30, ``Link`` header)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from .render import Renderer
from .state import Repo, State, User

DOCS = "https://docs.github.com/rest"
MAX_BODY = 65536
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100


@dataclass
class Reply:
    """An HTTP answer: JSON ``body`` or raw bytes ``raw``."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    raw: bytes | None = None
    content_type: str = "application/json; charset=utf-8"


class ApiError(Exception):
    """An error answer with GitHub's body: ``{"message", "documentation_url", "status"[, "errors"]}``."""

    def __init__(self, status: int, message: str, errors: list[dict[str, Any]] | None = None,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.headers = headers or {}

    def reply(self) -> Reply:
        body: dict[str, Any] = {"message": self.message, "documentation_url": DOCS, "status": str(self.status)}
        if self.errors is not None:
            body["errors"] = self.errors
        return Reply(self.status, body, dict(self.headers))


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def invalid(resource: str, field_name: str, code: str = "invalid", message: str | None = None) -> ApiError:
    """A 422 "Validation Failed" naming the field, like GitHub's."""
    error: dict[str, Any] = {"resource": resource, "field": field_name, "code": code}
    if message:
        error["message"] = message
    return ApiError(422, "Validation Failed", [error])


@dataclass
class Call:
    """One request being handled."""

    method: str
    path: str
    query: dict[str, str]
    params: dict[str, str]
    headers: dict[str, str]
    raw: bytes
    json: Any
    user: User | None
    state: State
    render: Renderer
    repo: Repo | None = None

    @property
    def login(self) -> str:
        return self.user.login if self.user else "ghost"

    @property
    def full_name(self) -> str:
        assert self.repo is not None
        return self.repo.full_name

    def body(self) -> dict[str, Any]:
        """The JSON object body (422 when it is not one)."""
        if not isinstance(self.json, dict):
            raise ApiError(400, "Problems parsing JSON")
        return self.json

    def field(self, name: str, kind: type | tuple[type, ...], default: Any = ..., resource: str = "") -> Any:
        """A field of the JSON body; 422 when missing (without default) or of the wrong type."""
        body = self.body()
        if name not in body:
            if default is ...:
                raise invalid(resource or "Resource", name, "missing_field")
            return default
        value = body[name]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise invalid(resource or "Resource", name, "invalid", f"{name} is not valid")
        return value

    def text(self, name: str, default: Any = ..., resource: str = "", limit: int = MAX_BODY) -> Any:
        """A string field, 422 "Body is too long" past ``limit`` characters."""
        value = self.field(name, str, default, resource)
        if isinstance(value, str) and len(value) > limit:
            raise invalid(resource or "Resource", name, "custom",
                          f"{name} is too long (maximum is {limit} characters)".capitalize())  # fmt: skip
        return value

    def int_param(self, name: str) -> int:
        """A numeric path parameter (404 when not a number, like GitHub)."""
        value = self.params[name]
        if not value.isdigit():
            raise not_found()
        return int(value)


def per_page(call: Call) -> int:
    """``per_page`` of the query: default 30, at most 100."""
    raw = call.query.get("per_page", "")
    return min(int(raw), MAX_PER_PAGE) if raw.isdigit() and int(raw) > 0 else DEFAULT_PER_PAGE


def paginate(call: Call, items: Sequence[Any], render: Callable[[Any], Any]) -> Reply:
    """One page of ``items`` with GitHub's ``Link`` header (next, last, first, prev)."""
    chunk, headers = page_of(call, items)
    return Reply(200, [render(item) for item in chunk], headers)


def page_of(call: Call, items: Sequence[Any]) -> tuple[Sequence[Any], dict[str, str]]:
    """The requested page of ``items`` and its ``Link`` header (for answers that wrap the list)."""
    size = per_page(call)
    raw = call.query.get("page", "1")
    page = int(raw) if raw.isdigit() and int(raw) > 0 else 1
    last = max((len(items) + size - 1) // size, 1)
    link = _link_header(call, page, last)
    return items[(page - 1) * size : page * size], {"Link": link} if link else {}


def _link_header(call: Call, page: int, last: int) -> str:
    rels = []
    if page < last:
        rels += [("next", page + 1), ("last", last)]
    if page > 1:
        rels += [("first", 1), ("prev", page - 1)]
    return ", ".join(f'<{_page_url(call, number)}>; rel="{rel}"' for rel, number in rels)


def _page_url(call: Call, number: int) -> str:
    query = {**call.query, "page": str(number)}
    return f"{call.render.base}{call.path}?{urlencode(query)}"
