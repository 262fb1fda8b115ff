"""Workflow-command escaping, outputs and the job summary."""

from __future__ import annotations

from pathlib import Path

from mlops_actions.actions_runtime import ActionsRuntime, escape_data, escape_property, workflow_command


def test_escape_data() -> None:
    assert escape_data("50%\r\nnext") == "50%25%0D%0Anext"


def test_escape_property() -> None:
    assert escape_property("a:b,c%\n") == "a%3Ab%2Cc%25%0A"


def test_workflow_command_leaves_out_none() -> None:
    line = workflow_command("error", "bad: value\n::set-output", file="x,y.yaml", line=3, col=None, title="t:1")
    assert line == "::error file=x%2Cy.yaml,line=3,title=t%3A1::bad: value%0A::set-output"


def test_set_output_uses_a_delimiter(tmp_path: Path) -> None:
    out = tmp_path / "out"
    runtime = ActionsRuntime(active=True, output_file=out)
    runtime.set_output("matrix", 'line1\nline2 "q"')
    name, *body, end = out.read_text().splitlines()
    assert name.startswith("matrix<<ghadelimiter_") and end == name.split("<<")[1]
    assert body == ["line1", 'line2 "q"']


def test_summary_is_cut_at_one_mebibyte(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    runtime = ActionsRuntime(active=True, summary_file=summary)
    runtime.append_summary("x" * (2 * 1024 * 1024))
    data = summary.read_bytes()
    assert len(data) <= 1024 * 1024
    assert data.endswith(b"GitHub allows 1 MiB per step)_\n")


def test_inactive_runtime_writes_nothing(tmp_path: Path, capsys) -> None:
    runtime = ActionsRuntime(active=False)
    runtime.set_output("a", "b")
    runtime.command("add-mask", "secret")
    runtime.append_summary("x")
    assert capsys.readouterr().out == ""
