"""``mlops-actions refresh MODEL``: has the data pinned by URL + sha256 changed at its source? Then re-pin it.

Semantics (two modes, one question each):

- **refresh** (default): the source is *expected to change* (a monthly export, a feedback file). It is read
  twice; two different answers mean an unstable source and nothing happens (exit 1). When both reads equal
  the pin: "up to date", exit 0, nothing written. Otherwise the spec's ``data.sha256`` is updated in place
  (comments and layout kept), the bytes are stored in ``train``'s URL cache, and with ``--publish`` a pull
  request from the branch ``mlops-actions/refresh-<model>`` proposes the new pin -- opened once, then
  updated by later runs. Merging it runs the normal pipeline: plan sees the new data hash, train retrains,
  the report compares with production, and the usual approvals apply.
- **verify** (``--verify``): the pin is *expected to hold*. A first read that does not match the pin, or a
  second read that differs, is refused (exit 1) and nothing is written.

Only data pinned by ``url`` + ``sha256`` can be refreshed; data kept in the repository (``path``) changes
by pull request like any other file.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import spec_relpath
from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.validation import load_spec
from mlops_actions.errors import EXIT_OK, InputError, MlopsError, Place
from mlops_actions.monitoring import refresh as core
from mlops_actions.monitoring.refresh import Repin
from mlops_actions.reporting.refresh import pr_body, pr_title
from mlops_actions.training.spec_places import SpecPlaces

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

BRANCH_PREFIX = "mlops-actions/refresh-"


Proposer = Callable[[Repin], Any]  # opens or updates the pull request; returns the GitHub layer's result


@dataclass(frozen=True)
class RefreshOptions:
    """What the user asked of ``refresh``: which model; ``verify`` the pin instead of re-pinning; with
    ``skip_unpinned``, data kept in the repository is a notice and exit 0, not an error (a workflow that
    refreshes every monitored model meets models of both kinds)."""

    model: str
    verify: bool = False
    skip_unpinned: bool = False


def refresh(root: Path, options: RefreshOptions, *, runtime: ActionsRuntime, propose: Proposer | None = None,
            fetcher: core.Fetch = core.fetch, out: TextIO | None = None) -> int:
    """Check the source of the model's pinned data; re-pin (and propose) when it changed. Exit 0 or raises."""
    model, verify = options.model, options.verify
    stream = out or sys.stdout
    spec = load_spec(root, model)
    relpath = spec.spec_path
    if options.skip_unpinned and not (spec.data.url and spec.data.sha256):
        message = f"{model}: the data is a file in the repository ({spec.data.path}); nothing to refresh"
        runtime.command("notice", message + " (new data arrives by pull request)", title="mlops-actions refresh")
        print(message, file=stream)
        runtime.set_output("changed", "false")
        return EXIT_OK
    url, pinned = pinned_source(root, spec, relpath)
    try:
        version, fetcher = _versioned(spec, url, verify, fetcher)
        check = core.check_source(url, pinned, expect_pin=verify, fetcher=fetcher)
    except MlopsError as exc:  # name the spec line the URL comes from
        if exc.place is None:
            exc.place = _place_of(root, relpath, "url")
        raise
    runtime.set_output("changed", "true" if check.changed else "false")
    if not check.changed:
        print(f"{relpath}: up to date (the source still serves sha256 {pinned[:12]}…)", file=stream)
        return EXIT_OK
    text = core.updated_spec(_read(root, relpath), check.current, relpath)
    if version is not None and version != spec.data.version_id:
        text = core.updated_version(text, version, relpath)
    repin = Repin(model, relpath, url, pinned, check.current, len(check.data), text, version)
    print(f"{relpath}: the source changed; data.sha256 {pinned[:12]}… → {check.current[:12]}… "
          f"({repin.size:,} bytes)", file=stream)
    if propose is not None:
        propose(repin)  # first: when GitHub refuses, the work tree is left as it was
    cached = core.store_in_cache(root, check)
    write_atomically(root / relpath, repin.text)
    print(f"{relpath}: pin updated; the data is cached in {cached} for train", file=stream)
    return EXIT_OK


def _versioned(spec: ModelSpec, url: str, verify: bool, fetcher: core.Fetch) -> tuple[str | None, core.Fetch]:
    """For an object pinned by version id: the version to read (the pinned one to verify, else the store's
    latest) and a fetcher that reads exactly that version twice; otherwise ``fetcher`` unchanged."""
    from mlops_actions.training import sources

    if spec.data.version_id is None or not sources.is_cloud(url):
        return None, fetcher
    version = spec.data.version_id if verify else sources.latest_version(url) or spec.data.version_id
    return version, lambda u: sources.read_bytes(u, version, limit=core.MAX_BYTES)


def pinned_source(root: Path, spec: ModelSpec, relpath: str) -> tuple[str, str]:
    """The URL and pin of the spec's data; an input error naming ``data.path`` when it is a repository file."""
    if spec.data.url and spec.data.sha256:
        return spec.data.url, spec.data.sha256
    raise InputError(f"the data of {spec.name} is a file in the repository ({spec.data.path}), not a URL pinned by "
                     "sha256, so there is nothing to refresh", place=_place_of(root, relpath, "path"),
                     hint="data kept in the repository changes by pull request; refresh re-pins `data.url` + "
                          "`data.sha256`")


def _place_of(root: Path, relpath: str, key: str) -> Place:
    """Where ``data.<key>``'s value is in the spec (just the file when it cannot be told)."""
    return SpecPlaces.load(root, relpath).at("data", key)


def _read(root: Path, relpath: str) -> str:
    return (root / relpath).read_bytes().decode("utf-8")  # line endings kept as they are


def write_atomically(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` in one step (a temporary file in the same folder, then rename)."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".partial-")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        os.chmod(temporary, path.stat().st_mode & 0o777)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# -- the pull request -------------------------------------------------------------------------------------

def require_committed(root: Path, model: str, base_sha: str) -> None:
    """The pull request changes the spec as committed at ``base_sha``: refuse a work tree that differs."""
    from mlops_actions.gitio import Git

    relpath = spec_relpath(model)
    if not (root / relpath).is_file():
        return  # load_spec names the problem
    committed = Git(root).try_run("cat-file", "blob", f"{base_sha}:{relpath}")
    if committed != (root / relpath).read_bytes():
        state = "is not in" if committed is None else "differs from the one in"
        raise InputError(f"{relpath} {state} commit {base_sha[:12]}, which the pull request would start from",
                         place=Place(relpath),
                         hint="commit the spec (or restore it with `git restore`) and run refresh --publish again")


def branch_of(model: str) -> str:
    return f"{BRANCH_PREFIX}{model}"


def proposer(gh: GitHubPort, base_sha: str, *, runtime: ActionsRuntime, base: str | None = None,
             out: TextIO | None = None) -> Proposer:
    """Open or update the refresh pull request through the GitHub layer (the CLI builds ``gh``): one commit
    on ``base_sha`` into branch ``base`` (default: the repository's default branch)."""
    from mlops_actions.github.proposals import Proposal

    def propose(repin: Repin) -> Any:
        proposal = Proposal(branch=branch_of(repin.model), base_sha=base_sha, path=repin.relpath,
                            content=repin.text.encode("utf-8"), title=pr_title(repin),
                            message=f"Refresh {repin.model}'s data: pin sha256 {repin.new[:12]}",
                            body=pr_body(repin, gh.context.run_url), base=base)
        result = gh.propose_file(proposal)
        runtime.set_output("pull-request", str(result.pull.number))
        print(f"pull request #{result.pull.number} {result.action} from {proposal.branch}", file=out or sys.stdout)
        return result
    return propose
