"""The one table helper: every table of a comment, summary, issue, release or terminal is built here.

``table`` is GitHub-flavoured Markdown over already formatted (and escaped) cells: tabulate's ``github``
format with number parsing off (padded columns), or with ``compact=True`` one ``| a | b |`` line per row
and ``right`` naming the right-aligned columns (for bodies that must stay short, e.g. a release's notes).
``text_table`` is the terminal's plain text table. ``details`` folds a block.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], *, compact: bool = False,
          right: Collection[int] = ()) -> str:
    """A Markdown table of escaped cells (``md_cell``/``md_code`` from ``reporting.markdown``)."""
    if compact:
        rule = "|" + "|".join("---:" if i in right else "---" for i in range(len(headers))) + "|"
        return "\n".join([_line(headers), rule, *(_line(row) for row in rows)])
    from tabulate import tabulate

    return tabulate(rows, headers=list(headers), tablefmt="github", disable_numparse=True)


def _line(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def details(summary: str, body: str) -> str:
    """A collapsed block; ``summary`` must be our own text (no user data)."""
    return f"<details><summary>{summary}</summary>\n\n{body}\n\n</details>"


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """``tabulate(rows, headers, tablefmt="simple", disable_numparse=True)``, the same text, written here for
    the printable-ASCII case: tabulate takes seconds on 15,000 rows (it measures every cell several times)."""
    cells = [[c.strip() for c in row] for row in rows]
    columns = [[h] for h in headers]
    for row in cells:
        for column, cell in zip(columns, row, strict=True):
            column.append(cell)
    text = "".join("".join(col) for col in columns)
    if not (text.isascii() and text.isprintable()):
        from tabulate import tabulate

        return tabulate(rows, tablefmt="simple", disable_numparse=True, headers=list(headers))
    widths = [max(len(col[0]) + 2, max(map(len, col[1:]), default=0)) for col in columns]
    pattern = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [pattern.format(*headers).rstrip(), "  ".join("-" * w for w in widths)]
    lines += [pattern.format(*row).rstrip() for row in cells]
    return "\n".join(lines)
