"""Find the line and column of a node in a composed YAML node tree, given its path of keys and indices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Position = tuple[int, int]
_TOP: Position = (1, 1)


def locate_node(root: Any, parts: Sequence[Any], *, at: str = "value") -> Position:
    """Position (1-based) of the node at ``parts`` in a composed tree (``yamlio.compose`` / ``Loaded.tree``):
    its key (``at="key"``, or ``"container"`` for the parent mapping of a missing key) or its value.

    When the path leaves the tree (a missing key), the deepest existing node's position is returned; the
    top of the file for the root.
    """
    chosen = _deepest(root, parts, at)
    if chosen is None:
        return _TOP
    return chosen.start_mark.line + 1, chosen.start_mark.column + 1


def node_at(root: Any, parts: Sequence[Any], *, at: str = "value") -> Any:
    """The node at ``parts`` (its key node with ``at="key"``), or None when the path leaves the tree."""
    node = root
    for i, part in enumerate(parts):
        found = _node_child(node, part)
        if found is None:
            return None
        if i == len(parts) - 1:
            return found[0] if at in ("key", "container") else found[1]
        node = found[1]
    return None


def _deepest(root: Any, parts: Sequence[Any], at: str) -> Any:
    node, key_node, value_node = root, None, None
    for part in parts:
        found = _node_child(node, part)
        if found is None:
            break
        key_node, value_node = found
        node = value_node
    if key_node is None or value_node is None:
        return None
    return key_node if at in ("key", "container") else value_node


def _node_child(node: Any, part: Any) -> tuple[Any, Any] | None:
    kind = getattr(node, "id", None)
    if kind == "mapping":
        for key, value in node.value:
            if key.value == str(part) or key.value == part:
                return key, value
        if not isinstance(part, str):  # a key YAML read as a number or null (1_000, 0x1f, ~): match its value
            return next(((k, v) for k, v in node.value if _typed_key(k, part)), None)
        return None
    if kind == "sequence" and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None


def _typed_key(key: Any, part: Any) -> bool:
    if getattr(key, "id", None) != "scalar" or str(getattr(key, "tag", "")).endswith(":str"):
        return False
    from mlops_actions.convention.yamlio import scalar_value

    value = scalar_value(key.value)
    return type(value) is type(part) and value == part
