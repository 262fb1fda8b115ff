"""Releases: create or get by tag, upload assets idempotently, download an asset's bytes."""

from __future__ import annotations

import io
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from github import GithubException
from github.GitReleaseAsset import GitReleaseAsset

from mlops_actions.errors import GitHubError
from mlops_actions.github.client import Session, raw
from mlops_actions.github.errors import Op
from mlops_actions.github.guards import none_on_404
from mlops_actions.github.values import Asset, AssetFile, Release

DOWNLOAD_CHUNK = 1 << 16


def asset_from_json(data: Mapping[str, Any]) -> Asset:
    return Asset(id=int(data["id"]), name=str(data["name"]), size=int(data.get("size", 0)),
                 content_type=str(data.get("content_type", "")), state=str(data.get("state", "")),
                 url=str(data.get("browser_download_url", "")))


def release_from_json(data: Mapping[str, Any]) -> Release:
    return Release(id=int(data["id"]), tag=str(data["tag_name"]), name=str(data.get("name") or ""),
                   body=str(data.get("body") or ""), draft=bool(data.get("draft")),
                   prerelease=bool(data.get("prerelease")), html_url=str(data.get("html_url", "")),
                   upload_url=str(data.get("upload_url", "")),
                   assets=tuple(asset_from_json(a) for a in data.get("assets") or ()))


def get_release(session: Session, tag: str) -> Release | None:
    """The published release of ``tag``, or None."""
    op = Op(f"read the release of {tag}", f"release {tag}", "contents: read")
    return session.retrier.call(op, none_on_404(lambda: _read_release(session, tag)))


def _read_release(session: Session, tag: str) -> Release:
    return release_from_json(session.request("GET", f"/releases/tags/{quote(tag, safe='@')}"))


def release(session: Session, tag: str, *, name: str, body: str, prerelease: bool = False,
            make_latest: bool = True) -> Release:
    """The release of ``tag`` (an existing tag), created if there is none; an existing one is kept as is."""
    existing = get_release(session, tag)
    if existing is not None:
        return existing
    payload = {"tag_name": tag, "name": name, "body": body, "draft": False, "prerelease": prerelease,
               "make_latest": "true" if make_latest else "false"}
    op = Op(f"create the release {tag}", f"release {tag}", "contents: write", write=True)
    recover = none_on_404(lambda: _read_release(session, tag))
    return session.retrier.call(op, lambda: _create_release(session, tag, payload), recover=recover)


def _create_release(session: Session, tag: str, payload: dict[str, Any]) -> Release:
    try:
        return release_from_json(session.request("POST", "/releases", body=payload))
    except GithubException as exc:
        existing = none_on_404(lambda: _read_release(session, tag))() if exc.status == 422 else None
        if existing is None:  # 422 already_exists: a concurrent run, or our lost attempt, was first
            raise
        return existing


def list_assets(session: Session, release_id: int) -> tuple[Asset, ...]:
    op = Op(f"list the assets of release {release_id}", f"release {release_id}", "contents: read")
    return session.retrier.call(op, lambda: tuple(
        asset_from_json(raw(a)) for a in session.paginate(GitReleaseAsset, f"/releases/{release_id}/assets")))


def upload_asset(session: Session, rel: Release, file: AssetFile, *,
                 assets: tuple[Asset, ...] | None = None) -> Asset:
    """Upload ``file``; an uploaded asset of that name and size is kept (not re-sent).
    ``assets``: the release's assets as just read with it (``rel.assets``), saving a listing per upload (a
    thousand releases' uploads); a concurrent upload of the same name is still found on its 422."""
    name, data = file.name, file.data
    known = list_assets(session, rel.id) if assets is None else assets
    same = next((a for a in known if a.name == name), None)
    if same is not None and same.state == "uploaded":
        if same.size == len(data):
            return same
        raise GitHubError(f"release {rel.tag} already has an asset {name} of {same.size:,} bytes, not "
                          f"{len(data):,}; published assets are never replaced",
                          hint="register a new version instead of changing a released one.")
    if same is not None:  # a broken earlier upload ("starter" state) blocks the name: remove it
        _delete_asset(session, rel, same)
    op = Op(f"upload {name} to release {rel.tag}", f"release {rel.tag}", "contents: write", write=True)

    def recover() -> Asset | None:
        return next((a for a in list_assets(session, rel.id)
                     if a.name == name and a.size == len(data) and a.state == "uploaded"), None)

    return session.retrier.call(op, lambda: _upload(session, rel, file), recover=recover)


def _upload(session: Session, rel: Release, file: AssetFile) -> Asset:
    name, data = file.name, file.data
    url = rel.upload_url.split("{", 1)[0]
    headers = {"Content-Type": file.content_type, "Content-Length": str(len(data))}
    try:
        _, made = session.gh.requester.requestMemoryBlobAndCheck(
            "POST", url, {"name": name, "label": file.label}, headers, io.BytesIO(data))
    except GithubException as exc:
        same = next((a for a in list_assets(session, rel.id) if a.name == name and a.size == len(data)
                     and a.state == "uploaded"), None) if exc.status == 422 else None
        if same is None:  # 422 already_exists of the same bytes: a concurrent run of the same merge was first
            raise
        return same
    return asset_from_json(made)


def _delete_asset(session: Session, rel: Release, asset: Asset) -> None:
    op = Op(f"delete the incomplete asset {asset.name} of release {rel.tag}", f"asset {asset.name}",
            "contents: write", write=True)
    session.retrier.call(op, none_on_404(lambda: session.request("DELETE", f"/releases/assets/{asset.id}")))


def download_asset(session: Session, asset_id: int) -> bytes:
    """The bytes of a release asset (GitHub may redirect to storage; the token is not sent there)."""
    op = Op(f"download release asset {asset_id}", f"release asset {asset_id}", "contents: read")
    url = f"{session.repo.url}/releases/assets/{asset_id}"

    def fetch() -> bytes:
        _, _, chunks = session.gh.requester.getStream(url, chunk_size=DOWNLOAD_CHUNK)
        return b"".join(chunks)

    return session.retrier.call(op, fetch)
