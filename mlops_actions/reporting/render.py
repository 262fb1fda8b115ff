"""Output formats and the one way a command picks a renderer: ``renderer(TABLE, fmt)``.

Each result type has one table, format → function, next to its renderers (``reporting.fairness.RENDERERS``,
``reporting.monitor.RENDERERS``, ...). A command computes its result object, takes the function for the
format the user chose and prints what it returns; the job summary uses the table's ``markdown`` entry.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal, TypeVar, get_args

from mlops_actions.errors import UsageError

Format = Literal["text", "json", "markdown", "github"]
FORMATS: tuple[Format, ...] = get_args(Format)

R = TypeVar("R")
Renderers = Mapping[Format, Callable[[R], str]]


def renderer(table: Renderers[R], fmt: Format) -> Callable[[R], str]:
    """The function of ``fmt`` in ``table``; a format the table lacks is a usage error (exit 2)."""
    if fmt not in table:
        raise UsageError(f"--format {fmt} is not available here", hint=f"use one of: {', '.join(table)}")
    return table[fmt]

