"""Problems found in convention files: value objects collected by validation, rendered elsewhere."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True, order=True)
class Problem:
    """One problem at one place. ``pointer`` is an RFC 6901 JSON pointer ("" for the whole file)."""

    file: str
    line: int | None
    column: int | None
    pointer: str
    message: str
    severity: str = ERROR

    @property
    def json_path(self) -> str:
        """The pointer written as ``$.a.b[0]`` for people."""
        return json_path(pointer_parts(self.pointer))

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "line": self.line, "column": self.column, "pointer": self.pointer,
                "message": self.message, "severity": self.severity}


def pointer(parts: Iterable[str | int]) -> str:
    """RFC 6901 pointer of a path of keys and indices."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def pointer_parts(ptr: str) -> list[str]:
    if not ptr:
        return []
    return [p.replace("~1", "/").replace("~0", "~") for p in ptr.split("/")[1:]]


def json_path(parts: Sequence[str | int]) -> str:
    text = "$"
    for part in parts:
        if isinstance(part, int) or (isinstance(part, str) and part.isdigit()):
            text += f"[{part}]"
        elif isinstance(part, str) and part.replace("_", "a").replace("-", "a").isalnum():
            text += f".{part}"
        else:
            text += "[" + repr(str(part)) + "]"
    return text


@dataclass
class Problems:
    """Accumulates problems across files; validation never stops at the first one."""

    items: list[Problem] = field(default_factory=list)
    files_checked: int = 0

    def add(self, problem: Problem) -> None:
        self.items.append(problem)

    def extend(self, problems: Iterable[Problem]) -> None:
        self.items.extend(problems)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.items if p.severity == ERROR]

    def sorted(self) -> list[Problem]:
        return sorted(self.items, key=lambda p: (p.file, p.line or 0, p.column or 0, p.pointer, p.message))
