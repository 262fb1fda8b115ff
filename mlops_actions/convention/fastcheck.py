"""A compiled yes/no check for the JSON Schema subset our schemas use: the fast path of ``validate``.

``compile_check(schema, resolve)`` turns a schema into nested closures (no code generation, no eval) that
answer "is this instance valid?" several times faster than a general validator. Only when it says "no"
does ``validate`` run jsonschema to explain why, so jsonschema stays the authority on messages and on
any disagreement. A schema using a keyword outside the subset compiles to None (no fast path).
A differential test checks the closures against jsonschema on thousands of mutated documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sized
from typing import Any

Check = Callable[[Any], bool]
Resolve = Any  # a ``referencing`` Resolver: ``.lookup(ref)`` gives ``.contents`` and a ``.resolver`` for its base

_ANNOTATIONS = frozenset({"description", "title", "examples", "$schema", "$id", "$defs", "default", "$comment"})


class Unsupported(Exception):
    """The schema uses a keyword the fast path does not implement."""


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


_TYPES: dict[str, Check] = {
    "object": lambda x: isinstance(x, dict),
    "array": lambda x: isinstance(x, list),
    "string": lambda x: isinstance(x, str),
    "boolean": lambda x: isinstance(x, bool),
    "null": lambda x: x is None,
    "number": _is_number,
    "integer": lambda x: _is_number(x) and (isinstance(x, int) or float(x).is_integer()),
}


def _key(value: Any) -> Any:
    """A hashable identity for JSON equality where True != 1 and 1 == 1.0."""
    if isinstance(value, bool) or value is None:
        return ("b", value)
    if isinstance(value, int | float):
        return ("n", value)
    if isinstance(value, str):
        return ("s", value)
    if isinstance(value, list):
        return ("a", tuple(_key(v) for v in value))
    if isinstance(value, dict):
        return ("o", tuple(sorted((k, _key(v)) for k, v in value.items())))
    return ("?", id(value))


def compile_check(schema: Mapping[str, Any] | bool, resolve: Resolve) -> Check | None:
    """The fast check of ``schema``, or None when it uses keywords outside the subset."""
    try:
        return _compile(schema, resolve, {})
    except Unsupported:
        return None


def _compile(schema: Mapping[str, Any] | bool, resolve: Resolve, memo: dict[int, Check]) -> Check:
    if schema is True:
        return lambda x: True
    if schema is False:
        return lambda x: False
    assert isinstance(schema, Mapping)
    if id(schema) in memo:
        return memo[id(schema)]
    found = [_keyword(k, v, schema, resolve, memo) for k, v in schema.items() if k not in _ANNOTATIONS]
    check = _all([c for c in found if c is not None])
    memo[id(schema)] = check
    return check


def _all(checks: list[Check]) -> Check:
    """``lambda x: all(c(x) for c in checks)``, without a generator per call for the usual one or two checks
    (the generators were half of the check's time on 5,000 specs)."""
    if not checks:
        return lambda x: True
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        first, second = checks
        return lambda x: first(x) and second(x)

    def check(x: Any) -> bool:
        for c in checks:  # noqa: SIM110 -- a loop, not all(): no generator object per call
            if not c(x):
                return False
        return True

    return check


def _keyword(key: str, value: Any, schema: Mapping[str, Any], resolve: Resolve,
             memo: dict[int, Check]) -> Check | None:
    builder = _BUILDERS.get(key)
    if builder is None:
        if key in _HANDLED_ELSEWHERE:
            return None
        raise Unsupported(key)
    return builder(value, schema, resolve, memo)


def _type(value: Any, *_: Any) -> Check:
    names = [value] if isinstance(value, str) else list(value)
    tests = [_TYPES[n] for n in names]
    if len(tests) == 1:
        return tests[0]
    return lambda x: any(t(x) for t in tests)


def _enum(value: Any, *_: Any) -> Check:
    allowed = {_key(v) for v in value}
    return lambda x: _key(x) in allowed


def _const(value: Any, *_: Any) -> Check:
    expected = _key(value)
    return lambda x: _key(x) == expected


def _pattern(value: str, *_: Any) -> Check:
    regex = re.compile(value)
    return lambda x: not isinstance(x, str) or regex.search(x) is not None


def _bound(op: Callable[[Any, Any], bool]) -> Callable[..., Check]:
    def build(value: Any, *_: Any) -> Check:
        return lambda x: not _is_number(x) or op(x, value)
    return build


def _length(kind: type[Sized], op: Callable[[int, int], bool]) -> Callable[..., Check]:
    def build(value: int, *_: Any) -> Check:
        return lambda x: not isinstance(x, kind) or op(len(x), value)
    return build


def _unique(value: bool, *_: Any) -> Check | None:
    if not value:
        return None
    return lambda x: not isinstance(x, list) or len({_key(v) for v in x}) == len(x)


def _required(value: list[str], *_: Any) -> Check:
    keys = frozenset(value)
    return lambda x: not isinstance(x, dict) or x.keys() >= keys


def _dependent_required(value: Mapping[str, list[str]], *_: Any) -> Check:
    return lambda x: not isinstance(x, dict) or all(all(d in x for d in deps) for k, deps in value.items() if k in x)


def _properties(value: Mapping[str, Any], schema: Mapping[str, Any], resolve: Resolve,
                memo: dict[int, Check]) -> Check:
    props = {k: _compile(v, resolve, memo) for k, v in value.items()}
    extra = schema.get("additionalProperties", True)
    extra_check = _compile(extra, resolve, memo)

    def check(x: Any) -> bool:
        if not isinstance(x, dict):
            return True
        for k, v in x.items():
            sub = props.get(k)
            if not (sub(v) if sub is not None else extra_check(v)):
                return False
        return True

    return check


def _additional(value: Any, schema: Mapping[str, Any], resolve: Resolve, memo: dict[int, Check]) -> Check | None:
    if "properties" in schema:
        return None  # handled together with properties
    if "patternProperties" in schema:
        raise Unsupported("patternProperties")
    sub = _compile(value, resolve, memo)
    return lambda x: not isinstance(x, dict) or all(sub(v) for v in x.values())


def _property_names(value: Any, schema: Mapping[str, Any], resolve: Resolve, memo: dict[int, Check]) -> Check:
    sub = _compile(value, resolve, memo)
    return lambda x: not isinstance(x, dict) or all(sub(k) for k in x)


def _items(value: Any, schema: Mapping[str, Any], resolve: Resolve, memo: dict[int, Check]) -> Check:
    sub = _compile(value, resolve, memo)

    def check(x: Any) -> bool:
        if isinstance(x, list):
            for v in x:
                if not sub(v):
                    return False
        return True

    return check


def _ref(value: str, schema: Mapping[str, Any], resolve: Resolve, memo: dict[int, Check]) -> Check:
    resolved = resolve.lookup(value)
    target = resolved.contents
    if id(target) in memo:  # a cycle or a shared definition: call through the memo lazily
        return lambda x: memo[id(target)](x)
    return _compile(target, resolved.resolver, memo)


def _one_of(value: list[Any], schema: Mapping[str, Any], resolve: Resolve, memo: dict[int, Check]) -> Check:
    subs = [_compile(v, resolve, memo) for v in value]
    return lambda x: sum(1 for s in subs if s(x)) == 1


def _any_of(value: list[Any], schema: Mapping[str, Any], resolve: Resolve, memo: dict[int, Check]) -> Check:
    subs = [_compile(v, resolve, memo) for v in value]
    return lambda x: any(s(x) for s in subs)


def _not(value: Any, schema: Mapping[str, Any], resolve: Resolve, memo: dict[int, Check]) -> Check:
    sub = _compile(value, resolve, memo)
    return lambda x: not sub(x)


_HANDLED_ELSEWHERE: frozenset[str] = frozenset()
_BUILDERS: dict[str, Callable[..., Check | None]] = {
    "type": _type, "enum": _enum, "const": _const, "pattern": _pattern,
    "minimum": _bound(lambda x, v: x >= v), "maximum": _bound(lambda x, v: x <= v),
    "exclusiveMinimum": _bound(lambda x, v: x > v), "exclusiveMaximum": _bound(lambda x, v: x < v),
    "minLength": _length(str, lambda n, v: n >= v), "maxLength": _length(str, lambda n, v: n <= v),
    "minItems": _length(list, lambda n, v: n >= v), "maxItems": _length(list, lambda n, v: n <= v),
    "minProperties": _length(dict, lambda n, v: n >= v), "maxProperties": _length(dict, lambda n, v: n <= v),
    "uniqueItems": _unique, "required": _required, "dependentRequired": _dependent_required,
    "properties": _properties, "additionalProperties": _additional, "propertyNames": _property_names,
    "items": _items, "$ref": _ref, "oneOf": _one_of, "anyOf": _any_of, "not": _not,
}
