"""Bounds on what we parse: nesting depth and size, checked before a parser can recurse or allocate.

A YAML or JSON document nested 50,000 levels deep crashes a recursive parser: libyaml's composer (C, no
recursion guard) ends the process with SIGSEGV, Python's json raises ``RecursionError``. Convention files,
records, results and payloads are a few levels deep, so anything past ``MAX_NESTING`` is refused first, with
the line and column where the limit was crossed. The cheap pre-check (how many characters could open a level
at all) lets ordinary files skip the scan.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

MAX_NESTING = 100
MAX_JSON_BYTES = 32 * 1024 * 1024  # a JSON file we read (results, event payloads: GitHub caps those at 25 MB)
_JSON_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.S)


class TooDeep(json.JSONDecodeError):
    """Nesting past ``MAX_NESTING``; a ``JSONDecodeError`` (so a ``ValueError``) with line and column."""


def nesting_message(limit: int = MAX_NESTING) -> str:
    return (f"nested more than {limit} levels deep; refusing to parse it (a file of the convention needs a "
            "handful of levels: flatten it)")


def json_too_deep(text: str, limit: int = MAX_NESTING) -> int | None:
    """Offset of the bracket that opens level ``limit + 1`` of a JSON text, or None (strings are skipped)."""
    if text.count("[") + text.count("{") <= limit:
        return None
    depth = 0
    for match in _JSON_TOKEN.finditer(text):
        char = match.group()
        if char in "[{":
            depth += 1
            if depth > limit:
                return match.start()
        elif char in "]}":
            depth -= 1
    return None


def depth(data: Any, limit: int = MAX_NESTING) -> int:
    """Nesting depth of parsed data (aliases followed; shared nodes measured once), capped at ``limit + 1``."""
    memo: dict[int, int] = {}

    def measure(node: Any) -> int:
        if not isinstance(node, dict | list):
            return 0
        key = id(node)
        if key not in memo:
            memo[key] = limit + 1  # a node reached again while being measured is a cycle: too deep
            children = node.values() if isinstance(node, dict) else node
            memo[key] = min(1 + max((measure(c) for c in children), default=0), limit + 1)
        return memo[key]

    return measure(data)


def loads(text: str, **kwargs: Any) -> Any:
    """``json.loads`` that refuses a text nested past ``MAX_NESTING`` with ``TooDeep`` (line, column)."""
    offset = json_too_deep(text)
    if offset is not None:
        raise TooDeep(nesting_message(), text, offset)
    return json.loads(text, **kwargs)


class TooBig(ValueError):
    """A file larger than the bound its reader sets."""

    def __init__(self, path: Path, size: int, limit: int) -> None:
        super().__init__(f"{path.as_posix()} is {size:,} bytes; at most {limit:,} are read")
        self.size = size
        self.limit = limit


def read_text(path: Path, limit: int = MAX_JSON_BYTES) -> str:
    """The UTF-8 text of ``path``, refusing (``TooBig``) more than ``limit`` bytes without reading them all."""
    with path.open("rb") as fh:
        raw = fh.read(limit + 1)
    if len(raw) > limit:
        raise TooBig(path, max(len(raw), path.stat().st_size), limit)
    return raw.decode("utf-8")
