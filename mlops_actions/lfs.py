"""git LFS pointer files: recognised by their first line, so a missing `git lfs pull` is named as such."""

from __future__ import annotations

LFS_HEADER = b"version https://git-lfs.github.com/spec/v1\n"
LFS_POINTER_MAX = 1024
PULL_HINT = "run `git lfs pull` (in GitHub Actions: actions/checkout with `lfs: true`)"


def is_pointer(head: bytes) -> bool:
    """True when ``head`` (the first bytes of a file) is a git LFS pointer rather than the content."""
    return head.startswith(LFS_HEADER) and len(head) <= LFS_POINTER_MAX


def pointer_message(display: str) -> str:
    return f"{display} is a git LFS pointer, not the data: the LFS object was not downloaded"
