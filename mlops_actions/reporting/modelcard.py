"""The model card: a Markdown page per trained model, attached to its release.

Description, intended use and limitations come from the spec; data, metrics and fairness from the training
results (aggregates only, never rows); the fingerprint and artifact sha256 identify exactly what it describes.
All text from the spec and the data is escaped. No timestamps: the same inputs give the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting import sections
from mlops_actions.reporting.markdown import md_cell, md_code, md_text


def model_card(m: ModelReport) -> str:
    parts = [f"# Model card: {md_code(m.name)}", _about(m), _training(m), _data(m), _metrics(m),
             _fairness(m), _gates(m), sections.identity_table(m)]
    return "\n\n".join(p for p in parts if p) + "\n"


def _prose(title: str, text: str, missing: str) -> str:
    return f"## {title}\n\n" + (md_text(" ".join(text.split())) if text.strip() else f"_{missing}_")


def _about(m: ModelReport) -> str:
    spec = m.spec
    description = spec.description if spec else ""
    use = spec.intended_use if spec else ""
    limits = spec.limitations if spec else ""
    owners = ", ".join(md_code(o) for o in spec.owners) if spec and spec.owners else fmt.NA
    return "\n\n".join([
        _prose("Description", description, "No description in the spec (add `description`)."),
        _prose("Intended use", use, "Not stated in the spec (add `intended_use`)."),
        _prose("Limitations", limits, "Not stated in the spec (add `limitations`)."),
        f"**Task:** {md_text(m.task)} · **Owners:** {owners}"])


def _training(m: ModelReport) -> str:
    params: Mapping[str, Any] = m.record.get("params") or {}
    rows = [["estimator", md_code(params.get("class", fmt.NA))]]
    rows.extend([md_cell(k), md_code(v)] for k, v in sorted((params.get("params") or {}).items()))
    libs = m.record.get("libraries") or {}
    rows.extend([f"library {md_cell(k)}", md_code(v)] for k, v in sorted(libs.items()))
    return "## Training\n\n" + sections.table(("", "value"), rows)


def _data(m: ModelReport) -> str:
    rows = [[md_code(d.get("path", "")), fmt.number(d.get("rows"), 12), md_code(d.get("hash", fmt.NA))]
            for d in m.record.get("data") or ()]
    split = m.record.get("rows") or {}
    text = "## Data\n\n" + sections.table(("file", "rows", "hash"), rows)
    if split:
        text += "\n\nSplit: " + ", ".join(f"{md_text(k)} {fmt.number(v, 12)} rows" for k, v in sorted(split.items()))
    if m.spec and m.spec.data.sensitive:
        text += "\n\nSensitive features: " + ", ".join(md_code(s, table=False) for s in m.spec.data.sensitive) + "."
    return text


def _metrics(m: ModelReport) -> str:
    rows = [[md_cell(d.name), d.direction, fmt.number(d.new)] for d in m.metrics if d.change != "removed"]
    if not rows:
        return "## Metrics\n\n_none reported_"
    return "## Metrics (held-out split)\n\n" + sections.table(("metric", "better", "value"), rows)


def _fairness(m: ModelReport) -> str:
    view = m.fairness
    if view is None:
        if m.fairness_note:
            return f"## Fairness\n\n_Not measured: {md_text(m.fairness_note)}._"
        return "## Fairness\n\n_No sensitive features in the spec: no fairness report._"
    parts = ["## Fairness", "Groups by " + ", ".join(md_code(f, table=False) for f in view.features)
             + " (each on its own" + (", and the intersections asked for" if len(view.groupings) > len(view.features)
                                      else "") + ")."]
    rows = [[md_cell(k), fmt.number(v), fmt.interval(*view.summary_ci.get(k, (None, None)))]
            for k, v in sorted(view.summary.items()) if "@" not in k]  # the worst over groupings and classes
    if rows:
        parts.append(sections.table(("disparity (worst)", "value", "95% interval"), rows))
    if view.small_groups:
        parts.append(f"Groups under {view.min_group_size} rows (▫, {fmt.plural(view.left_out_rows, 'row')}) are "
                     "shown but left out of the disparities.")
    parts.extend(f"- ⚠️ {md_text(w)}" for w in view.warnings)
    parts.append(sections.groups(m))
    return "\n\n".join(p for p in parts if p)


def _gates(m: ModelReport) -> str:
    return f"## Gates at training time: {fmt.verdict(m.verdict)}\n\n" + sections.gates(m).split("\n\n", 1)[-1]
