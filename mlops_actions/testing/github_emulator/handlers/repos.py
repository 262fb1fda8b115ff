"""Repositories, collaborators' permission, contents (e.g. ``.github/CODEOWNERS``)."""

from __future__ import annotations

import base64
import hashlib

from ..api import Call, Reply, not_found
from ..gitwrite import read_file_at
from ..server import route


def repository(call: Call) -> Reply:
    assert call.repo is not None
    body = call.render.repository(call.repo)
    body["permissions"] = _permissions(call.state.permission(call.repo, call.login))
    return Reply(200, body)


def _permissions(level: str) -> dict[str, bool]:
    order = ("read", "triage", "write", "maintain", "admin")
    have = order.index(level) if level in order else -1
    names = {"pull": 0, "triage": 1, "push": 2, "maintain": 3, "admin": 4}
    return {name: have >= rank for name, rank in names.items()}


def collaborator_permission(call: Call) -> Reply:
    assert call.repo is not None
    login = call.params["username"]
    if login not in call.state.users:
        raise not_found()
    level = call.state.permission(call.repo, login)
    legacy = "none" if level == "none" else "read" if level in ("read", "triage") else level
    legacy = "write" if level == "maintain" else legacy
    user = call.render.user(login) or {}
    collaborator = {**call.render.fill("collaborator", user), "permissions": _permissions(level),
                    "role_name": level}  # fmt: skip
    return Reply(200, {"permission": legacy, "role_name": level, "user": collaborator})


def contents(call: Call) -> Reply:
    path = call.params["path"].strip("/")
    ref = call.query.get("ref")
    git = call.state.git[call.full_name]
    data = git.read_file(path) if not ref else read_file_at(git, path, ref)
    if data is None:
        raise not_found()
    return Reply(200, _file(call, path, data))


def _file(call: Call, path: str, data: bytes) -> dict[str, object]:
    sha = hashlib.sha1(f"blob {len(data)}\0".encode() + data, usedforsecurity=False).hexdigest()
    api = f"{call.render.api(call.full_name)}/contents/{path}"
    html = f"{call.render.web(call.full_name)}/blob/{call.repo.default_branch if call.repo else 'main'}/{path}"
    git = f"{call.render.api(call.full_name)}/git/blobs/{sha}"
    encoded = base64.encodebytes(data).decode("ascii")
    return {"type": "file", "encoding": "base64", "size": len(data), "name": path.rsplit("/", 1)[-1],
            "path": path, "content": encoded, "sha": sha, "url": api, "git_url": git, "html_url": html,
            "download_url": f"{call.render.base}/raw/{call.full_name}/HEAD/{path}",
            "_links": {"self": api, "git": git, "html": html}}  # fmt: skip


ROUTES = [
    route("GET", "/repos/{owner}/{repo}", repository),
    route("GET", "/repos/{owner}/{repo}/collaborators/{username}/permission", collaborator_permission),
    route("GET", "/repos/{owner}/{repo}/contents/{path}", contents),
]
