"""The PR report: verdict line first, per-model sections in order, deterministic bytes, GitHub's size limits."""

from __future__ import annotations

import random
import re

import pytest

from mlops_actions.reporting.comment import (
    COMMENT_LIMIT,
    MARKER,
    SUMMARY_LIMIT,
    ReportContext,
    github_length,
    overall_verdict,
    render_comment,
    render_summary,
)
from mlops_actions.reporting.modelcard import model_card
from testkit.reportkit import assert_safe_markdown, model

GATES = [{"metric": "accuracy", "min": 0.7}, {"metric": "accuracy", "max_regression": 0.01},
         {"fairness": "demographic_parity_difference", "max": 0.1, "action": "warn"}]


def test_marker_first_then_the_verdict_line() -> None:
    text = render_comment([model("churn", gates=GATES)], ReportContext())
    lines = text.split("\n")
    assert lines[0] == MARKER
    assert lines[1].startswith("## ✅ pass · mlops-actions report: **pass**")
    assert text.endswith("\n")


def test_summary_variant_has_no_marker_but_the_same_content() -> None:
    m = [model("churn", gates=GATES)]
    comment, summary = render_comment(m, ReportContext()), render_summary(m, ReportContext())
    assert not summary.startswith(MARKER)
    assert comment == MARKER + "\n" + summary


def test_a_failed_gate_fails_the_verdict_and_is_counted() -> None:
    failing = model("b", metrics={"accuracy": 0.5}, gates=GATES)
    text = render_comment([model("a", gates=GATES), failing], ReportContext())
    assert text.split("\n")[1].startswith("## ❌ fail · mlops-actions report: **fail** — 2 models retrained · "
                                          "1 gate failed · 0 warnings")
    assert "### ❌ fail · model `b`" in text
    assert "0.5 is below the minimum 0.7" in text
    assert overall_verdict([failing]) == "fail"


def test_a_warning_gives_a_warn_verdict() -> None:
    m = model("a", gates=[{"fairness": "demographic_parity_difference", "max": 0.01, "action": "warn"}])
    assert m.verdict == "warn"
    assert "## ⚠️ warn" in render_comment([m], ReportContext())


def test_problems_loading_results_fail_the_report() -> None:
    assert overall_verdict([model("a")], ["results of x unreadable"]) == "fail"


def test_sections_come_in_the_documented_order() -> None:
    text = render_comment([model("churn", gates=GATES, baseline={"accuracy": 0.79})], ReportContext())
    order = ["### ", "**Why retrained:**", "**Baseline:**", "| metric", "**Fairness:**", "<details>",
             "#### What changed", "#### Metrics", "#### Fairness", "**Per group**", "```mermaid", "#### Gates",
             "**Identity**", "</details>"]
    positions = [text.index(marker) for marker in order]
    assert positions == sorted(positions)


def test_metrics_against_a_baseline_show_direction_aware_change() -> None:
    m = model("churn", metrics={"accuracy": 0.75}, baseline={"metrics": {"accuracy": 0.8},
                                                              "params": {"class": "x", "params": {"C": 1.0}}})
    text = render_comment([m], ReportContext())
    assert re.search(r"\| accuracy +\| higher +\| 0\.8 +\| 0\.75 +\| -0\.05 +\| ▼ worse +\|\n", text)  # glance
    assert re.search(r"\| accuracy +\| higher +\| 0\.8 +\| 0\.75 +\| -0\.05 +\| ▼ worse +\| -6\.3% +\|", text)
    assert re.search(r"\| C +\| changed +\| `1\.0` +\| `2\.0`", text)
    assert re.search(r"\| class +\| changed +\| `\"x\"`", text)
    assert "`m`" not in text and "`churn@v1`, the latest registered version" in text


def test_a_new_model_says_so_and_why() -> None:
    text = render_comment([model("churn", gates=GATES)], ReportContext())
    assert "none: **new model**" in text
    assert "not applicable \\(new model\\)" in text
    assert "no registered version" in text


def test_models_are_sorted_so_input_order_does_not_matter() -> None:
    models = [model(n) for n in ("b", "c", "a")]
    assert render_comment(models, ReportContext()) == render_comment(sorted(models, key=lambda m: m.name),
                                                                     ReportContext())


def test_same_inputs_same_bytes() -> None:
    def build() -> str:
        return render_comment([model(f"m{i}", groups=[f"g{j}" for j in range(5)], gates=GATES) for i in range(3)],
                              ReportContext(base_ref="main", head_ref="feature"))

    assert build().encode() == build().encode()


def test_empty_report_says_nothing_needs_review() -> None:
    text = render_comment([], ReportContext(unchanged=("churn",)))
    assert "No model needs retraining" in text and "Unchanged: `churn`." in text
    assert "**pass**" in text


def test_long_tables_are_collapsed_in_details() -> None:
    text = render_comment([model("m", groups=[f"g{i}" for i in range(20)])], ReportContext())
    details = text[text.index("<details>"):]
    assert "**Per group** (20 groups): rates with 95% Wilson intervals" in details
    assert text.count("<details>") == text.count("</details>")


def test_github_length_counts_utf16_units() -> None:
    assert github_length("ab") == 2
    assert github_length("✅") == 1
    assert github_length("😀") == 2


def _many(models: int, groups: int) -> list:
    rng = random.Random(7)
    return [model(f"model-{i:03d}", groups=[f"group-{j:03d}-{rng.randint(0, 9)}" for j in range(groups)],
                  gates=GATES, baseline={"metrics": {"accuracy": 0.79}, "fairness": {}},
                  warnings=[f"small group group-{j:03d}" for j in range(groups // 2)]) for i in range(models)]


def test_forty_models_of_sixty_groups_fit_in_one_comment() -> None:
    models = _many(40, 60)
    text = render_comment(models, ReportContext())
    assert github_length(text) <= COMMENT_LIMIT
    assert text.startswith(MARKER + "\n## ")
    assert "Shortened to fit GitHub's size limit" in text
    assert_safe_markdown(text)
    assert text.count("<details>") == text.count("</details>")
    for i in range(40):  # every model keeps its verdict row and its glance
        assert f"| `model-{i:03d}`" in text
    assert text.count("### ✅ pass · model") == 40


def test_the_summary_keeps_everything_the_comment_had_to_cut() -> None:
    models = _many(40, 60)
    summary = render_summary(models, ReportContext())
    assert len(summary.encode()) <= SUMMARY_LIMIT
    assert "Shortened" not in summary
    assert summary.count("```mermaid") == 40
    assert "group-059" in summary


def test_degrades_in_steps_collapse_first_then_cut_sections() -> None:
    models = _many(3, 400)
    full = render_summary(models, ReportContext())
    limit = github_length(full) - 1000
    text = render_comment(models, ReportContext(), limit=limit)
    assert github_length(text) <= limit
    assert "pictures, fairness by group" not in text  # compacted folds: no pictures, no per-group tables
    assert "left out" not in text.split("Shortened")[1].split(".")[0]  # no whole section had to go


def test_cuts_least_important_sections_first_and_names_them() -> None:
    models = _many(10, 60)
    text = render_comment(models, ReportContext(), limit=30_000)
    assert github_length(text) <= 30_000
    note = text[text.index("Shortened"):]
    assert "folded details" in note
    assert text.count("### ✅ pass · model") == 10
    assert_safe_markdown(text)


@pytest.mark.parametrize("limit", [4_000, 1_500])
def test_thousands_of_models_still_fit_and_stay_well_formed(limit: int) -> None:
    models = [model(f"m{i:04d}", groups=[]) for i in range(300)]
    text = render_comment(models, ReportContext(), limit=limit)
    assert github_length(text) <= limit
    assert text.startswith(MARKER)
    assert_safe_markdown(text)


def test_model_card_has_spec_prose_metrics_fairness_and_identity() -> None:
    from dataclasses import replace

    m = model("churn", gates=GATES)
    m = replace(m, spec=replace(m.spec, description="Predicts churn.", intended_use="Retention offers.",
                                limitations="Only EU customers.", owners=("@acme/ml",)))
    card = model_card(m)
    for part in ("# Model card: `churn`", "## Description\n\nPredicts churn.", "## Intended use\n\nRetention offers.",
                 "## Limitations\n\nOnly EU customers.", "## Training", "## Data", "## Metrics", "## Fairness",
                 "## Gates at training time: ✅ pass", "## Identity", "ab" * 32):
        assert part in card
    assert model_card(m) == card


def test_model_card_says_what_the_spec_lacks() -> None:
    card = model_card(model("churn"))
    assert "No description in the spec (add `description`)." in card
    assert "_Not stated in the spec (add `limitations`)._" in card


def test_collapsed_fairness_keeps_main_disparities_and_first_warnings() -> None:
    text = render_comment(_many(40, 60), ReportContext())
    assert "- … and 25 more warnings in the job summary" in text
    summary = render_summary(_many(1, 60), ReportContext())
    assert "- ⚠️ small group group-029" in summary and "more warnings" not in summary


def test_why_fairness_is_missing_is_said() -> None:
    from dataclasses import replace

    no_groups = model("m", groups=[])
    assert "_Per-group fairness is not available (see the notes above)._" in render_comment(
        [replace(no_groups, fairness_changes=())], ReportContext())
    no_sensitive = replace(no_groups, fairness_changes=(), spec=replace(no_groups.spec, data=replace(
        no_groups.spec.data, sensitive=())))
    assert "No sensitive features in the spec" in render_comment([no_sensitive], ReportContext())


def _real_model(name: str, seed: int):
    """A model report built the way ``report`` builds it: measured fairness over three sensitive columns,
    held-out replicates and pictures, a registered baseline."""
    import numpy as np
    import pandas as pd

    from mlops_actions.convention.model import Policy
    from mlops_actions.evaluation.assess import Candidate, Evidence, Rules, assess
    from mlops_actions.evaluation.baseline import REGISTERED, Baseline
    from mlops_actions.evaluation.fairness_measure import Rows, Settings, measure
    from mlops_actions.evaluation.heldout import of_frame
    from testkit.reportkit import record, spec

    rng = np.random.default_rng(seed)
    n = 3000
    truth = rng.random(n) < 0.3
    score = 1 / (1 + np.exp(-(truth * 2.0 - 1 + rng.normal(0, 1, n))))
    frame = pd.DataFrame({"y_true": np.where(truth, "1", "0"), "y_pred": np.where(score >= 0.5, "1", "0"),
                          "y_score": score, "race": rng.choice(["a", "b", "c", "d", "e"], n),
                          "sex": rng.choice(["0.0", "1.0"], n), "age": rng.choice(["<30", "30-60", ">60", "?"], n,
                                                                                 p=[0.3, 0.5, 0.19, 0.01])})
    metrics = {"accuracy": 0.8, "balanced_accuracy": 0.75, "roc_auc": 0.85, "log_loss": 0.4}
    directions = {"accuracy": "higher", "balanced_accuracy": "higher", "roc_auc": "higher", "log_loss": "lower"}
    s = spec(name, [{"metric": "accuracy", "min": 0.9}, {"metric": "roc_auc", "max_regression": 0.01},
                    {"fairness": "demographic_parity_difference", "max": 0.01, "action": "warn"}],
             sensitive=("race", "sex", "age"))
    view = measure(Rows.of(frame), Settings.of(s), "classification").view
    old = {**record(name, metrics={k: v - 0.01 for k, v in metrics.items()},
                    fairness={"demographic_parity_difference": 0.05}), "rows": {"train": 9000, "test": 3000}}
    evidence = Evidence(of_frame(frame, "classification", list(metrics)), None, None, 0.5, fairness=view)
    return assess(Candidate(name, "classification", record(name, metrics=metrics), metrics, directions),
                  Rules(s, Policy()), baseline=Baseline(REGISTERED, name, "v3", None, old),
                  reasons=("spec changed: estimator.params.C: 1.0 → 2.0", "data changed: data/d.csv"),
                  evidence=evidence)


def _unfolded(text: str) -> list[str]:
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


def test_five_models_with_three_sensitive_columns_stay_short() -> None:
    models = [_real_model(f"model-{i}", i) for i in range(5)]
    text = render_comment(models, ReportContext(base_ref="main", head_ref="retrain"))
    shown = _unfolded(text)
    assert len(shown) < 120, "\n".join(shown)
    assert github_length(text) < COMMENT_LIMIT
    assert "Shortened" not in text  # nothing had to be cut
    assert "+0.01 [" in text and "its spread is taken to be the candidate's" in text  # unpaired, assumed
    assert text.count("```mermaid") == 5 * 4  # ROC, PR, calibration, fairness per model
    for part in text.split("\n### ")[1:]:
        assert len(part.split("<details>")[0].strip("\n").split("\n")) <= 25
    assert_safe_markdown(text)


@pytest.mark.slow
def test_a_thousand_models_get_a_summary_that_says_where_the_full_report_is() -> None:
    models = [model(f"m{i:04d}", groups=["a", "b"], metrics={"accuracy": 0.5 if i % 97 == 0 else 0.8},
                    gates=GATES, baseline={"metrics": {"accuracy": 0.79 - (i % 13) / 100}}) for i in range(1000)]
    text = render_comment(models, ReportContext(base_ref="main"))
    assert github_length(text) <= COMMENT_LIMIT and "cut here" not in text
    assert "**1,000 models retrained:** ❌ fail 11 · ⚠️ warn 0 · ✅ pass 989" in text
    assert "every model's full report is in this run's job summary" in text
    failing = [f"m{i:04d}" for i in range(1000) if i % 97 == 0]
    for name in failing:  # every failing model is listed and gets its glance
        assert f"| `{name}`" in text and f"### ❌ fail · model `{name}`" in text
    assert "**Largest metric changes**" in text and "### ✅ pass" not in text
    assert_safe_markdown(text)
    summary = render_summary(models, ReportContext(base_ref="main"))
    assert all(f"| `m{i:04d}`" in summary for i in range(1000))  # the job summary lists every model
