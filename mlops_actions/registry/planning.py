"""What needs training, and why: the work tree's fingerprints against the base ref's and the latest version
records (``training.changes`` decides each model). Reads no data file. ``plan``, ``run`` and ``report`` start
from it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.errors import GitError, InputError, UsageError
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git
from mlops_actions.registry.records import VersionRef, latest_versions
from mlops_actions.training.changes import Inputs, ModelPlan, needs_record_spec, plan_models
from mlops_actions.training.fingerprint import Snapshot, snapshots_at, snapshots_worktree

DEFAULT_BRANCH = "main"


@dataclass(frozen=True)
class Base:
    """The commit a plan compares the work tree with, and how it was chosen."""

    label: str
    commit: str


def compute_plan(root: Path, chosen: Base | None, *, models: Sequence[str] | None = None,
                 versions: Mapping[str, str] | None = None) -> list[ModelPlan]:
    """Fingerprints of the work tree and the base, the latest records, and the decision for each model."""
    _check_names(models)
    cache = RepoCache(Git(root))
    head = snapshots_worktree(root, models, versions=versions, cache=cache)
    base = snapshots_at(root, chosen.commit, models, versions=versions, cache=cache) if chosen else None
    _check_known(models, head, base)
    skipped: list[VersionRef] = []
    records = latest_versions(root, cache, skipped)
    specs = record_specs(root, head, base, records, versions)
    cache.save()
    label = chosen.label.split(" ", 1)[0] if chosen else "base"
    ignored: dict[str, list[str]] = {}
    for ref in reversed(skipped):
        ignored.setdefault(ref.model, []).append(f"{ref.tag} ignored: {ref.problem}")
    return plan_models(Inputs(head, base, records, label, specs, ignored))


def resolve_base(git: Git, ref: str | None, base_branch: str | None = None) -> Base | None:
    """``ref`` when given; else the merge-base with ``origin/<base_branch or main>`` (when that is not HEAD
    itself), else ``HEAD~1``, else None (a repository without history: no base)."""
    if ref is not None:
        commit = git.commit_of(ref)
        if commit is None:
            raise GitError(f"--base {ref!r} names no commit, branch or tag in this repository",
                           hint="fetch it first (actions/checkout with fetch-depth: 0), or pass another --base")
        return Base(ref, commit)
    head = git.commit_of("HEAD")
    if head is None:
        return None
    upstream = f"origin/{base_branch or DEFAULT_BRANCH}"
    merge_base = git.try_run("merge-base", "HEAD", upstream) if git.commit_of(upstream) else None
    if merge_base and merge_base.decode().strip() != head:
        commit = merge_base.decode().strip()
        return Base(f"{upstream} (merge-base {commit[:10]})", commit)
    parent = git.commit_of("HEAD~1")
    return Base(f"HEAD~1 ({parent[:10]})", parent) if parent else None


def _check_names(models: Sequence[str] | None) -> None:
    """A model name is one folder name under models/: no empty list, no path ('a/b', '..')."""
    if models is not None and not models:
        raise UsageError("--models names no model", hint="pass comma-separated model names, or leave --models out "
                         "to plan every model")
    bad = [n for n in models or () if not n or n in (".", "..") or "/" in n or "\\" in n]
    if bad:
        raise InputError(f"unknown model(s): {', '.join(map(repr, bad))} (a model name is a folder name under "
                         "models/, not a path)", hint="check --models; names are the folder names under models/")


def _check_known(models: Sequence[str] | None, head: Mapping[str, Snapshot],
                 base: Mapping[str, Snapshot] | None) -> None:
    unknown = sorted(set(models or ()) - set(head) - set(base or {}))
    if unknown:
        raise InputError(f"unknown model(s): {', '.join(unknown)} (no models/<name>/model.yaml in the work tree "
                         "or the base)", hint="check --models; names are the folder names under models/")


def record_specs(root: Path, head: Mapping[str, Snapshot], base: Mapping[str, Snapshot] | None,
                 records: Mapping[str, VersionRef], versions: Mapping[str, str] | None) -> dict[str, Any]:
    """Specs at the records' commits, only for models whose spec differs from the record's in a way the
    base comparison does not already show (so old → new values can be listed)."""
    by_commit: dict[str, list[str]] = {}
    for name, snap in head.items():
        record = records.get(name)
        if needs_record_spec(snap, (base or {}).get(name), record):
            assert record is not None and record.record is not None
            by_commit.setdefault(str(record.record["commit"]), []).append(name)
    found: dict[str, Any] = {}
    for commit, names in sorted(by_commit.items()):
        try:
            snaps = snapshots_at(root, commit, names, versions=versions)
        except GitError:
            continue  # the record's commit is not fetched: reasons stay generic
        found.update({n: s.raw for n, s in snaps.items() if s.raw is not None})
    return found
