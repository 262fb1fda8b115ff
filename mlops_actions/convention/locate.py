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
