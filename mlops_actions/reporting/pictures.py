"""The pictures of one model's held-out predictions: tables and Mermaid charts, candidate against baseline.

Binary: the confusion matrix at the threshold, ROC, precision-recall and calibration curves. Multi-class:
per-class precision / recall / F1 and the confusion matrix. Regression: the mean residual per decile of
the prediction. The baseline is drawn when its held-out aggregates are known (results trained at the base
ref); otherwise the caption says the chart shows the candidate only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.evaluation.curves import BINS
from mlops_actions.reporting import format as fmt
from mlops_actions.reporting import mermaid
from mlops_actions.reporting.markdown import md_cell, md_code, md_text
from mlops_actions.reporting.tables import table

MAX_CLASSES = 12


def pictures(m: ModelReport) -> str:
    """Every picture of the model's task, or "" when its held-out aggregates are not available."""
    if m.heldout is None:
        return ""
    now = m.heldout.pictures
    then = m.baseline_heldout.pictures if m.baseline_heldout is not None else {}
    if "binary" in now:
        return binary(now["binary"], then.get("binary"), m.heldout.positive)
    if "multiclass" in now:
        return multiclass(now["multiclass"])
    if "residuals" in now:
        return residuals(now["residuals"], then.get("residuals"))
    return ""


def _legend(baseline: Any) -> str:
    return "line 1: candidate, line 2: baseline" if baseline else "candidate only (the baseline's held-out " \
        "predictions are not available)"


def binary(now: Mapping[str, Any], then: Mapping[str, Any] | None, positive: str | None = None) -> str:
    parts = [confusion(now, positive)]
    curves = [("roc", "ROC curve", "false positive rate", "true positive rate"),
              ("pr", "Precision-recall curve", "recall", "precision")]
    for key, title, x, y in curves:
        if now.get(key):
            base = then.get(key) if then else None
            parts.append(f"<sub>{title} ({_legend(base)})</sub>\n\n"
                         + mermaid.line_chart(title, mermaid.Axis(x), mermaid.Axis(y, range=(0, 1)),
                                              [now[key], *([base] if base else [])]))
    if now.get("calibration"):
        parts.append(calibration(now["calibration"], then.get("calibration") if then else None))
    return "\n\n".join(parts)


def confusion(now: Mapping[str, Any], positive: str | None = None) -> str:
    """The binary confusion matrix; its caption names the positive class (a threshold is a bound on its probability)."""
    c = now["confusion"]
    at = f"at threshold {fmt.number(now['threshold'])}" if now.get("threshold") is not None else "of the labels"
    at += f", positive class {md_code(positive, table=False)}" if positive is not None else ""
    rows = [["actual positive", f"{c['tp']} (TP)", f"{c['fn']} (FN)"],
            ["actual negative", f"{c['fp']} (FP)", f"{c['tn']} (TN)"]]
    return f"**Confusion matrix {at}** (held-out rows)\n\n" + table(("", "predicted positive",
                                                                      "predicted negative"), rows)


def calibration(now: Mapping[str, Any], then: Mapping[str, Any] | None) -> str:
    labels = [f"{i / BINS:.1f}-{(i + 1) / BINS:.1f}" for i in range(BINS)]
    ideal = [(i + 0.5) / BINS for i in range(BINS)]
    series = [now["observed"], *([then["observed"]] if then else []), ideal]
    legend = "line 1: candidate" + (", line 2: baseline" if then else "") + ", last line: perfect calibration"
    note = "; an empty bin repeats its neighbour's value" if None in now["observed"] else ""
    return (f"<sub>Calibration: observed positive rate per bin of predicted probability ({legend}{note})</sub>\n\n"
            + mermaid.line_chart("Calibration", mermaid.Axis("predicted probability", labels=labels),
                                 mermaid.Axis("observed rate", range=(0, 1)), series))


def multiclass(now: Mapping[str, Any]) -> str:
    classes = list(now["classes"])[:MAX_CLASSES]
    rows = [[md_cell(fmt.clip(c, 40)), fmt.number(p, 3), fmt.number(r, 3), fmt.number(f, 3), str(s)]
            for c, p, r, f, s in zip(classes, now["precision"], now["recall"], now["f1"], now["support"],
                                     strict=False)]
    per_class = "**Per class** (held-out rows)\n\n" + table(("class", "precision", "recall", "F1", "support"), rows)
    matrix = [[md_cell(fmt.clip(c, 40)), *map(str, row[:MAX_CLASSES])] for c, row in zip(classes, now["confusion"],
                                                                                        strict=False)]
    head = ("actual ↓ · predicted →", *(md_cell(fmt.clip(c, 20)) for c in classes))
    more = f"\n\n_First {MAX_CLASSES} of {len(now['classes'])} classes._" if len(now["classes"]) > MAX_CLASSES else ""
    return per_class + "\n\n**Confusion matrix**\n\n" + table(head, matrix) + more


def residuals(now: Mapping[str, Any], then: Mapping[str, Any] | None) -> str:
    edges: Sequence[float | None] = now["edges"]
    labels = [f"D{i + 1}" for i in range(len(now["mean_residual"]))]
    rows = [[label, f"{fmt.number(edges[i])} – {fmt.number(edges[i + 1])}", str(now["count"][i]),
             fmt.number(now["mean_residual"][i])] for i, label in enumerate(labels)]
    base = then["mean_residual"] if then else None
    chart = mermaid.bar_chart("Mean residual by decile of the prediction", "truth - prediction", labels,
                              now["mean_residual"], [base] if base else [])
    legend = "bars: candidate" + ("; line: baseline" if base else "")
    return (f"**Residuals by decile of the prediction** ({md_text(legend)}; above 0: the model predicts too low)"
            f"\n\n{chart}\n\n" + table(("decile", "prediction range", "rows", "mean residual"), rows))
