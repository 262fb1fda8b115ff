"""Loading convention YAML files: a fast safe path, and a round-trip path that knows lines and columns.

The fast path (C-accelerated safe loader) is used for every file; only files with problems are parsed
again with the round-trip loader to find where each problem is. Every failure becomes a ``Problem``
with a place, never an exception escaping to the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import CollectionEndEvent, CollectionStartEvent
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.resolver import VersionedResolver

try:
    from ruamel.yaml.cyaml import CParser
except ImportError:  # ruamel.yaml.clib not installed: the pure-Python parser
    CParser = None

from mlops_actions.bounded import MAX_NESTING, depth, nesting_message
from mlops_actions.convention.problems import Problem

MAX_FILE_BYTES = 1024 * 1024
MAX_EXPANDED_NODES = 100_000


@dataclass(frozen=True)
class Loaded:
    """A parsed file: its data when it parsed, else the problems that stopped it."""

    path: str
    data: Any
    problems: tuple[Problem, ...] = ()
    tree: Any = None  # the composed node tree (start marks for every node), kept to locate problems

    @property
    def ok(self) -> bool:
        return not self.problems


class _FastResolver(VersionedResolver):
    """The YAML 1.2 resolver with its lookups cached (they dominate parse time): the version's implicit
    resolvers are built once per process, not once per file, and a plain scalar's tag is looked up once per
    distinct text (it depends on nothing else: no path resolvers here).

    Convention files are YAML 1.2; a file with a ``%YAML`` directive takes the stock resolver instead.
    """

    _shared: Any = None
    _tags: dict[str, Any] = {}  # noqa: RUF012 -- a per-process memo, shared on purpose

    @property
    def processing_version(self) -> Any:
        return (1, 2)

    @property
    def versioned_resolver(self) -> Any:
        cls = type(self)
        if cls._shared is None:
            cls._shared = VersionedResolver.versioned_resolver.fget(self)  # type: ignore[attr-defined]
        return cls._shared

    def resolve(self, kind: Any, value: Any, implicit: Any) -> Any:
        if kind is not ScalarNode or not implicit[0] or self.yaml_path_resolvers:
            return super().resolve(kind, value, implicit)
        tags = _FastResolver._tags
        tag = tags.get(value)
        if tag is None:
            if len(tags) >= MAX_TAG_MEMO:
                tags.clear()
            tag = tags[value] = super().resolve(kind, value, implicit)
        return tag


MAX_TAG_MEMO = 50_000


def _safe_yaml(*, fast: bool = True) -> YAML:
    yaml = YAML(typ="safe", pure=False)
    yaml.allow_duplicate_keys = False
    if fast:
        yaml.Resolver = _FastResolver
    return yaml


def _loader_class(yaml: YAML) -> Any:
    """ruamel's loader for the C parser (parser, safe constructor and resolver in one object), as
    ``YAML.get_constructor_parser`` makes it -- but one class per process: ruamel defines a new class at every
    load. None when the C parser is not installed (ruamel then reuses one pure-Python loader anyway)."""
    parser, constructor, resolver = yaml.Parser, yaml.Constructor, yaml.Resolver
    if parser is not CParser or constructor is None:
        return None
    allow, version = yaml.allow_duplicate_keys, yaml.version

    class _Loader(parser, constructor, resolver):  # type: ignore[misc,valid-type]
        def __init__(self, stream: str) -> None:
            parser.__init__(self, stream)
            self._parser = self._composer = self
            constructor.__init__(self, loader=self)
            self.allow_duplicate_keys = allow
            resolver.__init__(self, version=version, loadumper=self)

    return _Loader


_SAFE = _safe_yaml()
_STOCK = _safe_yaml(fast=False)
_SAFE_LOADER = _loader_class(_SAFE)


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
    deep = too_deep(text, display)
    if deep is not None:
        return Loaded(display, None, (deep,))
    try:
        data, tree = _load_with_tree(_STOCK if text.lstrip().startswith("%YAML") else _SAFE, text)
    except MarkedYAMLError as exc:
        return Loaded(display, None, (_marked_problem(display, exc),))
    except (YAMLError, RecursionError, ValueError, TypeError) as exc:
        return Loaded(display, None, (Problem(display, 1, 1, "", f"not valid YAML: {exc}"),))
    if "&" in text and expanded_size(data) > MAX_EXPANDED_NODES:  # no anchor, no alias: nothing can expand
        return Loaded(display, None, (Problem(display, 1, 1, "", _bomb_message()),))
    if "&" in text and depth(data) > MAX_NESTING:  # aliases nest without nesting the text
        return Loaded(display, None, (Problem(display, 1, 1, "", "YAML aliases: " + nesting_message()),))
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else f"a single {type(data).__name__} value"
        problem = Problem(display, 1, 1, "", f"the top level is {kind}; expected a mapping of keys")
        return Loaded(display, None, (problem,))
    return Loaded(display, data, tree=tree)


def too_deep(text: str, display: str, limit: int = MAX_NESTING) -> Problem | None:
    """A problem at the collection that opens level ``limit + 1``, or None. Runs on parser events (libyaml's
    parser keeps an explicit stack) before the composer, whose C recursion would crash on deep input."""
    if sum(text.count(c) for c in "[{-?:") <= limit:  # every level needs one of these: nothing can be deep
        return None
    depth = 0
    try:
        for event in _SAFE.parse(text):
            if isinstance(event, CollectionStartEvent):
                depth += 1
                if depth > limit:
                    mark = event.start_mark
                    return Problem(display, mark.line + 1, mark.column + 1, "", "YAML " + nesting_message(limit))
            elif isinstance(event, CollectionEndEvent):
                depth -= 1
    except YAMLError:
        return None  # a syntax error: the real parse reports it with its place
    return None


def _load_with_tree(yaml: YAML, text: str) -> tuple[Any, Any]:
    """``yaml.load(text)`` that also returns the composed node tree: one C parse serves both."""
    yaml.doc_infos[:] = []
    yaml.tags = {}
    if yaml is _SAFE and _SAFE_LOADER is not None:
        constructor = parser = _SAFE_LOADER(text)
    else:
        constructor, parser = yaml.get_constructor_parser(text)
    try:
        tree = constructor.composer.get_single_node()
        if tree is None:
            return None, None
        try:
            return _Builder(constructor).build(tree), tree
        except _Fallback:
            return constructor.construct_document(tree), tree
    finally:
        parser.dispose()


class _Fallback(Exception):
    """The node tree has something the quick builder leaves to ruamel (explicit tags, merges, duplicates)."""


_CORE = "tag:yaml.org,2002:"
_PLAIN_INT = re.compile(r"[-+]?[0-9]+\Z")
_PLAIN_FLOAT = re.compile(r"[-+]?([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?\Z")


class _Builder:
    """Builds Python data from a composed tree for the common node kinds, as ruamel's safe constructor
    would; anything unusual raises ``_Fallback`` and ruamel's constructor does the whole document."""

    def __init__(self, constructor: Any) -> None:
        self.constructor = constructor
        self.memo: dict[int, Any] = {}

    def build(self, node: Any) -> Any:
        key = id(node)
        if key in self.memo:
            return self.memo[key]
        tag = node.ctag
        if tag is None or tag.handle is not None or not str(tag.suffix).startswith(_CORE):
            raise _Fallback
        kind = tag.suffix[len(_CORE):]
        if kind == "map":
            return self._mapping(node, key)
        if kind == "seq":
            result: list[Any] = []
            self.memo[key] = result
            result.extend(self.build(item) for item in node.value)
            return result
        return self._scalar(kind, node)

    def _mapping(self, node: Any, key: int) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        self.memo[key] = result
        for key_node, value_node in node.value:
            name = self.build(key_node)
            if isinstance(name, dict | list) or name in result or key_node.ctag.suffix == _CORE + "merge":
                raise _Fallback
            result[name] = self.build(value_node)
        return result

    def _scalar(self, kind: str, node: Any) -> Any:
        value = node.value
        if kind == "str":
            return value
        if kind == "null":
            return None
        if kind == "bool":
            return self.constructor.construct_yaml_bool(node)
        if kind == "int" and _PLAIN_INT.match(value):
            return int(value)
        if kind == "float" and _PLAIN_FLOAT.match(value):
            return float(value)
        if kind in ("int", "float"):
            return getattr(self.constructor, f"construct_yaml_{kind}")(node)
        raise _Fallback


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
        memo[key] = limit + 1  # a node reached again while being sized is a cycle: too big
        if isinstance(node, dict):
            total = 1 + sum(size(k) + size(v) for k, v in node.items())
        elif isinstance(node, list):
            total = 1 + sum(size(v) for v in node)
        else:
            total = 1
        memo[key] = min(total, limit + 1)
        return memo[key]

    return size(data)


def scalar_value(text: str) -> Any:
    """What YAML makes of ``text`` as a plain scalar (``1_000`` -> 1000, ``~`` -> None), by the loader
    convention files use; the text itself when it is not a single scalar."""
    try:
        data, _ = _load_with_tree(_SAFE, f"- {text}\n")
    except (YAMLError, ValueError, TypeError):
        return text
    return data[0] if isinstance(data, list) and len(data) == 1 else text


def compose(text: str) -> Any:
    """The node tree of ``text`` (C parser), whose nodes carry start marks: for locating problems.
    ``ValueError`` for text nested too deep to compose safely."""
    deep = too_deep(text, "text")
    if deep is not None:
        raise ValueError(deep.message)
    return _SAFE.compose(text)
