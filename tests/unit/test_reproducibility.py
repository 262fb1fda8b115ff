"""Reproducibility per model (pure): exact means the reviewed sha256; metrics means every reviewed number within
the tolerance, both sets kept; what differs between two artifacts is named by step or file; the evidence line
carries the reviewed numbers (and stays a closed HTML comment whatever the metric names)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_actions.registry import evidence as ev
from mlops_actions.training import reproducibility as repro
from mlops_actions.training.artifact import artifact_parts, dump_model, files_artifact


def record(rule: str = "metrics", tolerance: float = 0.01, sha: str = "a" * 64, **metrics: float | None) -> dict:
    return {"artifact": {"sha256": sha}, "reproducibility": {"rule": rule, "tolerance": tolerance},
            "metrics": metrics or {"accuracy": 0.8}, "fairness": {"demographic_parity_difference": 0.1}}


def test_exact_compares_the_sha256_only() -> None:
    same = repro.check_rebuild(record("exact"), repro.Reviewed("a" * 64))
    other = repro.check_rebuild(record("exact"), repro.Reviewed("b" * 64))
    assert same.ok and same.record_fields() == {"rule": "exact"}
    assert not other.ok and "reproducibility: exact" in other.problems[0]


def test_metrics_within_tolerance_ships_the_rebuild_and_keeps_both() -> None:
    reviewed = {"metrics.accuracy": 0.805, "fairness.demographic_parity_difference": 0.1}
    verdict = repro.check_rebuild(record(sha="c" * 64, accuracy=0.8), repro.Reviewed("d" * 64, reviewed))
    assert verdict.ok  # another artifact: not bit-exact, but every number within 0.01
    assert verdict.record_fields() == {"rule": "metrics", "tolerance": 0.01, "reviewed": reviewed,
                                       "rebuilt": {"metrics.accuracy": 0.8,
                                                   "fairness.demographic_parity_difference": 0.1}}


def test_metrics_outside_tolerance_name_each_number() -> None:
    reviewed = {"metrics.accuracy": 0.9, "metrics.f1": 0.5, "fairness.demographic_parity_difference": 0.1}
    verdict = repro.check_rebuild(record(accuracy=0.8, f1=None), repro.Reviewed("a" * 64, reviewed))
    assert not verdict.ok
    assert verdict.problems == ("metrics.accuracy: 0.9 reviewed, 0.8 rebuilt (difference 0.1 > tolerance 0.01)",
                                "metrics.f1: 0.5 reviewed, null rebuilt")
    missing = repro.check_rebuild(record(), repro.Reviewed("a" * 64, {}))
    assert not missing.ok and "showed no numbers" in missing.problems[0]


def test_a_record_without_a_rule_is_exact() -> None:
    assert repro.rule_of({"artifact": {}}) == ("exact", 0.0)


def test_artifact_differences_name_the_step_or_the_file() -> None:
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7})
    y = np.array(["n", "y"] * 20)
    one = dump_model(make_pipeline(StandardScaler(), LogisticRegression(C=1.0)).fit(X, y)).data
    two = dump_model(make_pipeline(StandardScaler(), LogisticRegression(C=0.1)).fit(X, y)).data
    assert repro.artifact_differences(one, one) == []
    found = repro.artifact_differences(one, two)
    assert "step Pipeline.steps > LogisticRegression.C: differs" in found
    assert "step Pipeline.steps > LogisticRegression.coef_: differs" in found
    zips = [files_artifact({"w.json": b"1", "cfg": c}).data for c in (b"a", b"b")]
    assert repro.artifact_differences(*zips) == ["file cfg: content differs"]


@pytest.mark.parametrize("name", ["models/a--b/metrics.py:gap", "x-->y"])
def test_evidence_carries_numbers_and_stays_one_comment(name: str) -> None:
    shown = {"m": ev.Shown("a" * 64, "f" * 64, numbers={f"metrics.{name}": 0.25, "metrics.accuracy": None})}
    line = ev.render("1" * 40, shown)
    assert line.count("-->") == 1 and line.endswith(" -->")
    parsed = ev.parse(line)
    assert parsed is not None and dict(parsed.models["m"].numbers) == {f"metrics.{name}": 0.25,
                                                                        "metrics.accuracy": None}


# --- per-part hashes: register names the step or file a rebuild changed ------------------------------------

def _fitted(C: float, scale: bool = True) -> bytes:
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import MinMaxScaler, StandardScaler

    X = pd.DataFrame({"a": np.arange(40.0), "b": np.arange(40.0) % 7})
    y = np.array(["n", "y"] * 20)
    pre = ColumnTransformer([("numeric", Pipeline([("scale", StandardScaler() if scale else MinMaxScaler())]),
                              ["a", "b"])])
    return dump_model(Pipeline([("preprocess", pre), ("estimator", LogisticRegression(C=C))]).fit(X, y)).data


def _record(data: bytes, fmt: str = "skops") -> dict:
    from mlops_actions.training.artifact import Artifact

    return {"artifact": Artifact(data, "model.skops" if fmt == "skops" else "model.zip", fmt).to_record()}


def test_each_fitted_step_has_its_own_sha256_in_the_record() -> None:
    parts = _record(_fitted(1.0))["artifact"]["parts"]
    assert set(parts) == {"(pipeline)", "preprocess", "preprocess/numeric", "preprocess/numeric/scale", "estimator"}
    assert _record(_fitted(1.0))["artifact"]["parts"] == parts  # deterministic
    other = _record(_fitted(0.1))["artifact"]["parts"]
    assert [k for k in parts if parts[k] != other[k]] == ["estimator"]  # a changed estimator renumbers nothing


def test_the_refusal_names_the_step_that_differs_and_what_to_do() -> None:
    reviewed = _record(_fitted(1.0))
    rebuilt = _record(_fitted(0.1))
    assert repro.part_differences(rebuilt, repro.part_digests(reviewed)) == ["step estimator"]
    verdict = repro.check_rebuild(rebuilt, repro.Reviewed(reviewed["artifact"]["sha256"],
                                                         parts=repro.part_digests(reviewed)))
    assert not verdict.ok
    assert "what differs: step estimator; make these steps' fit deterministic" in verdict.problems[0]
    assert "reproducibility: metrics" in verdict.problems[0]
    scaled = repro.part_differences(_record(_fitted(1.0, scale=False)), repro.part_digests(reviewed))
    assert scaled is not None and "step preprocess/numeric/scale" in scaled  # and what it feeds


def test_the_refusal_names_the_file_of_a_command_artifact() -> None:
    reviewed = _record(files_artifact({"w.json": b"1", "cfg": b"a"}).data, "files")
    rebuilt = _record(files_artifact({"w.json": b"1", "cfg": b"b", "log.txt": b"x"}).data, "files")
    digests = repro.part_digests(reviewed)
    assert repro.part_differences(rebuilt, digests) == ["file cfg", "file log.txt"]
    note = repro.difference_note(rebuilt, digests)
    assert note.startswith("what differs: file cfg, file log.txt; make the command write these files the same way")
    gone = _record(files_artifact({"w.json": b"1"}).data, "files")
    assert repro.part_differences(gone, digests) == ["1 file(s) the review had that the rebuild does not"]


def test_parts_unknown_on_either_side_say_so() -> None:
    rebuilt = _record(_fitted(0.1))
    older = {"artifact": {k: v for k, v in rebuilt["artifact"].items() if k != "parts"}}
    assert repro.part_differences(rebuilt, {}) is None and repro.part_differences(older, {"0" * 8: "1" * 8}) is None
    verdict = repro.check_rebuild(older, repro.Reviewed("b" * 64))
    assert "which step or file differs is unknown" in verdict.problems[0]
    assert artifact_parts(b"not a zip", "skops") == {}


def test_evidence_carries_part_digests_and_ignores_malformed_ones() -> None:
    digests = repro.part_digests(_record(_fitted(1.0)))
    line = ev.render("1" * 40, {"m": ev.Shown("a" * 64, "f" * 64, parts=digests)})
    parsed = ev.parse(line)
    assert parsed is not None and dict(parsed.models["m"].parts) == digests
    bad = line.replace(next(iter(digests.values())), "not-hex!")
    reparsed = ev.parse(bad)
    assert reparsed is not None and dict(reparsed.models["m"].parts) == {}  # unknown, not a lost report
