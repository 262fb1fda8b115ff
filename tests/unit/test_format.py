"""The formatting helpers, one by one: undefined values are always ``n/a``, never 0 or ``nan``."""

from __future__ import annotations

import math

import pytest

from mlops_actions.reporting import format as fmt


@pytest.mark.parametrize(("value", "digits", "expected"), [
    (0.83, 4, "0.83"), (0.123456, 4, "0.1235"), (1234567.0, 4, "1234567"), (0.0001234, 3, "0.000123"),
    (5226, 12, "5226"), (0, 4, "0"), (-0.5, 4, "-0.5"), (-1e-20, 4, "-1e-20"), (1e-20, 3, "1e-20"),
    (None, 4, "n/a"), (math.nan, 4, "n/a"), (math.inf, 4, "∞"), (-math.inf, 4, "-∞"), (2.0, 4, "2"),
])
def test_number(value: float | None, digits: int, expected: str) -> None:
    assert fmt.number(value, digits) == expected


def test_number_never_prints_negative_zero() -> None:
    assert fmt.number(-0.0) == "0"
    assert fmt.percent(-0.00001) == "0.0%"


@pytest.mark.parametrize(("value", "expected"), [
    (0.1234, "12.3%"), (1.0, "100.0%"), (0.0, "0.0%"), (None, "n/a"), (math.nan, "n/a")])
def test_percent(value: float | None, expected: str) -> None:
    assert fmt.percent(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (0.012, "+0.012"), (-0.5, "-0.5"), (0.0, "±0"), (None, "n/a"), (math.nan, "n/a"), (-0.0123456, "-0.0123")])
def test_signed(value: float | None, expected: str) -> None:
    assert fmt.signed(value) == expected


@pytest.mark.parametrize(("value", "expected"), [
    (0.032, "+3.2%"), (-0.25, "-25.0%"), (0.0, "±0%"), (0.00001, "±0%"), (None, "n/a")])
def test_signed_percent(value: float | None, expected: str) -> None:
    assert fmt.signed_percent(value) == expected


@pytest.mark.parametrize(("change", "expected"), [
    ("better", "▲ better"), ("worse", "▼ worse"), ("same", "= same"), ("new", "· new"),
    ("removed", "· removed"), ("undefined", "· n/a"), ("bogus", "· n/a")])
def test_arrow(change: str, expected: str) -> None:
    assert fmt.arrow(change) == expected


@pytest.mark.parametrize(("status", "expected"), [
    ("pass", "✅ pass"), ("warn", "⚠️ warn"), ("fail", "❌ fail"), ("undefined", "❔ n/a")])
def test_verdict(status: str, expected: str) -> None:
    assert fmt.verdict(status) == expected


@pytest.mark.parametrize(("sha", "expected"), [
    ("0d4c0c5e8a7c2e1e5c1e9a0c3f5e8d7b6a5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e", "0d4c0c5e8a7c"),
    ("git:3b18e512dba79e4c8300dd08aeb37f8e728b8dad", "git:3b18e512dba7"),
    ("sha256:" + "f" * 64, "sha256:ffffffffffff"), ("", "n/a"), (None, "n/a")])
def test_short_sha(sha: str | None, expected: str) -> None:
    assert fmt.short_sha(sha) == expected


def test_interval() -> None:
    assert fmt.interval(0.1234, 0.5) == "[0.123, 0.5]"
    assert fmt.interval(None, 0.5) == "n/a"
    assert fmt.interval(0.1, math.nan) == "n/a"


def test_plural() -> None:
    assert fmt.plural(1, "model") == "1 model"
    assert fmt.plural(0, "model") == "0 models"
    assert fmt.plural(2, "warning") == "2 warnings"
    assert fmt.plural(3, "analysis", "analyses") == "3 analyses"


@pytest.mark.parametrize("value", [None, math.nan, "0.5", [1]])
def test_is_undefined(value: object) -> None:
    assert fmt.is_undefined(value)


@pytest.mark.parametrize("value", [0, 0.0, -1.5, math.inf, True])
def test_is_defined(value: object) -> None:
    assert not fmt.is_undefined(value)


def test_clip() -> None:
    assert fmt.clip("abc", 5) == "abc"
    assert fmt.clip("abcdef", 5) == "abcd…"
    assert len(fmt.clip("x" * 10_000)) == 100
