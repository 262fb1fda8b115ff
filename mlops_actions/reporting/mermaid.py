"""Mermaid ``xychart-beta`` blocks: one metric per group, candidate (bars) against baseline (line).

GitHub renders Mermaid fenced blocks itself, so no image host is needed. Labels come from data (group
values, metric names): they are reduced to a safe character set (letters, digits, space and ``-_.,:/+=()``)
and put in double quotes, so they can neither end the string, the block or the code fence, nor inject
Mermaid directives, HTML or links.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

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


MAX_POINTS = 50


@dataclass(frozen=True)
class Axis:
    """An axis of a line chart: its name and either a numeric range or category ``labels``. Without either,
    the x axis spans 0 to 1 and the y axis fits the data."""

    name: str
    range: tuple[float, float] | None = None
    labels: Sequence[str] | None = None


def line_chart(title: str, x_axis: Axis, y_axis: Axis, series: Sequence[Sequence[float | None]]) -> str:
    """A fenced ``mermaid`` block of line series over a numeric axis (or the x axis's labels), ≤ ``MAX_POINTS``
    each; an undefined point takes its nearest defined neighbour's value (the caption must say so)."""
    lines = [_fill(list(s)[:MAX_POINTS]) for s in series if any(v is not None for v in s)]
    low, high = y_axis.range or _range([v for s in lines for v in s])
    x_low, x_high = x_axis.range or (0.0, 1.0)
    x = (f"[{', '.join(label(v) for v in list(x_axis.labels)[:MAX_POINTS])}]" if x_axis.labels is not None
         else f"{x_low:g} --> {x_high:g}")
    body = ["```mermaid", "xychart-beta", f"    title {label(title, 60)}",
            f"    x-axis {label(x_axis.name, 40)} {x}", f"    y-axis {label(y_axis.name, 40)} {low:g} --> {high:g}"]
    body += [f"    line [{', '.join(_value(v) for v in s)}]" for s in lines]
    return "\n".join([*body, "```"])


def bar_chart(title: str, y_axis: str, groups: Sequence[str], bars: Sequence[float | None],
              lines: Sequence[Sequence[float | None]] = (), y_range: tuple[float, float] | None = None) -> str:
    """Bars per group with optional line series (an interval's bounds, a baseline) over the same groups."""
    groups, bars = list(groups)[:MAX_GROUPS], list(bars)[:MAX_GROUPS]
    series = [_fill(list(s)[:MAX_GROUPS]) for s in lines if any(v is not None for v in s)]
    low, high = y_range or _range([*(v for v in bars if v is not None), *(v for s in series for v in s)])
    body = ["```mermaid", "xychart-beta", f"    title {label(title, 60)}",
            f"    x-axis [{', '.join(label(g) for g in groups)}]",
            f"    y-axis {label(y_axis, 40)} {low:g} --> {high:g}",
            f"    bar [{', '.join(_value(v) for v in bars)}]"]
    body += [f"    line [{', '.join(_value(v) for v in s)}]" for s in series]
    return "\n".join([*body, "```"])


def _fill(values: list[float | None]) -> list[float]:
    """Each None replaced by the nearest defined value before it (else after it)."""
    defined = [v for v in values if v is not None and math.isfinite(v)]
    if not defined:
        return [0.0] * len(values)
    out, last = [], defined[0]
    for v in values:
        last = v if v is not None and math.isfinite(v) else last
        out.append(last)
    return out


def _range(values: Sequence[float]) -> tuple[float, float]:
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if low >= 0 and high <= 1:
        return 0.0, 1.0
    pad = (high - low) * 0.1 or abs(high) * 0.1 or 1.0
    return float(f"{min(low - pad, 0) if low >= 0 else low - pad:.3g}"), float(f"{high + pad:.3g}")
