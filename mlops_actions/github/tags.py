"""Annotated tags (tag object + ref) and reading tags with their messages. Tags are never moved.

Creating is idempotent: a ref that already exists and peels to the same commit is success (also when our
own earlier attempt made it and its response was lost); one that peels to another commit is an error.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

from github import GithubException
from github.GitRef import GitRef

from mlops_actions.errors import GitHubError
from mlops_actions.github.client import Session, raw
from mlops_actions.github.errors import Op
from mlops_actions.github.guards import none_on_404
from mlops_actions.github.values import TagInfo

_BAD_REF = re.compile(r"[\x00-\x20~^:?*\[\\\x7f]|\.\.|@\{|//|^[-/.]|[/.]$|\.lock$|/\.")
_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def check_tag_name(name: str) -> None:
    """Refuse names git would refuse (``git check-ref-format`` rules, roughly)."""
    if not name or _BAD_REF.search(name) or name == "@":
        raise ValueError(f"{name!r} is not a valid tag name")


def _path(ref: str) -> str:
    return quote(ref, safe="/@")


def get_tag(session: Session, name: str) -> TagInfo | None:
    """The tag ``name`` with its message and the commit it peels to; None when it does not exist."""
    op = Op(f"read the tag {name}", f"tag {name}", "contents: read")
    return session.retrier.call(op, none_on_404(lambda: _read_tag(session, name)))


def _read_tag(session: Session, name: str) -> TagInfo | None:
    data = session.request("GET", f"/git/ref/tags/{_path(name)}")
    if isinstance(data, list):  # old GitHub versions answer a prefix match with a list
        data = next((d for d in data if d.get("ref") == f"refs/tags/{name}"), None)
    return None if data is None else resolve(session, name, data["object"])


def resolve(session: Session, name: str, obj: dict[str, Any]) -> TagInfo:
    """Peel a ref's object: a tag object gives its message and target, a commit is a lightweight tag."""
    if obj.get("type") != "tag":
        return TagInfo(name, str(obj["sha"]), str(obj["sha"]), "", annotated=False)
    tag = session.request("GET", f"/git/tags/{obj['sha']}")
    target = tag.get("object") or {}
    if target.get("type") == "tag":  # a tag of a tag: peel once more
        target = session.request("GET", f"/git/tags/{target['sha']}").get("object") or {}
    return TagInfo(name, str(target.get("sha", "")), str(obj["sha"]), str(tag.get("message", "")),
                   annotated=True, tagger_date=(tag.get("tagger") or {}).get("date"))


def create_annotated_tag(session: Session, name: str, message: str, sha: str,
                         tagger: dict[str, str] | None = None) -> TagInfo:
    """Create tag object + ref ``refs/tags/<name>`` on commit ``sha``; see the module doc on idempotency."""
    check_tag_name(name)
    if not _SHA.match(sha):
        raise ValueError(f"{sha!r} is not a full commit SHA")
    existing = get_tag(session, name)
    if existing is not None:
        return same_or_error(existing, sha)
    obj = _create_tag_object(session, name, message, sha, tagger)
    op = Op(f"create the tag {name} on {sha[:12]}", f"tag {name}", "contents: write", write=True)
    made = session.retrier.call(op, lambda: _create_ref(session, name, obj, message, sha),
                                recover=none_on_404(lambda: _read_tag(session, name)))
    return same_or_error(made, sha)


def _create_tag_object(session: Session, name: str, message: str, sha: str,
                       tagger: dict[str, str] | None) -> dict[str, Any]:
    body: dict[str, Any] = {"tag": name, "message": message, "object": sha, "type": "commit"}
    if tagger:
        body["tagger"] = tagger
    op = Op(f"create the tag object {name} on {sha[:12]}", f"commit {sha[:12]}", "contents: write",
            write=True)  # no re-read needed: a repeated tag object only leaves an unreferenced object
    return session.retrier.call(op, lambda: session.request("POST", "/git/tags", body=body))


def _create_ref(session: Session, name: str, obj: dict[str, Any], message: str, sha: str) -> TagInfo | None:
    try:
        session.request("POST", "/git/refs", body={"ref": f"refs/tags/{name}", "sha": obj["sha"]})
    except GithubException as exc:
        existing = none_on_404(lambda: _read_tag(session, name))() if exc.status == 422 else None
        if existing is None:  # 422 "Reference already exists": someone, maybe our lost attempt, was first
            raise
        return existing
    return TagInfo(name, sha, str(obj["sha"]), message, annotated=True,
                   tagger_date=(obj.get("tagger") or {}).get("date"))


def same_or_error(tag: TagInfo | None, sha: str) -> TagInfo:
    if tag is None:
        raise GitHubError("GitHub answered that the tag exists but it cannot be read back")
    if tag.commit_sha != sha:
        raise GitHubError(
            f"the tag {tag.name} already exists on commit {tag.commit_sha[:12]}, not on {sha[:12]}; "
            "tags are never moved", hint="pick the next version number, or delete the tag by hand if it is wrong.")
    return tag


def tag_messages(session: Session, prefix: str) -> tuple[TagInfo, ...]:
    """Every tag whose name starts with ``prefix``, with its message, sorted by name."""
    op = Op(f"list the tags starting with {prefix!r}", f"tags {prefix}*", "contents: read")
    return session.retrier.call(op, lambda: _list_tags(session, prefix))


def _list_tags(session: Session, prefix: str) -> tuple[TagInfo, ...]:
    refs = [raw(r) for r in session.paginate(GitRef, f"/git/matching-refs/tags/{_path(prefix)}")]
    found = [resolve(session, d["ref"].removeprefix("refs/tags/"), d["object"]) for d in refs
             if str(d.get("ref", "")).startswith(f"refs/tags/{prefix}")]
    return tuple(sorted(found, key=lambda t: t.name))
