"""Releases, asset uploads (at the ``upload_url`` served here too) and asset downloads."""

from __future__ import annotations

import base64

from ..api import ApiError, Call, Reply, invalid, not_found, paginate
from ..server import PUBLIC, route
from ..state import Asset, Release, now_iso

OCTET = "application/octet-stream"


def find_release(call: Call) -> Release:
    found = call.state.releases.get(call.int_param("release_id"))
    if found is None or found.repo != call.full_name:
        raise not_found()
    return found


def create_release(call: Call) -> Reply:
    assert call.repo is not None
    tag = call.field("tag_name", str, resource="Release")
    if any(r.repo == call.full_name and r.tag_name == tag for r in call.state.releases.values()):
        raise invalid("Release", "tag_name", "already_exists")
    draft = call.field("draft", bool, False, "Release")
    release = Release(call.full_name, call.state.next_id(), tag,
                      call.field("target_commitish", str, call.repo.default_branch, "Release"), call.login,
                      call.field("name", (str, type(None)), None, "Release"),
                      call.text("body", None, "Release", limit=125000), draft,
                      call.field("prerelease", bool, False, "Release"))  # fmt: skip
    release.published_at = None if draft else release.created_at
    if not draft:
        _ensure_tag_ref(call, release)
    call.state.releases[release.id] = release
    body = call.render.release(release)
    return Reply(201, body, {"Location": body["url"]})


def _ensure_tag_ref(call: Call, release: Release) -> None:
    """Publishing a release of a tag that does not exist creates it at ``target_commitish``, like GitHub."""
    git = call.state.git[call.full_name]
    if git.resolve(f"refs/tags/{release.tag_name}") is not None:
        return
    target = release.target_commitish
    sha = git.resolve(f"refs/heads/{target}") or (target if git.object_type(target) == "commit" else None)
    if sha is None:
        raise invalid("Release", "target_commitish", "invalid")
    git.create_ref(f"refs/tags/{release.tag_name}", sha)


def list_releases(call: Call) -> Reply:
    releases = sorted((r for r in call.state.releases.values() if r.repo == call.full_name), key=lambda r: -r.id)
    return paginate(call, releases, call.render.release)


def get_release(call: Call) -> Reply:
    return Reply(200, call.render.release(find_release(call)))


def release_by_tag(call: Call) -> Reply:
    tag = call.params["tag"]
    found = next((r for r in call.state.releases.values() if r.repo == call.full_name and r.tag_name == tag), None)
    if found is None:
        raise not_found()
    return Reply(200, call.render.release(found))


def list_assets(call: Call) -> Reply:
    release = find_release(call)
    assets = sorted((a for a in call.state.assets.values() if a.release_id == release.id), key=lambda a: a.id)
    return paginate(call, assets, call.render.asset)


def upload_asset(call: Call) -> Reply:
    release = find_release(call)
    name = call.query.get("name", "")
    if not name:
        raise ApiError(422, "Bad Content-Length or name", [{"resource": "ReleaseAsset", "field": "name",
                                                            "code": "missing"}])  # fmt: skip
    if any(a.release_id == release.id and a.name == name for a in call.state.assets.values()):
        raise invalid("ReleaseAsset", "name", "already_exists")
    asset = Asset(call.full_name, release.id, call.state.next_id(), name, call.login,
                  call.headers.get("content-type", OCTET), base64.b64encode(call.raw).decode("ascii"),
                  call.query.get("label") or None, now_iso())  # fmt: skip
    call.state.assets[asset.id] = asset
    return Reply(201, call.render.asset(asset))


def get_asset(call: Call) -> Reply:
    asset = call.state.assets.get(call.int_param("asset_id"))
    if asset is None or asset.repo != call.full_name:
        raise not_found()
    if OCTET in call.headers.get("accept", ""):
        return _bytes(asset)
    return Reply(200, call.render.asset(asset))


def delete_asset(call: Call) -> Reply:
    asset = call.state.assets.get(call.int_param("asset_id"))
    if asset is None or asset.repo != call.full_name:
        raise not_found()
    del call.state.assets[asset.id]
    return Reply(204)


def download(call: Call) -> Reply:
    tag, name = call.params["tag"], call.params["name"]
    for asset in call.state.assets.values():
        release = call.state.releases[asset.release_id]
        if (asset.repo, release.tag_name, asset.name) == (call.full_name, tag, name):
            return _bytes(asset)
    raise not_found()


def _bytes(asset: Asset) -> Reply:
    disposition = {"Content-Disposition": f'attachment; filename="{asset.name}"'}
    return Reply(200, None, disposition, raw=asset.content, content_type=asset.content_type)


ROUTES = [
    route("POST", "/repos/{owner}/{repo}/releases", create_release),
    route("GET", "/repos/{owner}/{repo}/releases", list_releases),
    route("GET", "/repos/{owner}/{repo}/releases/tags/{tag}", release_by_tag),
    route("GET", "/repos/{owner}/{repo}/releases/assets/{asset_id}", get_asset),
    route("DELETE", "/repos/{owner}/{repo}/releases/assets/{asset_id}", delete_asset),
    route("GET", "/repos/{owner}/{repo}/releases/{release_id}", get_release),
    route("GET", "/repos/{owner}/{repo}/releases/{release_id}/assets", list_assets),
    route("POST", "/repos/{owner}/{repo}/releases/{release_id}/assets", upload_asset),
    route("POST", "/uploads/repos/{owner}/{repo}/releases/{release_id}/assets", upload_asset),
    route("GET", "/{owner}/{repo}/releases/download/{tag}/{name}", download, PUBLIC),
]
