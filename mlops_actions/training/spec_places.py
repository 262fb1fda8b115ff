"""Places in a model spec (``file:line:col``) for errors found while training, from its composed node tree."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.convention.locate import locate_node
from mlops_actions.convention.problems import pointer
from mlops_actions.convention.yamlio import compose, read_text
from mlops_actions.errors import Place


@dataclass(frozen=True)
class SpecPlaces:
    """Locates keys of one spec file; an unparsable file still gives its path."""

    relpath: str
    tree: Any = None

    @classmethod
    def load(cls, root: Path, relpath: str) -> SpecPlaces:
        text, problem = read_text(root / relpath, relpath)
        if problem is not None or text is None:
            return cls(relpath)
        try:
            return cls(relpath, compose(text))
        except Exception:  # the spec was validated already; a place is a nicety, never a new failure
            return cls(relpath)

    def at(self, *parts: str | int, at: str = "value") -> Place:
        """Place of the node at ``parts`` (its key with ``at="key"``)."""
        if self.tree is None:
            return Place(self.relpath, pointer=pointer(parts))
        line, col = locate_node(self.tree, list(parts), at=at)
        return Place(self.relpath, line, col, pointer(parts))
