"""Helpers for the report tests: build model reports from plain values, and check Markdown is safe."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.evaluation.assess import Candidate, Evidence, FairnessView, GroupRow, ModelReport, Rules, assess
from mlops_actions.evaluation.baseline import NEW, REGISTERED, Baseline
from testkit import FIXTURES as KIT_FIXTURES

FIXTURES = KIT_FIXTURES / "report"
SHA = "ab" * 32
HOSTILE = (
    "<img src=x onerror=alert(1)>",
    "| a | b |",
    "@octocat",
    "[x](javascript:alert(1))",
    "`code` ``` fence",
    "line one\nline two\r\n# heading",
    "<script>alert(1)</script>",
    "https://evil.example/x www.evil.example #12",
    "![img](https://evil.example/i.png)",
    "\u202eevil\u202c",
)
ALLOWED_TAGS = ("<details>", "</details>", "<summary>", "</summary>", "<sub>", "</sub>",
                "<!-- mlops-actions:report -->")


def record(name: str = "m", *, metrics: Mapping[str, Any] | None = None, fairness: Mapping[str, Any] | None = None,
           params: Mapping[str, Any] | None = None, rows: int = 100, sha: str = SHA,
           columns: Mapping[str, str] | None = None) -> dict[str, Any]:
    return {
        "record_version": 1, "model": name, "task": "classification", "fingerprint": sha, "spec_sha256": sha,
        "data": [{"path": "data/d.csv", "hash": "git:" + "1" * 40, "rows": rows, "columns": dict(columns or {})}],
        "params": {"class": "sklearn.linear_model.LogisticRegression", "params": dict(params or {"C": 1.0})},
        "metrics": dict(metrics or {"accuracy": 0.8}), "fairness": dict(fairness or {}),
        "libraries": {"scikit-learn": "1.5.2"},
        "artifact": {"file": "model.skops", "sha256": sha, "format": "skops", "size": 10},
    }


def spec(name: str = "m", gates: Sequence[Mapping[str, Any]] = (), sensitive: Sequence[str] = ("g",),
         **extra: Any) -> ModelSpec:
    data = {"name": name, "task": "classification",
            "data": {"path": "data/d.csv", "format": "csv", "target": "y", "features": {"x": "numeric"},
                     "sensitive": list(sensitive)},
            "estimator": {"class": "sklearn.linear_model.LogisticRegression"},
            "metrics": {"accuracy": "higher"}, "gates": list(gates), **extra}
    return ModelSpec.from_dict(data, f"models/{name}/model.yaml")


def view(groups: Sequence[str], *, feature: str = "g", warnings: Sequence[str] = (),
         summary: Mapping[str, float | None] | None = None) -> FairnessView:
    rows = tuple(GroupRow((g,), 100 + i, {"selection_rate": 0.5 + i / 1000, "tpr": 0.7},
                          {"selection_rate": (0.4, 0.6), "tpr": (0.6, 0.8)}) for i, g in enumerate(groups))
    return FairnessView((feature,), ("selection_rate", "tpr"), rows,
                        dict(summary or {"demographic_parity_difference": 0.05}), tuple(warnings),
                        chart_metric="selection_rate")


def model(name: str = "m", *, groups: Sequence[str] = ("a", "b"), metrics: Mapping[str, Any] | None = None,
          baseline: Mapping[str, Any] | None = None, gates: Sequence[Mapping[str, Any]] = (),
          reasons: Sequence[str] = ("spec changed",), policy: Policy | None = None,
          feature: str = "g", warnings: Sequence[str] = ()) -> ModelReport:
    metrics = dict(metrics or {"accuracy": 0.8})
    cand = Candidate(name, "classification", record(name, metrics=metrics, params={"C": 2.0}), metrics,
                     {"accuracy": "higher"}, {"0": 0.4, "1": 0.6})
    base = (Baseline(REGISTERED, name, "v1", None, baseline) if baseline is not None
            else Baseline(NEW, name, notes=("no registered version",)))
    fair = view(groups, feature=feature, warnings=warnings) if groups else None
    return assess(cand, Rules(spec(name, gates), policy or Policy()), baseline=base, reasons=reasons,
                  evidence=Evidence(fairness=fair))


_CODE_SPAN = re.compile(r"`[^`\n]*`")
_ESCAPED_PIPE = re.compile(r"\\\|")


def outside_code(text: str) -> str:
    """The text with fenced blocks and code spans removed (what GitHub renders as Markdown)."""
    kept, fenced = [], False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
            continue
        if not fenced:
            kept.append(_CODE_SPAN.sub("", line))
    assert not fenced, "a code fence is left open"
    return "\n".join(kept)


def assert_safe_markdown(text: str) -> None:
    """No HTML but our own tags, no links, no mentions, no references, tables with a fixed column count."""
    prose = outside_code(text)
    for tag in re.findall(r"<[^>\n]*>?", prose):
        assert tag in ALLOWED_TAGS, f"raw HTML in the report: {tag!r}"
    assert not re.search(r"(?<![\\`])\]\(", prose), "a Markdown link"
    assert not re.search(r"(?i)(javascript|https?|data):", prose), "a URL scheme"
    assert not re.search(r"(?i)\bwww\.", prose), "an autolink"
    assert not re.search(r"@[A-Za-z0-9]", prose), "a mention"
    assert not re.search(r"#[0-9]", prose.replace("&#58;", "").replace("&#46;", "")), "an issue reference"
    assert "\u202e" not in text
    _assert_tables(text)


def _assert_tables(text: str) -> None:
    width = None
    for line in text.split("\n"):
        if not line.startswith("|"):
            width = None
            continue
        cells = len(_ESCAPED_PIPE.sub("", line).split("|"))
        width = width or cells
        assert cells == width, f"a table row with {cells - 2} cells instead of {width - 2}: {line!r}"


def write_results(out: Path, name: str = "arrests", *, rows: int = 400, seed: int = 0,
                  metrics: Mapping[str, Any] | None = None) -> Path:
    """A results folder like ``train`` writes: the fixture's metrics and record plus generated predictions."""
    import json
    import shutil

    import numpy as np
    import pandas as pd

    folder = out / name
    shutil.copytree(FIXTURES / "arrests", folder)
    if metrics is not None:
        data = json.loads((folder / "metrics.json").read_text())
        data["metrics"].update(metrics)
        (folder / "metrics.json").write_text(json.dumps(data))
    rng = np.random.default_rng(seed)
    pd.DataFrame({"y_true": rng.choice(["Yes", "No"], rows, p=[0.8, 0.2]),
                  "y_pred": rng.choice(["Yes", "No"], rows, p=[0.9, 0.1]),
                  "colour": rng.choice(["Black", "White"], rows),
                  "sex": rng.choice(["Male", "Female"], rows)}).to_parquet(folder / "predictions.parquet")
    return folder
