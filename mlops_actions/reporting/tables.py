"""Tables and folds: tabulate's ``github`` format over already formatted (and escaped) cells."""

from __future__ import annotations

from collections.abc import Sequence

from tabulate import tabulate


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    return tabulate(rows, headers=list(headers), tablefmt="github", disable_numparse=True)


def details(summary: str, body: str) -> str:
    """A collapsed block; ``summary`` must be our own text (no user data)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"
