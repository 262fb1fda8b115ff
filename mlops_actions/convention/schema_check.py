"""Turn JSON Schema errors into ``Problem``s that point at the offending node.

Unknown keys point at the key (with "did you mean"), wrong values at the value, missing keys at the
parent mapping. ``oneOf``/``anyOf`` noise is reduced with ``best_match``.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from mlops_actions.convention.locate import locate_node, node_at
from mlops_actions.convention.problems import Problem, pointer
from mlops_actions.convention.schemas import is_valid, validator

if TYPE_CHECKING:  # jsonschema loads only when a file is invalid: valid files take the compiled fast path
    from jsonschema import ValidationError

MAX_MESSAGE = 240


def schema_errors(name: str, data: Any) -> list[ValidationError]:
    """Every schema error of ``data``; the compiled fast check answers first for valid data."""
    if is_valid(name, data):
        return []
    return list(validator(name).iter_errors(data))


def schema_problems(display: str, errors: list[ValidationError], tree: Any) -> list[Problem]:
    """Problems for ``errors`` of one file, located in its composed node tree ``tree``."""
    problems: list[Problem] = []
    for error in errors:
        for parts, at, message in _explain(error):
            message = _with_yaml_typing(tree, parts, at, error, message)
            line, col = locate_node(tree, parts, at=at)
            problems.append(Problem(display, line, col, pointer(parts), message))
    return sorted(set(problems))


def _explain(error: ValidationError) -> Iterator[tuple[list[Any], str, str]]:
    from jsonschema.exceptions import best_match

    alternatives = _alternative_keys(error)
    if alternatives:
        yield list(error.absolute_path), "container", alternatives
        return
    if error.validator in ("oneOf", "anyOf") and error.context:
        error = best_match(error.context)
        if error.validator in ("oneOf", "anyOf") and error.context:
            error = best_match(error.context)
    parts = list(error.absolute_path)
    kind = error.validator
    if kind == "additionalProperties" and isinstance(error.instance, dict):
        yield from _unknown_keys(error, parts)
    elif kind == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        yield parts, "container", f"missing required key '{missing}'"
    elif "propertyNames" in error.schema_path:
        yield [*parts, error.instance], "key", f"invalid key {_short(error.instance)}: {_short_message(error)}"
    elif kind == "pattern":
        what = error.schema.get("description", f"the pattern {error.validator_value}")
        yield parts, "value", f"{_short(error.instance)} is not valid here: {what}"
    elif kind == "enum":
        options = ", ".join(repr(v) for v in error.validator_value)
        yield parts, "value", f"{_short(error.instance)} is not one of {options}"
    else:
        yield parts, "value", _short_message(error)


_TYPED = {bool: "a boolean", int: "a number", float: "a number", type(None): "null (no value)"}


def _with_yaml_typing(tree: Any, parts: list[Any], at: str, error: ValidationError, message: str) -> str:
    """``message``, or why a value written as text is not text: YAML reads ``1_000``, ``0x1f``, ``007``, ``1.5``,
    ``null``, ``true`` unquoted as numbers, null or booleans, so a model name, column or key spelt that way is
    not a string; the message shows what was written and how to quote it."""
    wanted = error.validator_value if error.validator == "type" else None
    wants_text = wanted == "string" or (isinstance(wanted, list) and "string" in wanted)
    instance = parts[-1] if at == "key" and parts else error.instance
    if not wants_text or type(instance) not in _TYPED or tree is None:
        return message
    node = node_at(tree, parts, at=at)
    if getattr(node, "id", None) != "scalar" or getattr(node, "style", None) not in (None, ""):
        return message
    text = str(node.value)
    pattern = error.schema.get("pattern") if isinstance(error.schema, dict) else None
    if isinstance(pattern, str) and not re.search(pattern, text):
        return message  # quoting would not help: the text is not a valid value either
    shown = "" if instance is None else f" ({_short(instance)})"
    return (f"{text or '(empty)'} is read by YAML as {_TYPED[type(instance)]}{shown}, not as text; "
            f"put it in quotes: '{text}'")


def _alternative_keys(error: ValidationError) -> str:
    """A plain message for a ``oneOf``/``anyOf`` whose branches each only require keys, else ""."""
    if error.validator not in ("oneOf", "anyOf") or not isinstance(error.instance, dict):
        return ""
    branches = error.validator_value
    if not all(set(b) == {"required"} for b in branches):
        return ""
    options = [" + ".join(b["required"]) for b in branches]
    satisfied = [o for o, b in zip(options, branches, strict=True) if all(k in error.instance for k in b["required"])]
    if len(satisfied) > 1:
        return f"give only one of: {', or '.join(options)} (found {' and '.join(satisfied)})"
    how = "exactly one" if error.validator == "oneOf" else "at least one"
    return f"needs {how} of the keys: {', or '.join(options)}"


def _unknown_keys(error: ValidationError, parts: list[Any]) -> Iterator[tuple[list[Any], str, str]]:
    known = list(error.schema.get("properties", {}))
    for key in error.instance:
        if key in known:
            continue
        message = f"unknown key '{key}'"
        close = difflib.get_close_matches(str(key), known, n=1, cutoff=0.6)
        if close:
            message += f"; did you mean '{close[0]}'?"
        elif known:
            message += f"; allowed keys: {', '.join(known)}"
        yield [*parts, key], "key", message


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _short_message(error: ValidationError) -> str:
    message = error.message
    instance_repr = repr(error.instance)
    if len(instance_repr) > 60 and message.startswith(instance_repr):
        message = _short(error.instance) + message[len(instance_repr):]
    return message if len(message) <= MAX_MESSAGE else message[: MAX_MESSAGE - 3] + "..."
