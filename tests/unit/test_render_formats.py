"""Rendering in one place: every --format a command offers has a renderer in its result type's table, a
format no table has is a usage error, and the one table helper writes the two Markdown forms."""

from __future__ import annotations

import argparse

import pytest
from tabulate import tabulate

from mlops_actions.cli import build_parser
from mlops_actions.errors import UsageError
from mlops_actions.reporting import fairness, history, monitor, plan, problems
from mlops_actions.reporting.render import FORMATS, renderer
from mlops_actions.reporting.tables import table

TABLES = {"validate": problems.RENDERERS, "plan": plan.RENDERERS, "fairness": fairness.RENDERERS,
          "monitor": monitor.RENDERERS, "history": history.RENDERERS}


def _format_choices(command: str) -> tuple[str, ...]:
    subparsers = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    option = next(a for a in subparsers.choices[command]._actions if "--format" in a.option_strings)
    return tuple(option.choices or ())


@pytest.mark.parametrize("command", sorted(TABLES))
def test_every_format_a_command_offers_has_a_renderer(command: str) -> None:
    choices = _format_choices(command)
    assert choices, command
    assert [c for c in choices if c not in TABLES[command]] == []
    assert set(TABLES[command]) <= set(FORMATS)


def test_a_format_without_a_renderer_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--format github") as raised:
        renderer(fairness.RENDERERS, "github")
    assert raised.value.hint == "use one of: markdown, json"
    assert renderer(fairness.RENDERERS, "json") is fairness.as_json


def test_the_table_helper_pads_like_tabulate_or_writes_compact_rows() -> None:
    headers, rows = ["metric", "value"], [["acc\\|x", "0.9"], ["f1", ""]]
    assert table(headers, rows) == tabulate(rows, headers=headers, tablefmt="github", disable_numparse=True)
    assert table(headers, rows, compact=True, right={1}) == (
        "| metric | value |\n|---|---:|\n| acc\\|x | 0.9 |\n| f1 |  |")
    assert table(headers, [], compact=True) == "| metric | value |\n|---|---|"
