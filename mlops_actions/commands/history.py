"""``mlops-actions history [MODEL]``: every registered version with its date, fingerprint, key metrics,
approvers, and where it runs now.

Versions are the local annotated tags ``<model>@v<N>`` (one ``git for-each-ref`` for all of them); a tag
whose record is invalid is listed with its problem and nothing else from it is shown. "Where it runs now"
comes from GitHub Deployments when the composition root passes a GitHub client (token and repository
set), else from ``environments/*.yaml`` at HEAD -- labelled as the desired state, since the files say what
should run, not what GitHub deployed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from mlops_actions import bounded
from mlops_actions.convention.discovery import ENVIRONMENTS_DIR, POLICY_FILE, spec_relpath
from mlops_actions.convention.model import Policy
from mlops_actions.convention.schemas import ENVIRONMENT, POLICY, VERSION_RECORD, fast_check, is_valid
from mlops_actions.errors import EXIT_OK, InputError, Place
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git, read_batch
from mlops_actions.registry import records
from mlops_actions.registry.history import FILES, GITHUB, LastDeployment, Placement, last_deployments
from mlops_actions.registry.history import history as build_history
from mlops_actions.registry.tag import parse_tag
from mlops_actions.registry.version_index import listed_versions
from mlops_actions.reporting.history import RENDERERS, clean
from mlops_actions.reporting.render import Format, renderer
from mlops_actions.resources import schema_path

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

RECORDS = "records"  # cache section: tag object id -> 1 when its record was found valid
VALID_FILES = "history-files"  # cache section: schema:schema hash:content hash -> the valid file's data


def history(root: Path, model: str | None, *, fmt: Format = "text", gh: GitHubPort | None = None) -> int:
    """Print the history of ``model`` (every model when None); ``gh`` (a GitHubRepo) reads deployments."""
    cache = RepoCache(Git(root))
    versions = listed_versions(Git(root), cache, model)
    if model is not None:
        _check_model(root, model, versions)
    policy = load_policy(root, cache)
    placement, last = github_state(gh, policy) if gh is not None else (file_placement(root, policy, cache), ())
    cache.save()
    print(renderer(RENDERERS, fmt)(build_history(versions, placement, model, last)))
    return EXIT_OK


def _check_model(root: Path, model: str, versions: list[records.VersionRef]) -> None:
    if versions or (parse_tag(f"{model}@v1") is not None and (root / spec_relpath(model)).is_file()):
        return
    raise InputError(f"unknown model '{clean(model)}': no version tag {clean(model)}@v<N> and no "
                     f"{spec_relpath(clean(model))}",
                     hint="run `mlops-actions history` without MODEL to list every model's versions")


# versions -----------------------------------------------------------------------------------------------


def read_versions(root: Path, model: str | None = None, cache: RepoCache | None = None
                  ) -> list[records.VersionRef]:
    """Like ``records.local_versions`` (same refs, same answers), faster for valid records.

    A record that is JSON naming its tag's model and version, and whose tag object (by id, immutable) was
    found valid before (the ``records`` section of the repository cache, shared with ``plan``) or passes
    the compiled schema check now, is trusted as ``records.check`` would; every other tag goes through
    ``records.check`` itself, which says why it is not trusted.
    """
    git = Git(root)
    store = cache or RepoCache(git)
    raws = records._raw_tags(git)  # the one for-each-ref of all tags (records' own reader)
    found = [_fast(raw, store) or records.check(raw) for raw in raws if model is None or raw.model == model]
    if cache is None:
        store.save()
    return found


def _fast(raw: Any, cache: RepoCache) -> records.VersionRef | None:
    if raw.kind != "tag":
        return None
    try:
        data = bounded.loads(records._without_signature(raw.message))
    except ValueError:
        return None
    names_its_tag = isinstance(data, dict) and data.get("model") == raw.model and \
        data.get("version", f"v{raw.number}") == f"v{raw.number}"
    if not names_its_tag:
        return None
    if not cache.get(RECORDS, raw.oid):
        check = fast_check(VERSION_RECORD)
        if check is None or not check(data):
            return None
        cache.put(RECORDS, raw.oid, 1)
    return records.VersionRef(raw.model, raw.number, raw.tag, MappingProxyType(data), None, raw.created)


# where versions run -------------------------------------------------------------------------------------


def load_policy(root: Path, cache: RepoCache) -> Policy:
    """The policy, as ``convention.validation.load_policy`` reads it, through the repository cache."""
    path = root / POLICY_FILE
    if not path.is_file():
        return Policy()
    try:
        raw = path.read_bytes()
    except OSError:
        raw = None
    data = _valid_file(cache, raw, POLICY_FILE, POLICY) if raw is not None else None
    if data is None:
        raise InputError("the policy is not valid", place=Place(POLICY_FILE),
                         hint=f"run `mlops-actions validate {POLICY_FILE}` to see the problems")
    return Policy.from_dict(data)


def file_placement(root: Path, policy: Policy, cache: RepoCache) -> Placement:
    """environment -> model -> version from ``environments/<env>.yaml`` at HEAD (policy order)."""
    paths = {env.name: f"{ENVIRONMENTS_DIR}/{env.name}.yaml" for env in policy.environments}
    specs = [f"HEAD:{path}" for path in paths.values()]
    out = Git(root).run("cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs).encode())
    blobs = read_batch(out, specs)
    state = {}
    for env, path in paths.items():
        blob = blobs[f"HEAD:{path}"]
        if blob is None:
            continue
        data = _valid_file(cache, blob, path, ENVIRONMENT)
        if data is None:
            raise InputError("invalid environment file at HEAD; cannot say what runs there", place=Place(path),
                             hint=f"run `mlops-actions validate {path}` to see the problems")
        state[env] = {str(k): str(v) for k, v in data.items()}
    return Placement(FILES, state)


def _valid_file(cache: RepoCache, raw: bytes, relpath: str, schema: str) -> dict[str, Any] | None:
    """The YAML file's data when it parses and is valid against ``schema``, else None.

    A valid answer is remembered by the file's content hash and the schema's: the next run needs
    neither the YAML parser nor the schema check.
    """
    key = f"{schema}:{_digest(schema_path(schema).read_bytes())[:16]}:{_digest(raw)}"
    known = cache.get(VALID_FILES, key)
    if isinstance(known, dict):
        return known
    from mlops_actions.convention.yamlio import MAX_FILE_BYTES, decode, parse_text

    text, problem = decode(raw, relpath) if len(raw) <= MAX_FILE_BYTES else (None, "too big")
    loaded = parse_text(text, relpath) if text is not None and problem is None else None
    if loaded is None or not loaded.ok or not is_valid(schema, loaded.data):
        return None
    data: dict[str, Any] = loaded.data
    if _plain_json(data):
        cache.put(VALID_FILES, key, data)
    return data


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _plain_json(data: Any) -> bool:
    try:
        return json.loads(json.dumps(data)) == data
    except (TypeError, ValueError):
        return False


def github_placement(gh: GitHubPort, policy: Policy) -> Placement:
    """environment -> model -> version of the newest successful GitHub Deployment, per environment."""
    return github_state(gh, policy)[0]


def github_state(gh: GitHubPort, policy: Policy) -> tuple[Placement, tuple[LastDeployment, ...]]:
    """What runs where (newest successful deployment), and each model's last deployment and its status
    (active, failed, in progress, queued), per environment: one read of GitHub's deployments for both."""
    from mlops_actions.registry.promotion import DEPLOYMENTS_READ, current_state, deployed_from

    found = {env.name: gh.deployments(env.name, DEPLOYMENTS_READ) for env in policy.environments}
    state = {env: current_state(deployed_from(env, ds)) for env, ds in found.items()}
    return Placement(GITHUB, state), tuple(d for env, ds in found.items() for d in last_deployments(env, ds))
