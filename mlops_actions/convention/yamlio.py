"""Loading convention YAML files: a fast safe path, and a round-trip path that knows lines and columns.

The fast path (C-accelerated safe loader) is used for every file; only files with problems are parsed
again with the round-trip loader to find where each problem is. Every failure becomes a ``Problem``
with a place, never an exception escaping to the user.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from mlops_actions.convention.problems import Problem

MAX_FILE_BYTES = 1024 * 1024
MAX_EXPANDED_NODES = 100_000


@dataclass(frozen=True)
class Loaded:
    """A parsed file: its data when it parsed, else the problems that stopped it."""

    path: str
    data: Any
    problems: tuple[Problem, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def _safe_yaml() -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.allow_duplicate_keys = False
    return yaml


_SAFE = _safe_yaml()


def read_text(path: Path, display: str) -> tuple[str | None, Problem | None]:
    """Read a file as UTF-8 text within the size limit; a problem instead of an exception."""
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            return None, Problem(display, 1, 1, "", _too_big(size))
        raw = path.read_bytes()
    except OSError as exc:
        return None, Problem(display, None, None, "", f"cannot read the file: {exc.strerror or exc}")
    return decode(raw, display)


def _too_big(size: int) -> str:
    return (f"file is {size / 1e6:.1f} MB; convention files must be at most {MAX_FILE_BYTES // 1024} KiB "
            "(keep data in data files, not in YAML)")


def decode(raw: bytes, display: str) -> tuple[str | None, Problem | None]:
    """Decode bytes as UTF-8 text, refusing binary content with the place of the first bad byte."""
    if b"\x00" in raw:
        line, col = _line_col(raw, raw.index(b"\x00"))
        return None, Problem(display, line, col, "", "this is a binary file, not YAML text (NUL byte found)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _line_col(raw, exc.start)
        return None, Problem(display, line, col, "",
                             f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x}); save it as UTF-8")
    return text.removeprefix("\ufeff"), None


def _line_col(raw: bytes, offset: int) -> tuple[int, int]:
    head = raw[:offset]
    line = head.count(b"\n") + 1
    col = offset - (head.rfind(b"\n") + 1) + 1
    return line, col


def load(path: Path, display: str) -> Loaded:
    """Parse one convention file with the fast safe loader."""
    text, problem = read_text(path, display)
    if problem is not None:
        return Loaded(display, None, (problem,))
    return parse_text(text or "", display)


def parse_text(text: str, display: str) -> Loaded:
    if not text.strip() or _only_comments(text):
        return Loaded(display, None, (Problem(display, 1, 1, "", "file is empty; expected a YAML mapping"),))
    try:
        data = _SAFE.load(text)
    except MarkedYAMLError as exc:
        return Loaded(display, None, (_marked_problem(display, exc),))
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:
        return Loaded(display, None, (Problem(display, 1, 1, "", f"not valid YAML: {exc}"),))
    if expanded_size(data) > MAX_EXPANDED_NODES:
        return Loaded(display, None, (Problem(display, 1, 1, "", _bomb_message()),))
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        problem = Problem(display, 1, 1, "", f"the top level is {kind}; expected a mapping of keys")
        return Loaded(display, None, (problem,))
    return Loaded(display, data)


def _bomb_message() -> str:
    return (f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes (an alias bomb?); "
            "refusing to process it. Write the values out instead of nesting aliases.")


def _only_comments(text: str) -> bool:
    return all(not line.strip() or line.lstrip().startswith("#") or line.strip() in ("---", "...")
               for line in text.splitlines())


def _marked_problem(display: str, exc: MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark is not None else 1
    col = mark.column + 1 if mark is not None else 1
    what = exc.problem or "not valid YAML"
    context = f" ({exc.context})" if exc.context and "duplicate" not in what else ""
    message = f"YAML syntax: {what}{context}"
    if "\t" in what or "tab" in what.lower():
        message += "; indent with spaces, not tabs"
    if "duplicate key" in what:
        message = f"YAML: {what}; each key may appear once in a mapping"
    return Problem(display, line, col, "", message)


def expanded_size(data: Any, limit: int = MAX_EXPANDED_NODES) -> int:
    """Node count of ``data`` with every alias expanded, computed in time linear in distinct nodes."""
    memo: dict[int, int] = {}

    def size(node: Any) -> int:
        key = id(node)
        if key in memo:
            return memo[key]
        if isinstance(node, dict):
            total = 1 + sum(size(k) + size(v) for k, v in node.items())
        elif isinstance(node, list):
            total = 1 + sum(size(v) for v in node)
        else:
            total = 1
        memo[key] = min(total, limit + 1)
        return memo[key]

    return size(data)


def roundtrip(text: str) -> Any:
    """Parse with the round-trip loader so that nodes know their line and column (0-based)."""
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = True
    return yaml.load(text)
