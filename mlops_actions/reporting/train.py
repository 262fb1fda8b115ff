"""The job summary of ``mlops-actions train``: the model, its artifact's hash and its metrics (no rows)."""

from __future__ import annotations

from collections.abc import Mapping

from mlops_actions.reporting.markdown import md_cell, md_code
from mlops_actions.reporting.tables import table


def number(value: float | None) -> str:
    return "null" if value is None else f"{value:.6g}"


def summary_markdown(name: str, sha256: str, metrics: Mapping[str, float | None],
                     artifact_file: str = "model.skops") -> str:
    """Job-summary Markdown: the model, its artifact hash and metrics (names escaped)."""
    rows = [[md_cell(k), number(v)] for k, v in metrics.items()]
    lines = [f"### Trained {md_code(name)}", "", f"{artifact_file} sha256 {md_code(sha256)}", "",
             table(["metric", "value"], rows, compact=True)]
    return "\n".join(lines) + "\n\n"
