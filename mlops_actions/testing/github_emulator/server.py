"""The HTTP side: a ``ThreadingHTTPServer`` on loopback, the route table, authentication, permissions,
rate limits, injected faults, the request log and (``strict``) OpenAPI validation of every answer."""

from __future__ import annotations

import contextlib
import json
import re
import selectors
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from . import faults as faults_mod
from .api import ApiError, Call, Reply
from .openapi import OpenAPI, first_errors, specificity, template_regex
from .render import Renderer
from .state import RATE_LIMIT, RATE_WINDOW, RateBucket, State, User, at_least

Handler = Callable[[Call], Reply]
PUBLIC, SIGNED_IN = "public", "user"
INTEGRATION_DENIED = "Resource not accessible by integration"


@dataclass(frozen=True)
class Route:
    """``method template`` answered by ``handler``; ``need`` is public, user, or a repository permission."""

    method: str
    template: str
    regex: re.Pattern[str]
    handler: Handler
    need: str


def route(method: str, template: str, handler: Handler, need: str = "") -> Route:
    """A route; ``need`` defaults to read for GET and write otherwise (repository routes)."""
    default = "read" if method == "GET" else "write"
    return Route(method, template, template_regex(template), handler, need or default)


@dataclass
class LoggedRequest:
    """One request as the emulator saw it, with its answer."""

    method: str
    path: str
    status: int
    body: Any
    response: Any
    headers: dict[str, str] = field(default_factory=dict)
    dropped: bool = False


class App:
    """Everything but the sockets: ``handle(method, target, headers, body)`` -> (reply, drop)."""

    def __init__(self, state: State, routes: list[Route], plan: faults_mod.FaultPlan,
                 openapi: OpenAPI | None = None) -> None:  # fmt: skip
        self.state = state
        self.routes = sorted(routes, key=lambda item: specificity(item.template))
        self.plan = plan
        self.openapi = openapi
        self.base = ""
        self.log: list[LoggedRequest] = []
        self.rate_limit = RATE_LIMIT  # requests per user and hour (GitHub: 5,000 for a user or an App)

    def handle(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> tuple[Reply, bool]:
        path, query = _split(target)
        fault = self.plan.take(method, path)
        if fault and fault.latency:
            time.sleep(fault.latency)
        user = self.state.token_user(_token(headers) or "")
        if fault and fault.kind == faults_mod.PRIMARY and user:
            with self.state.lock:
                self._exhaust(user, fault.reset_in)
        if fault and isinstance(fault.status, int):
            reply = self._fault_reply(fault, user)
        else:
            with self.state.lock:
                reply = self._dispatch(method, path, query, headers, raw)
        self._record(method, target, raw, reply, dropped=bool(fault and fault.status == faults_mod.DROP))
        return reply, bool(fault and fault.status == faults_mod.DROP)

    def _exhaust(self, user: User, reset_in: float) -> None:
        bucket = self._bucket(user)
        bucket.used = bucket.limit
        bucket.reset = int(time.time() + reset_in + 0.999)

    def _fault_reply(self, fault: faults_mod.Fault, user: User | None) -> Reply:
        headers = dict(fault.headers)
        if fault.retry_after is not None:
            headers["Retry-After"] = str(int(fault.retry_after) if float(fault.retry_after).is_integer()
                                         else fault.retry_after)  # fmt: skip
        if user:
            headers.update(self._rate_headers(self._bucket(user)))
        return Reply(int(fault.status or 500), fault.error_body(), headers)

    def _dispatch(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes) -> Reply:
        try:
            return self._call(method, path, query, headers, raw)
        except ApiError as error:
            return error.reply()

    def _call(self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes) -> Reply:
        found, params = self._route(method, path)
        user = self._authenticate(headers, found.need)
        rate = self._consume(user, path) if user else {}
        try:
            call = self._make_call(method, path, query, params, headers, raw, user)
            self._authorize(call, found.need)
            self._check_request(call)
            reply = found.handler(call)
        except ApiError as error:
            reply = error.reply()
        reply.headers.update(rate)
        return self._check_response(method, path, reply)

    def _route(self, method: str, path: str) -> tuple[Route, dict[str, str]]:
        for candidate in self.routes:
            match = candidate.regex.match(path)
            if match and candidate.method == method:
                return candidate, {key: unquote(value) for key, value in match.groupdict().items()}
        raise ApiError(404, "Not Found")

    def _authenticate(self, headers: dict[str, str], need: str) -> User | None:
        token = _token(headers)
        if token is None:
            if need == PUBLIC:
                return None
            raise ApiError(401, "Requires authentication")
        user = self.state.token_user(token)
        if user is None:
            raise ApiError(401, "Bad credentials")
        return user

    def _bucket(self, user: User) -> RateBucket:
        bucket = self.state.rate.setdefault(user.login, RateBucket(limit=self.rate_limit))
        if time.time() >= bucket.reset:
            bucket.used, bucket.reset = 0, int(time.time()) + RATE_WINDOW
        return bucket

    def _consume(self, user: User, path: str) -> dict[str, str]:
        bucket = self._bucket(user)
        if path != "/rate_limit":
            if bucket.remaining == 0:
                message = f"API rate limit exceeded for user ID {user.id}."
                raise ApiError(403, message, headers=self._rate_headers(bucket))
            bucket.used += 1
        return self._rate_headers(bucket)

    def _rate_headers(self, bucket: RateBucket) -> dict[str, str]:
        return {"x-ratelimit-limit": str(bucket.limit), "x-ratelimit-remaining": str(bucket.remaining),
                "x-ratelimit-reset": str(bucket.reset), "x-ratelimit-used": str(bucket.used),
                "x-ratelimit-resource": "core"}  # fmt: skip

    def _make_call(self, method: str, path: str, query: dict[str, str], params: dict[str, str],
                   headers: dict[str, str], raw: bytes, user: User | None) -> Call:  # fmt: skip
        data = _json(raw, headers)
        call = Call(method, path, query, params, headers, raw, data, user, self.state,
                    Renderer(self.state, self.base))  # fmt: skip
        if "owner" in params and "repo" in params:
            call.repo = self.state.repos.get(f"{params['owner']}/{params['repo']}")
            if call.repo is None:
                raise ApiError(404, "Not Found")
        return call

    def _authorize(self, call: Call, need: str) -> None:
        if call.repo is None or need in (PUBLIC, SIGNED_IN):
            return
        have = self.state.permission(call.repo, call.login)
        if call.repo.private and not at_least(have, "read"):
            raise ApiError(404, "Not Found")
        if not at_least(have, need):
            raise ApiError(403, INTEGRATION_DENIED)

    def _check_request(self, call: Call) -> None:
        if self.openapi is None or call.json is None:
            return
        operation = self.openapi.operation(call.method, call.path)
        errors = self.openapi.request_errors(operation, call.json) if operation else []
        if errors and operation is not None:
            raise ApiError(422, f"Invalid request (OpenAPI {operation.operation_id}): {first_errors(errors)}")

    def _check_response(self, method: str, path: str, reply: Reply) -> Reply:
        if self.openapi is None or reply.raw is not None:
            return reply
        operation = self.openapi.operation(method, path)
        errors = self.openapi.response_errors(operation, reply.status, reply.body) if operation else []
        if not errors or operation is None:
            return reply
        message = f"emulator bug: response of {operation.operation_id} ({reply.status}) does not conform: "
        return Reply(500, {"message": message + first_errors(errors), "documentation_url": ""}, reply.headers)

    def _record(self, method: str, target: str, raw: bytes, reply: Reply, dropped: bool) -> None:
        entry = LoggedRequest(method, target, reply.status, _json(raw, {}), reply.body, dict(reply.headers), dropped)
        with self.state.lock:
            self.log.append(entry)


def _split(target: str) -> tuple[str, dict[str, str]]:
    parts = urlsplit(target)
    return parts.path or "/", dict(parse_qsl(parts.query, keep_blank_values=True))


def _token(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    return token.strip() if scheme.lower() in ("token", "bearer") and token.strip() else None


def _json(raw: bytes, headers: dict[str, str]) -> Any:
    if not raw or "octet-stream" in headers.get("content-type", ""):
        return None
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    server: _Server

    def do_GET(self) -> None:
        self._serve()

    do_POST = do_PATCH = do_PUT = do_DELETE = do_HEAD = do_GET

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        headers = {key.lower(): value for key, value in self.headers.items()}
        reply, drop = self.server.app.handle(self.command, self.path, headers, raw)
        if drop:
            self._drop()
            return
        self._write(reply)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _write(self, reply: Reply) -> None:
        payload = reply.raw if reply.raw is not None else _encode(reply.body)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(payload) if payload is not None else 0))
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.end_headers()
        if payload and self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``App.log``."""


def _encode(body: Any) -> bytes | None:
    return None if body is None else json.dumps(body).encode("utf-8")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], app: App) -> None:
        super().__init__(address, _Handler)
        self.app = app
        self._wake, self._waker = socket.socketpair()  # a byte on it ends ``serve_until_woken`` at once

    def serve_until_woken(self) -> None:
        """Accept connections until ``wake``: ``serve_forever`` notices a shutdown only at its next poll (tests
        starting and stopping hundreds of emulators spent seconds waiting for it)."""
        with selectors.DefaultSelector() as selector:
            selector.register(self, selectors.EVENT_READ)
            selector.register(self._wake, selectors.EVENT_READ)
            while not any(key.fileobj is self._wake for key, _ in selector.select()):
                self.handle_request()  # the listening socket is ready: it does not block

    def wake(self) -> None:
        self._waker.send(b"x")

    def server_close(self) -> None:
        super().server_close()
        self._wake.close()
        self._waker.close()


class Server:
    """The emulator's HTTP server on 127.0.0.1, served by a background thread."""

    def __init__(self, app: App, port: int = 0) -> None:
        self.app = app
        self.httpd = _Server(("127.0.0.1", port), app)
        bound = self.httpd.server_address[1]
        self.url = f"http://127.0.0.1:{bound}"
        app.base = self.url
        self._thread = threading.Thread(target=self.httpd.serve_until_woken, name="github-emulator", daemon=True)

    def start(self) -> Server:
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.httpd.wake()
            self._thread.join(timeout=5)
        self.httpd.server_close()
