"""Git data: refs, matching refs, annotated tags, tags, commits."""

from __future__ import annotations

from ..api import ApiError, Call, Reply, invalid, not_found, paginate
from ..gitdata import GitData, Person, RefExists, UnknownObject
from ..server import route
from ..state import now_iso


def _git(call: Call) -> GitData:
    return call.state.git[call.full_name]


def _ref_reply(call: Call, ref: str, sha: str, status: int = 200) -> Reply:
    kind = _git(call).object_type(sha) or "commit"
    return Reply(status, call.render.git_ref(call.full_name, ref, sha, kind))


def get_ref(call: Call) -> Reply:
    ref = "refs/" + call.params["ref"].strip("/")
    sha = dict(_git(call).refs(ref)).get(ref)
    if sha is None:
        raise not_found()
    return _ref_reply(call, ref, sha)


def matching_refs(call: Call) -> Reply:
    prefix = "refs/" + call.params["ref"].strip("/")
    refs = _git(call).refs(prefix)
    return Reply(200, [call.render.git_ref(call.full_name, ref, sha, _git(call).object_type(sha) or "commit")
                       for ref, sha in refs])  # fmt: skip


def matching_refs_all(call: Call) -> Reply:
    call.params["ref"] = ""
    return matching_refs(call)


def create_ref(call: Call) -> Reply:
    ref = call.field("ref", str, resource="Reference")
    sha = call.field("sha", str, resource="Reference")
    if not ref.startswith("refs/") or ref.count("/") < 2:
        raise ApiError(422, "Reference name must start with 'refs/' and have at least two slashes.")
    try:
        _git(call).create_ref(ref, sha)
    except RefExists as exc:
        raise ApiError(422, "Reference already exists") from exc
    except UnknownObject as exc:
        raise ApiError(422, "Object does not exist") from exc
    _follow(call, ref, sha)
    reply = _ref_reply(call, ref, sha, 201)
    reply.headers["Location"] = reply.body["url"]
    return reply


def update_ref(call: Call) -> Reply:
    ref = "refs/" + call.params["ref"].strip("/")
    sha = call.field("sha", str, resource="Reference")
    if dict(_git(call).refs(ref)).get(ref) is None:
        raise ApiError(422, "Reference does not exist")
    try:
        _git(call).update_ref(ref, sha)
    except UnknownObject as exc:
        raise ApiError(422, "Object does not exist") from exc
    _follow(call, ref, sha)
    return _ref_reply(call, ref, sha)


def _follow(call: Call, ref: str, sha: str) -> None:
    """Open pull requests from a branch follow it (GitHub updates their head when the branch moves)."""
    if ref.startswith("refs/heads/"):
        from .pull_writes import follow_branch

        follow_branch(call.state, call.full_name, ref.removeprefix("refs/heads/"), sha)


def create_tag(call: Call) -> Reply:
    tag = call.field("tag", str, resource="Tag")
    message = call.field("message", str, resource="Tag")
    sha = call.field("object", str, resource="Tag")
    if call.field("type", str, resource="Tag") not in ("commit", "tree", "blob"):
        raise invalid("Tag", "type")
    try:
        tag_sha = _git(call).create_tag(tag, message, sha, _tagger(call))
    except UnknownObject as exc:
        raise ApiError(422, "Object does not exist") from exc
    tag_object = _git(call).tag(tag_sha)
    assert tag_object is not None
    url = f"{call.render.api(call.full_name)}/git/tags/{tag_sha}"
    return Reply(201, call.render.git_tag(call.full_name, tag_object), {"Location": url})


def _tagger(call: Call) -> Person:
    raw = call.field("tagger", dict, {}, "Tag")
    user = call.user
    name = raw.get("name") or (user.name if user and user.name else call.login)
    email = raw.get("email") or (user.email if user and user.email else f"{call.login}@users.noreply.github.com")
    return Person(str(name), str(email), str(raw.get("date") or now_iso()))


def get_tag(call: Call) -> Reply:
    tag = _git(call).tag(call.params["tag_sha"])
    if tag is None:
        raise not_found()
    return Reply(200, call.render.git_tag(call.full_name, tag))


def list_tags(call: Call) -> Reply:
    git = _git(call)
    tags = [(ref.removeprefix("refs/tags/"), _peel(call, sha)) for ref, sha in reversed(git.refs("refs/tags/"))]
    return paginate(call, tags, lambda pair: call.render.tag(call.full_name, pair[0], pair[1]))


def _peel(call: Call, sha: str) -> str:
    git = _git(call)
    while (tag := git.tag(sha)) is not None:
        sha = tag.object_sha
    return sha


def get_commit(call: Call) -> Reply:
    commit = _git(call).commit(call.params["ref"])
    if commit is None:
        raise ApiError(422, f"No commit found for SHA: {call.params['ref']}")
    return Reply(200, call.render.commit(call.full_name, commit))


ROUTES = [
    route("GET", "/repos/{owner}/{repo}/git/ref/{ref}", get_ref),
    route("GET", "/repos/{owner}/{repo}/git/refs/{ref}", get_ref),
    route("PATCH", "/repos/{owner}/{repo}/git/refs/{ref}", update_ref),
    route("GET", "/repos/{owner}/{repo}/git/matching-refs/{ref}", matching_refs),
    route("GET", "/repos/{owner}/{repo}/git/matching-refs/", matching_refs_all),
    route("POST", "/repos/{owner}/{repo}/git/refs", create_ref),
    route("POST", "/repos/{owner}/{repo}/git/tags", create_tag),
    route("GET", "/repos/{owner}/{repo}/git/tags/{tag_sha}", get_tag),
    route("GET", "/repos/{owner}/{repo}/tags", list_tags),
    route("GET", "/repos/{owner}/{repo}/commits/{ref}", get_commit),
]
