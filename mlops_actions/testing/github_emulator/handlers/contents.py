"""Writing a file (``PUT contents/{path}``): a real commit on the branch; an open pull request follows its head."""

from __future__ import annotations

import base64
import binascii

from ..api import ApiError, Call, Reply, invalid
from ..gitdata import Person
from ..gitwrite import BranchMissing, FileCommit, blob_sha, commit_file, read_file_at
from ..server import route
from ..state import now_iso
from .pull_writes import follow_branch


def put_file(call: Call) -> Reply:
    assert call.repo is not None
    path = call.params["path"].strip("/")
    message = call.field("message", str, resource="Commit")
    data = _decoded(call.field("content", str, resource="Commit"))
    branch = call.field("branch", str, call.repo.default_branch, "Commit")
    git = call.state.git[call.full_name]
    if git.resolve(f"refs/heads/{branch}") is None:
        raise ApiError(404, f"Branch {branch} not found")
    old = read_file_at(git, path, branch)
    _check_sha(call, path, old)
    try:
        made = commit_file(git, branch, path, data, message, _author(call))
    except BranchMissing as exc:
        raise ApiError(404, f"Branch {branch} not found") from exc
    follow_branch(call.state, call.full_name, branch, made.commit.sha)
    return Reply(201 if old is None else 200, _file_commit(call, path, branch, made))


def _decoded(content: str) -> bytes:
    try:
        return base64.b64decode(content, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise invalid("Commit", "content", "invalid", "content is not valid Base64") from exc


def _check_sha(call: Call, path: str, old: bytes | None) -> None:
    """Like GitHub: replacing a file needs the blob SHA it replaces; a stale one is a 409 conflict."""
    given = call.field("sha", str, None, "Commit")
    if old is None:
        return
    if given is None:
        raise ApiError(422, 'Invalid request.\n\n"sha" wasn\'t supplied.')
    if given != blob_sha(old):
        raise ApiError(409, f"{path} does not match {given}")


def _author(call: Call) -> Person:
    raw = call.field("author", dict, None, "Commit") or call.field("committer", dict, None, "Commit") or {}
    user = call.user
    name = raw.get("name") or (user.name if user and user.name else call.login)
    email = raw.get("email") or (user.email if user and user.email else f"{call.login}@users.noreply.github.com")
    return Person(str(name), str(email), now_iso())


def _file_commit(call: Call, path: str, branch: str, made: FileCommit) -> dict[str, object]:
    api, web = call.render.api(call.full_name), call.render.web(call.full_name)
    commit = made.commit
    url = f"{api}/contents/{path}?ref={branch}"
    git_url, html = f"{api}/git/blobs/{made.blob_sha}", f"{web}/blob/{branch}/{path}"
    content = {"name": path.rsplit("/", 1)[-1], "path": path, "sha": made.blob_sha, "size": made.size, "url": url,
               "html_url": html, "git_url": git_url, "download_url": f"{call.render.base}/raw/{call.full_name}/"
               f"{branch}/{path}", "type": "file", "_links": {"self": url, "git": git_url, "html": html}}  # fmt: skip
    parents = [{"url": f"{api}/git/commits/{sha}", "html_url": f"{web}/commit/{sha}", "sha": sha}
               for sha in commit.parents]  # fmt: skip
    person = call.render.person
    return {"content": content, "commit": {
        "sha": commit.sha, "node_id": f"C_{commit.sha[:12]}", "url": f"{api}/git/commits/{commit.sha}",
        "html_url": f"{web}/commit/{commit.sha}", "author": person(commit.author),
        "committer": person(commit.committer), "message": commit.message,
        "tree": {"url": f"{api}/git/trees/{commit.tree}", "sha": commit.tree}, "parents": parents,
        "verification": {"verified": False, "reason": "unsigned", "signature": None, "payload": None,
                         "verified_at": None}}}  # fmt: skip


ROUTES = [
    route("PUT", "/repos/{owner}/{repo}/contents/{path}", put_file),
]
