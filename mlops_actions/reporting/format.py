"""Plain formatting helpers for reports: numbers, deltas, arrows, verdicts. Each one is a small pure function.

Every helper accepts ``None`` and NaN and renders them as ``n/a``: an undefined value is shown, never hidden
and never printed as 0.
"""

from __future__ import annotations

import math

NA = "n/a"
_VERDICTS = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "undefined": "❔ n/a"}
_ARROWS = {"better": "▲ better", "worse": "▼ worse", "same": "= same"}


def is_undefined(value: object) -> bool:
    """True for None, NaN and values that are not numbers."""
    if value is None or isinstance(value, bool):
        return value is None
    if not isinstance(value, int | float):
        return True
    return math.isnan(value)


def number(value: float | None, digits: int = 4) -> str:
    """``value`` to ``digits`` significant digits, without exponent for ordinary magnitudes."""
    if is_undefined(value):
        return NA
    assert value is not None
    if math.isinf(value):
        return "∞" if value > 0 else "-∞"
    if value == 0:
        return "0"
    text = f"{value:.{digits}g}"
    if "e" in text and 1e-6 <= abs(value) < 1e15:
        decimals = max(digits - 1 - math.floor(math.log10(abs(value))), 0)
        text = f"{value:.{decimals}f}"
    return _trim_negative_zero(text)


def _trim_negative_zero(text: str) -> str:
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def percent(value: float | None, decimals: int = 1) -> str:
    """A fraction as a percentage: 0.1234 -> ``12.3%``."""
    if is_undefined(value):
        return NA
    assert value is not None
    return _trim_negative_zero(f"{value * 100:.{decimals}f}") + "%"


def signed(value: float | None, digits: int = 3) -> str:
    """A change with an explicit sign: ``+0.012``, ``-0.5``, ``±0``."""
    if is_undefined(value):
        return NA
    assert value is not None
    if value == 0:
        return "±0"
    text = number(abs(value), digits)
    return ("+" if value > 0 else "-") + text


def signed_percent(value: float | None, decimals: int = 1) -> str:
    """A relative change with an explicit sign: ``+3.2%``."""
    if is_undefined(value):
        return NA
    assert value is not None
    text = percent(abs(value), decimals)
    if text.strip("0.%") == "":
        return "±0%"
    return ("+" if value > 0 else "-") + text


def arrow(change: str) -> str:
    """Arrow and word for a direction-aware change: better, worse, same, new, removed; else ``n/a``."""
    if change in _ARROWS:
        return _ARROWS[change]
    return "· " + (change if change in ("new", "removed") else NA)


def verdict(status: str) -> str:
    """Emoji and word for a gate status or a verdict (pass, warn, fail, undefined)."""
    return _VERDICTS.get(status, "❔ " + status)


def short_sha(sha: str | None, length: int = 12) -> str:
    """The first ``length`` hex digits of a hash; a ``kind:`` prefix (``git:``, ``sha256:``) is kept."""
    if not sha:
        return NA
    kind, sep, digest = sha.rpartition(":")
    return f"{kind}{sep}{digest[:length]}"


def interval(low: float | None, high: float | None, digits: int = 3) -> str:
    """A confidence interval as ``[0.12, 0.34]``; ``n/a`` when either end is undefined."""
    if is_undefined(low) or is_undefined(high):
        return NA
    return f"[{number(low, digits)}, {number(high, digits)}]"


def clip(text: object, limit: int = 100) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis, so one huge value cannot swamp a table."""
    value = str(text)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def plural(count: int, word: str, many: str | None = None) -> str:
    """``1 model``, ``3 models``."""
    return f"{count} {word if count == 1 else (many or word + 's')}"
