"""``python -m mlops_actions.testing.github_emulator``: serve the emulator until SIGTERM / SIGINT.

The first line on stdout is the API base URL (flushed), e.g. ``http://127.0.0.1:54321``.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .faults import FaultError
from .seed import SeedError


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m mlops_actions.testing.github_emulator",
                                     description="Serve an emulator of GitHub's REST API on 127.0.0.1.")  # fmt: skip
    parser.add_argument("--port", type=int, default=0, help="TCP port on 127.0.0.1 (default 0: any free port)")
    parser.add_argument("--user", action="append", default=[], metavar="LOGIN:TOKEN[:PERMISSION]",
                        help="a user and its token; PERMISSION is read|triage|write|maintain|admin (default write)")
    parser.add_argument("--event", action="append", default=[], metavar="PAYLOAD.json",
                        help="seed repository, people, pull request, review... from a webhook payload")
    parser.add_argument("--repo-dir", type=Path,
                        help="back git data (refs, tags, commits, files) by this git repo; without --event the "
                             "repository is $GITHUB_REPOSITORY, else local/<directory name>")
    parser.add_argument("--state", type=Path, help="restore state from this JSON file and save it on exit")
    parser.add_argument("--faults", type=Path, help="JSON list of injected faults (see the faults module)")
    parser.add_argument("--strict", action="store_true",
                        help="answer 500 when a response does not conform to GitHub's OpenAPI description")
    return parser  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        emulator = _emulator(args)
    except (FaultError, SeedError, OSError, ValueError) as error:
        print(f"github-emulator: {error}", file=sys.stderr)
        return 1
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    with emulator:
        print(emulator.url, flush=True)
        while not stop.wait(0.5):
            pass
    return 0


def _emulator(args: argparse.Namespace) -> Any:
    from . import GitHubEmulator

    repo_dir = args.repo_dir
    if repo_dir is not None and not ((repo_dir / ".git").exists() or (repo_dir / "HEAD").is_file()):
        raise ValueError(f"--repo-dir {args.repo_dir}: not a git repository")
    emulator = GitHubEmulator(users=args.user, events=args.event, repo_dir=repo_dir, state_file=args.state,
                              faults=args.faults or (), port=args.port, strict=args.strict)  # fmt: skip
    if repo_dir is not None and not emulator.state.repos:
        emulator.add_repo(os.environ.get("GITHUB_REPOSITORY") or f"local/{repo_dir.resolve().name}")
    return emulator


if __name__ == "__main__":
    raise SystemExit(main())
