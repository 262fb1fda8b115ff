"""The version history (``mlops-actions history``) as text for a terminal, or JSON: ``RENDERERS``.

Text from tags and records is made safe for a terminal (``clean``: control characters become '?').
"""

from __future__ import annotations

import json

from mlops_actions.registry.history import History, Row
from mlops_actions.reporting.render import Renderers
from mlops_actions.reporting.tables import text_table

MAX_METRICS_SHOWN = 3
MAX_CELL = 60


def as_json(result: History) -> str:
    return json.dumps({"model": result.model, **result.to_dict()}, indent=2, sort_keys=True, ensure_ascii=False)


def as_text(result: History) -> str:
    model = result.model
    if not result.rows:
        return f"{clean(model)}: no version yet (versions are tagged by `mlops-actions register` on merge)" \
            if model else "no versions yet (versions are tagged by `mlops-actions register` on merge)"
    table = text_table(["version", "date (UTC)", "fingerprint", "metrics", "approvers", "deployed"],
                       [_cells(row) for row in result.rows])
    lines = [f"deployed: {result.placement.label}", "", table]
    if result.invalid:
        lines += ["", f"{len(result.invalid)} version record(s) are invalid and not trusted:"]
        lines += [f"  {row.tag}: {clean(row.problem or '')}" for row in result.invalid]
    if result.last:
        lines += ["", "last deployment per environment (GitHub Deployments):", _last_table(result)]
    if result.notes:
        lines += ["", "notes:"] + [f"  {clean(note)}" for note in result.notes]
    return "\n".join(lines)


def _last_table(result: History) -> str:
    rows = [[d.environment, f"{d.model}@{d.version}", d.label, _date(d.date), str(d.deployment_id),
             _cut(d.environment_url or d.description) or "-"] for d in result.last]
    return text_table(["environment", "version", "status", "since (UTC)", "deployment", "url / description"], rows)


def _cells(row: Row) -> list[str]:
    deployed = ", ".join(row.deployed) or "-"
    if row.problem is not None:
        return [row.tag, _date(row.date), "-", _cut("INVALID: " + row.problem), "-", deployed]
    return [row.tag, _date(row.date), row.short_fingerprint, _metrics(row), _cut(", ".join(row.approvers)) or "-",
            deployed]


def _metrics(row: Row) -> str:
    values = dict(row.metrics)
    shown = [f"{name}={_number(values[name])}" for name in row.key_metrics[:MAX_METRICS_SHOWN]]
    more = len(row.key_metrics) - MAX_METRICS_SHOWN
    return _cut(" ".join(shown) + (f" (+{more})" if more > 0 else "")) or "-"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _date(stamp: str) -> str:
    return stamp[:16].replace("T", " ") if len(stamp) >= 16 else clean(stamp)


def _cut(text: str) -> str:
    text = clean(text)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def clean(text: str) -> str:
    """Text from a tag or record, safe for a terminal: control characters become '?'."""
    text = str(text)
    return text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)


RENDERERS: Renderers[History] = {"text": as_text, "json": as_json}
