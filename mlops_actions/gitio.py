"""The one place that runs git: argument lists only (never a shell), failures become ``GitError``.

Pathspecs are always literal (``--literal-pathspecs``), so a path from a spec is never a glob pattern.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from mlops_actions.errors import GitError

MAX_STDERR = 400


@dataclass(frozen=True)
class Git:
    """git commands run in the repository at ``root``."""

    root: Path

    def run(self, *args: str, stdin: bytes | None = None, ok: Sequence[int] = (0,)) -> bytes:
        """stdout of ``git <args>``; ``GitError`` naming the command and git's own message on failure."""
        argv = ["git", "--literal-pathspecs", *args]
        try:
            proc = subprocess.run(argv, cwd=self.root, input=stdin, capture_output=True, check=False)
        except FileNotFoundError as exc:
            raise GitError("git is not installed (or not on PATH)", hint="install git") from exc
        if proc.returncode not in ok:
            raise GitError(_failure(args, proc.stderr))
        return proc.stdout

    def text(self, *args: str, stdin: bytes | None = None) -> str:
        return self.run(*args, stdin=stdin).decode("utf-8", "surrogateescape").strip()

    def try_run(self, *args: str) -> bytes | None:
        """stdout of ``git <args>``, or None when git exits non-zero (for questions like "does X exist")."""
        try:
            return self.run(*args)
        except GitError as exc:
            if "not installed" in exc.message:
                raise
            return None

    def commit_of(self, rev: str) -> str | None:
        """The commit id ``rev`` names, or None when it names no commit."""
        out = self.try_run("rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}")
        return out.decode().strip() if out else None

    def git_path(self, name: str) -> Path:
        """Path of ``name`` inside the repository's git directory (works for worktrees too)."""
        if (self.root / ".git").is_dir():
            return self.root / ".git" / name
        return self.root / self.text("rev-parse", "--git-path", name)


def _failure(args: Sequence[str], stderr: bytes) -> str:
    message = stderr.decode("utf-8", "replace").strip() or "no message"
    if len(message) > MAX_STDERR:
        message = message[:MAX_STDERR] + "..."
    command = " ".join(args[:3])
    if "not a git repository" in message:
        return "not a git repository: run mlops-actions inside a git checkout (or pass -C DIR), or `git init` one"
    return f"git {command} failed: {message}"


def split_z(data: bytes) -> Iterator[str]:
    """The NUL-separated records of ``-z`` output, decoded."""
    for item in data.split(b"\0"):
        if item:
            yield item.decode("utf-8", "surrogateescape")


def read_batch(output: bytes, names: Iterable[str]) -> dict[str, bytes | None]:
    """Parse ``git cat-file --batch`` output for ``names`` (in order): name -> content, None when missing."""
    result: dict[str, bytes | None] = {}
    pos = 0
    for name in names:
        end = output.index(b"\n", pos)
        header = output[pos:end].split(b" ")
        pos = end + 1
        if header[-1] == b"missing" or len(header) < 3:
            result[name] = None
            continue
        size = int(header[2])
        result[name] = output[pos:pos + size]
        pos += size + 1
    return result
