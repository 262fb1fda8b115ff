"""Thresholds of the monitor and the verdict of one column.

A column **fails** when its drift is both large and significant — PSI at or above ``psi_fail`` and the
test's p-value below ``p_value`` — or when its missing rate moved by ``missing_fail`` or more. It **warns**
when PSI reaches ``psi_warn``, the test alone is significant, the missing rate moved by ``missing_warn``,
or new levels appeared. Requiring significance for a fail keeps small samples (a noisy PSI) from failing;
requiring PSI keeps huge samples (where any difference is significant) from failing on trivia.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any

from mlops_actions.errors import InputError
from mlops_actions.monitoring.drift import DEFAULT_BINS, ColumnDrift

PASS, WARN, FAIL = "pass", "warn", "fail"
_RANK = {PASS: 0, WARN: 1, FAIL: 2}


def worst(verdicts: Iterable[str]) -> str:
    """The most severe of some verdicts (``pass`` when there are none)."""
    return max(verdicts, key=_RANK.__getitem__, default=PASS)


@dataclass(frozen=True)
class Thresholds:
    """Limits of the monitor; a spec sets them as ``monitor.thresholds.<field>`` (schemas/model-spec)."""

    psi_warn: float = 0.1
    psi_fail: float = 0.25
    p_value: float = 0.01
    missing_warn: float = 0.05
    missing_fail: float = 0.2
    metric_regression: float = 0.05
    bins: int = DEFAULT_BINS

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any] | None, source: str = "thresholds") -> Thresholds:
        """Defaults overridden by ``data``; unknown keys and bad values are input errors naming the key."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"{source}: unknown threshold '{unknown[0]}'",
                             hint=f"known thresholds: {', '.join(sorted(known))}")
        for key, value in data.items():
            _check_value(source, key, value)
        made = cls(**data)
        _check_order(source, made)
        return made

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _check_value(source: str, key: str, value: object) -> None:
    if key == "bins":
        if not isinstance(value, int) or isinstance(value, bool) or not 2 <= value <= 100:
            raise InputError(f"{source}: threshold 'bins' must be an integer from 2 to 100, not {value!r}")
        return
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if not isinstance(value, int | float) or not number or not math.isfinite(value) or value < 0:
        raise InputError(f"{source}: threshold '{key}' must be a number >= 0, not {value!r}")
    if key in ("p_value", "missing_warn", "missing_fail") and value > 1:
        raise InputError(f"{source}: threshold '{key}' is a fraction and must be at most 1, not {value!r}")


def _check_order(source: str, t: Thresholds) -> None:
    if t.psi_warn > t.psi_fail:
        raise InputError(f"{source}: psi_warn ({t.psi_warn}) must not exceed psi_fail ({t.psi_fail})")
    if t.missing_warn > t.missing_fail:
        raise InputError(f"{source}: missing_warn ({t.missing_warn}) must not exceed missing_fail "
                         f"({t.missing_fail})")


def judge(stats: ColumnDrift, t: Thresholds) -> tuple[str, tuple[str, ...]]:
    """Verdict of one column and the reasons for it (plain text, numbers only)."""
    found = [*_psi_findings(stats, t), *_missing_findings(stats, t)]
    if stats.new_levels:
        found.append((WARN, f"{len(stats.new_levels)} new level(s)"))
    return worst(v for v, _ in found), tuple(reason for _, reason in found)


def _psi_findings(stats: ColumnDrift, t: Thresholds) -> list[tuple[str, str]]:
    if stats.psi is None or stats.p_value is None:
        return [(WARN, "no values on one side to compare")]
    significant = stats.p_value < t.p_value
    found: list[tuple[str, str]] = []
    if stats.psi >= t.psi_fail and significant:
        found.append((FAIL, f"PSI {stats.psi:.3f} ≥ {t.psi_fail:g}"))
    elif stats.psi >= t.psi_warn:
        found.append((WARN, f"PSI {stats.psi:.3f} ≥ {t.psi_warn:g}"))
    if significant:
        found.append((WARN, f"{stats.test} p-value {stats.p_value:.2g} < {t.p_value:g}"))
    return found


def _missing_findings(stats: ColumnDrift, t: Thresholds) -> list[tuple[str, str]]:
    change = stats.missing_change
    text = f"missing rate {stats.missing_reference:.1%} → {stats.missing_current:.1%}"
    if change >= t.missing_fail:
        return [(FAIL, text)]
    if change >= t.missing_warn:
        return [(WARN, text)]
    return []
