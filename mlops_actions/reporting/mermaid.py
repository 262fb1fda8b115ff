"""Mermaid ``xychart-beta`` blocks: one metric per group, candidate (bars) against baseline (line).

GitHub renders Mermaid fenced blocks itself, so no image host is needed. Labels come from data (group
values, metric names): they are reduced to a safe character set (letters, digits, space and ``-_.,:/+=()``)
and put in double quotes, so they can neither end the string, the block or the code fence, nor inject
Mermaid directives, HTML or links.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

MAX_LABEL = 24
MAX_GROUPS = 30
_SAFE_PUNCT = frozenset(" -_.,:/+=()")


def label(value: object, limit: int = MAX_LABEL) -> str:
    """A quoted Mermaid string holding only safe characters, cut to ``limit`` characters."""
    text = " ".join(str(value).split())
    safe = "".join(ch if ch.isalnum() or ch in _SAFE_PUNCT else "_" for ch in text)
    if len(safe) > limit:
        safe = safe[: limit - 1] + "…"
    return f'"{safe or "_"}"'


def _value(v: float | None) -> str:
    if v is None or math.isnan(v) or math.isinf(v):
        return "0"
    return f"{v:.4g}"


def _axis_max(values: Sequence[float | None]) -> float:
    finite = [v for v in values if v is not None and math.isfinite(v)]
    top = max(finite, default=1.0)
    return 1.0 if 0 <= top <= 1 else float(f"{top * 1.1:.3g}")


def group_chart(title: str, metric: str, groups: Sequence[str], candidate: Sequence[float | None],
                baseline: Sequence[float | None] | None = None) -> str:
    """A fenced ``mermaid`` block; undefined values are drawn as 0 (the table beside it says ``n/a``).

    At most ``MAX_GROUPS`` groups are drawn (the first ones, in the order given).
    """
    groups, candidate = list(groups)[:MAX_GROUPS], list(candidate)[:MAX_GROUPS]
    lines = ["```mermaid", "xychart-beta", f"    title {label(title, 60)}",
             f"    x-axis [{', '.join(label(g) for g in groups)}]",
             f"    y-axis {label(metric, 40)} 0 --> {_axis_max([*candidate, *(baseline or [])]):g}",
             f"    bar [{', '.join(_value(v) for v in candidate)}]"]
    if baseline is not None:
        lines.append(f"    line [{', '.join(_value(v) for v in list(baseline)[:MAX_GROUPS])}]")
    lines.append("```")
    return "\n".join(lines)
