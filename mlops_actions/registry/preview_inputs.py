"""The I/O edge of the promotion preview the PR report shows: environment files at HEAD and at the base ref,
CODEOWNERS and the local version records, read with git plumbing; the pure work is ``registry.preview``.

An environment file "changes" when its bytes in the work tree differ from the base ref's. What runs now is
GitHub Deployments when the composition root read them (``deployments``), else the files at the base ref.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_actions.convention.discovery import ENVIRONMENTS_DIR
from mlops_actions.convention.model import Policy
from mlops_actions.convention.schemas import ENVIRONMENT, is_valid
from mlops_actions.errors import InputError, Place
from mlops_actions.gitio import Git, read_batch
from mlops_actions.registry import codeowners
from mlops_actions.registry.approval_words import ApprovalWords, approval_words
from mlops_actions.registry.preview import (
    BASE_FILES,
    GITHUB,
    CurrentState,
    KnownVersions,
    PromotionPreview,
    preview,
)
from mlops_actions.registry.promotion import Deployed, current_state
from mlops_actions.registry.records import local_versions

CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's search order


def promotion_preview(root: Path, policy: Policy, base_commit: str | None, base_label: str | None,
                      deployments: Mapping[str, Sequence[Deployed]] | None = None,
                      pending: Mapping[str, Mapping[str, Any]] | None = None) -> PromotionPreview | None:
    """The preview when an environment file differs from the base ref; None when none does (or no base).

    ``pending``: model -> its candidate retrained in this PR (see ``registry.preview.preview``).
    """
    if base_commit is None:
        return None
    paths = {env.name: env_path(env.name) for env in policy.environments}
    base = _blobs(root, base_commit, [*paths.values(), *CODEOWNERS_PATHS])
    head = {env: _read(root / path) for env, path in paths.items()}
    changed = [env for env, path in paths.items() if head[env] != base[path]]
    if not changed:
        return None
    desired = {env: _head_state(head[env], paths[env]) for env in paths}
    current = _current(base, paths, base_label, deployments)
    return preview(desired, current, policy, changed=changed,
                   versions=KnownVersions(local_versions(root), pending or {}),
                   approvals=_approvals(policy, base, paths))


def env_path(env: str) -> str:
    return f"{ENVIRONMENTS_DIR}/{env}.yaml"


def _blobs(root: Path, commit: str, paths: Sequence[str]) -> dict[str, bytes | None]:
    specs = [f"{commit}:{p}" for p in paths]
    out = Git(root).run("cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs).encode())
    found = read_batch(out, specs)
    return {p: found[s] for p, s in zip(paths, specs, strict=True)}


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def parse_state(raw: bytes | None, relpath: str) -> dict[str, str] | None:
    """model -> version of a valid environment file; {} when it is absent; None when it is not valid."""
    if raw is None:
        return {}
    from mlops_actions.convention.yamlio import MAX_FILE_BYTES, decode, parse_text

    text, problem = decode(raw, relpath) if len(raw) <= MAX_FILE_BYTES else (None, "too big")
    loaded = parse_text(text, relpath) if text is not None and problem is None else None
    if loaded is None or not loaded.ok or not is_valid(ENVIRONMENT, loaded.data):
        return None
    return {str(k): str(v) for k, v in loaded.data.items()}


def _head_state(raw: bytes | None, relpath: str) -> dict[str, str]:
    state = parse_state(raw, relpath)
    if state is None:
        raise InputError("invalid environment file: cannot preview the promotion", place=Place(relpath),
                         hint=f"run `mlops-actions validate {relpath}` to see the problems")
    return state


def _current(base: Mapping[str, bytes | None], paths: Mapping[str, str], base_label: str | None,
             deployments: Mapping[str, Sequence[Deployed]] | None) -> CurrentState:
    if deployments is not None:
        state = {env: current_state(deployments.get(env, ())) for env in paths}
        return CurrentState(GITHUB, state, history={env: tuple(deployments.get(env, ())) for env in paths})
    state, notes = {}, []
    for env, path in paths.items():
        parsed = parse_state(base[path], path)
        if parsed is None:
            notes.append(f"{path} is not valid at the base ref: what runs in {env} is unknown (shown as nothing)")
        state[env] = parsed or {}
    return CurrentState(BASE_FILES, state, ref=base_label, notes=tuple(notes))


def _approvals(policy: Policy, base: Mapping[str, bytes | None],
               paths: Mapping[str, str]) -> dict[str, ApprovalWords]:
    """Each environment's rule in words; CODEOWNERS as the base ref has them (a PR cannot name its own)."""
    text = next((base[p] for p in CODEOWNERS_PATHS if base[p] is not None), None)
    rules = codeowners.parse(text.decode("utf-8", "replace")) if text is not None else None
    return {env.name: approval_words(env.name, env.approvals, paths[env.name],
                                     codeowners.owners_of(rules, paths[env.name]) if rules is not None else None)
            for env in policy.environments}
