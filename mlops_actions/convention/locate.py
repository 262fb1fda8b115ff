"""Find the line and column of a node in a round-trip YAML tree, given its path of keys and indices."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

Position = tuple[int, int]
_TOP: Position = (1, 1)


def _child(node: Any, part: Any) -> tuple[Any, Position | None, Position | None]:
    """(child node, key position, value position) of ``part`` in ``node``; positions 1-based."""
    lc = getattr(node, "lc", None)
    if isinstance(node, dict) and part in node and lc is not None:
        key = lc.key(part)
        value = lc.value(part)
        return node[part], (key[0] + 1, key[1] + 1), (value[0] + 1, value[1] + 1)
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node) and lc is not None:
        line, col = lc.item(part)
        return node[part], (line + 1, col + 1), (line + 1, col + 1)
    return None, None, None


def locate(root: Any, parts: Sequence[Any], *, at: str = "value") -> Position:
    """Position of the node at ``parts``: its key (``at="key"``) or its value (``at="value"``).

    When the path leaves the tree (a missing key), the deepest existing node's position is returned.
    ``at="container"`` points at the key that introduces the container at ``parts`` (the parent mapping
    of a missing key), or the top of the file for the root.
    """
    node, key_pos, value_pos = root, None, None
    for part in parts:
        child, k, v = _child(node, part)
        if k is None:
            child, k, v = _child(node, str(part))
        if k is None:
            break
        node, key_pos, value_pos = child, k, v
    if key_pos is None or value_pos is None:
        return _TOP
    if at in ("key", "container"):
        return key_pos
    return _scalar_or_block_start(node, value_pos)


def _scalar_or_block_start(node: Any, value_pos: Position) -> Position:
    lc = getattr(node, "lc", None)
    if isinstance(node, dict | list) and lc is not None and getattr(lc, "line", None) is not None:
        return lc.line + 1, lc.col + 1
    return value_pos


def locate_node(root: Any, parts: Sequence[Any], *, at: str = "value") -> Position:
    """Like ``locate``, on a composed node tree (``yamlio.compose``): C-parsed, so cheap to build."""
    node, key_node, value_node = root, None, None
    for part in parts:
        found = _node_child(node, part)
        if found is None:
            break
        key_node, value_node = found
        node = value_node
    if key_node is None or value_node is None:
        return _TOP
    chosen = key_node if at in ("key", "container") else value_node
    return chosen.start_mark.line + 1, chosen.start_mark.column + 1


def _node_child(node: Any, part: Any) -> tuple[Any, Any] | None:
    kind = getattr(node, "id", None)
    if kind == "mapping":
        for key, value in node.value:
            if key.value == str(part) or key.value == part:
                return key, value
        return None
    if kind == "sequence" and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item
    return None
