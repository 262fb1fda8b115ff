"""The version tag grammar: ``<model>@v<N>`` (pure; no git here)."""

from __future__ import annotations

import re

from mlops_actions.convention.names import RULE, is_model_name

_TAG = re.compile(r"(?P<model>[^@]+)@v(?P<number>[1-9][0-9]{0,8})")


def format_tag(model: str, number: int) -> str:
    """``arrests@v3``; ``ValueError`` for a name or number the grammar does not allow."""
    tag = f"{model}@v{number}"
    if isinstance(number, bool) or not isinstance(number, int) or parse_tag(tag) != (model, number):
        raise ValueError(f"not a valid version tag: {tag!r} (a model name is {RULE}; N >= 1)")
    return tag


def parse_tag(tag: str) -> tuple[str, int] | None:
    """(model, number) of a version tag, or None when ``tag`` is not one."""
    match = _TAG.fullmatch(tag)
    if match is None or not is_model_name(match["model"]):
        return None
    return match["model"], int(match["number"])
