"""Hostile values from users and data cannot break a table, open HTML, ping people or add links — in the
escaping helpers, the Mermaid labels, the PR report and the model card."""

from __future__ import annotations

import re

import pytest

from mlops_actions.evaluation.assess import FairnessView, GroupRow
from mlops_actions.reporting import mermaid, sections
from mlops_actions.reporting.comment import ReportContext, render_comment, render_summary
from mlops_actions.reporting.markdown import md_cell, md_code, md_text
from mlops_actions.reporting.modelcard import model_card
from testkit.reportkit import HOSTILE, assert_safe_markdown, model, outside_code


@pytest.mark.parametrize("value", HOSTILE)
def test_md_text_is_inert(value: str) -> None:
    text = md_text(value)
    assert "\n" not in text and "\r" not in text
    assert "<" not in text and ">" not in text.replace("&gt;", "")
    assert not re.search(r"@[A-Za-z0-9]", text)
    assert not re.search(r"(?<!\\)[\[\]()|`]", text), "unescaped Markdown punctuation"
    assert not re.search(r"(?i)(javascript|https?):", text)


def test_md_text_keeps_ordinary_text_readable() -> None:
    assert md_text("colour=Black, sex=Male") == "colour=Black, sex=Male"
    assert md_text("5 < 6 & 7") == "5 &lt; 6 &amp; 7"


def test_md_text_breaks_references_and_mentions_with_an_invisible_space() -> None:
    assert md_text("@octocat") == "@\u200boctocat"
    assert md_text("see #12 and GH-3") == "see \\#\u200b12 and GH-\u200b3"
    assert md_text("a@b.com") == "a@\u200bb.com"
    assert md_text("https://x.org") == "https&#58;//x.org"  # the entity's '#' is not mistaken for a reference


def test_md_text_drops_bidi_overrides_and_control_characters() -> None:
    assert md_text("a\u202eb\u2066c\x00d\x1be") == "abcde"


@pytest.mark.parametrize("value", ["a\nb", "a\r\nb", "a\rb", "a\u2028b", "a\u0085b"])
def test_line_breaks_become_spaces(value: str) -> None:
    assert md_text(value) == "a b"
    assert md_cell(value) == "a b"
    assert md_code(value) == "`a b`"


@pytest.mark.parametrize("value", HOSTILE)
def test_md_code_is_one_closed_span(value: str) -> None:
    code = md_code(value)
    assert code.startswith("`") and code.endswith("`") and code.count("`") == 2
    assert "\n" not in code
    assert not re.search(r"(?<!\\)\|", code)


def test_md_code_of_empty_text_is_still_a_span() -> None:
    assert md_code("") == "` `"


@pytest.mark.parametrize("value", [*HOSTILE, '"; click x call alert()', "%%{init: {}}%%", 'a"b', "x" * 100])
def test_mermaid_labels_are_quoted_and_inert(value: str) -> None:
    out = mermaid.label(value)
    inner = out[1:-1]
    assert out.startswith('"') and out.endswith('"') and '"' not in inner
    assert not set(inner) & set("<>`[]{}%;#|@&\n\r\\")
    assert len(inner) <= mermaid.MAX_LABEL


def test_mermaid_chart_with_hostile_groups_keeps_one_fence() -> None:
    chart = mermaid.group_chart("t", "selection_rate", list(HOSTILE), [0.5] * len(HOSTILE), [0.4] * len(HOSTILE))
    lines = chart.split("\n")
    assert lines[0] == "```mermaid" and lines[-1] == "```"
    assert sum(line.startswith("```") for line in lines) == 2
    assert len(lines) == 8


def _hostile_model(value: str):
    m = model("m", groups=[value, "ok"], reasons=[value], warnings=[f"small group {value}"], feature=value)
    rows = tuple(GroupRow((value, value), 3, {value: 0.5}, {value: (0.1, 0.9)}) for _ in range(2))
    view = FairnessView((value, value), (value,), rows, {value: 0.1}, (value,), chart_metric=value)
    from dataclasses import replace

    return replace(m, fairness=view, notes=(value,))


@pytest.mark.parametrize("value", HOSTILE)
def test_report_with_hostile_values_is_safe(value: str) -> None:
    ctx = ReportContext(base_ref=value, head_ref=value, unchanged=(value,), problems=(value,))
    for text in (render_comment([_hostile_model(value)], ctx), render_summary([_hostile_model(value)], ctx)):
        assert_safe_markdown(text)


@pytest.mark.parametrize("value", HOSTILE)
def test_model_card_with_hostile_spec_text_is_safe(value: str) -> None:
    from dataclasses import replace

    m = _hostile_model(value)
    m = replace(m, spec=replace(m.spec, description=value, intended_use=value, limitations=value, owners=(value,)))
    assert_safe_markdown(model_card(m))


def test_hostile_values_stay_visible_as_text() -> None:
    text = render_comment([_hostile_model("@octocat")], ReportContext(head_ref="@octocat"))
    assert "@\u200boctocat" in text  # shown, not dropped — just unable to ping


def test_details_summaries_hold_only_our_own_text() -> None:
    text = render_comment([_hostile_model("<b>x</b>")], ReportContext())
    for summary in re.findall(r"<summary>(.*?)</summary>", text):
        assert "&lt;" not in summary and "x" not in summary.replace("95% intervals", "")


def test_the_checker_itself_catches_breakage() -> None:
    for bad in ("<img src=x>", "[a](http://x)", "hi @octocat", "| a | b |\n|---|---|\n| 1 | 2 | 3 |", "```\nx"):
        with pytest.raises(AssertionError):
            assert_safe_markdown(bad)
    assert outside_code("`<b>` ok") == " ok"


def test_table_cells_from_sections_escape_pipes() -> None:
    row = sections._group_row(_hostile_model("| a | b |").fairness, GroupRow(("| a |",), 1, {}, {}))
    assert all(not re.search(r"(?<!\\)\|", cell) for cell in row)


def test_md_code_outside_tables_keeps_pipes_as_they_are() -> None:
    assert md_code("a|b`c\nd", table=False) == "`a|b'c d`"
    assert md_code("a|b") == "`a\\|b`"


def test_a_branch_name_with_pipes_is_shown_without_backslashes() -> None:
    text = render_comment([], ReportContext(base_ref="main", head_ref="feat|x"))
    assert "head `feat|x`" in text
    assert_safe_markdown(text)
