"""Fairness on current data gives one answer whether the data is read whole or counted batch by batch
(``monitor --stream``, tables larger than memory): the same groupings (marginal, and the intersections the
spec asks for), the same classes, the same small groups left out, missing sensitive values as the spec says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from mlops_actions.convention.model import ModelSpec
from mlops_actions.errors import InputError
from mlops_actions.evaluation.fairness_measure import Rows
from mlops_actions.monitoring.fairness_check import FairnessCells, changes_from_cells, fairness_changes
from testkit import realdata

DISPARITIES = [f"{kind}_{how}{where}" for kind in ("demographic_parity", "equal_opportunity", "equalized_odds")
               for how in ("difference", "ratio") for where in ("", "@to_overall")]


def _spec(text: str, name: str, **changes: object) -> ModelSpec:
    data = yaml.safe_load(text)
    for key, value in changes.items():
        section, _, field = key.partition("__")
        data[section][field] = value
    return ModelSpec.from_dict(data, f"models/{name}/model.yaml")


def _loans(rows: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    white = rng.choice([1.0, 0.0, np.nan], rows, p=[0.8, 0.18, 0.02])  # missing values: a "missing" group
    male = rng.choice([1.0, 0.0], rows, p=[0.995, 0.005])  # women: a group under min_group_size
    married = rng.choice([1, 0], rows)
    truth = rng.random(rows) < 0.85
    pred = np.where(rng.random(rows) < 0.8 + 0.1 * (white == 1), truth, ~truth)
    frame = pd.DataFrame({"white": white, "male": male, "married": married, "approve": truth.astype(int),
                          "prediction": pred.astype(int)})
    frame.loc[rng.random(rows) < 0.01, "approve"] = np.nan  # unlabelled rows are left out by both paths
    return frame


def _both(frame: pd.DataFrame, spec: ModelSpec, target: str, recorded: dict, batches: int = 5) -> tuple:
    current = Rows(frame[target], frame["prediction"], frame)
    memory = fairness_changes(current, spec, recorded, display="live.parquet", min_group_size=30)
    cells = FairnessCells(spec, "live.parquet")
    for part in np.array_split(np.arange(len(frame)), batches):
        batch = frame.iloc[part]
        cells.add(batch[target], batch["prediction"], batch)
    return memory, changes_from_cells(cells, recorded, min_group_size=30)


def test_a_binary_classifier_with_intersections_small_and_missing_groups() -> None:
    spec = _spec(realdata.LOANS, "loans")
    memory, streamed = _both(_loans(6000, 1), spec, "approve", dict.fromkeys(DISPARITIES, 0.1))
    assert streamed == memory
    assert len(memory) == len(DISPARITIES) and all(c.current is not None for c in memory)


def test_small_groups_are_left_out_as_in_memory_not_counted_in_the_intersection() -> None:
    """One small group (10 women, every prediction wrong) would decide the difference if it were counted;
    min_group_size leaves it out, batch by batch as in memory."""
    spec = _spec(realdata.LOANS, "loans", fairness__intersections=False)
    frame = _loans(6000, 2).dropna(subset=["approve"])
    frame["male"] = 1.0
    frame.iloc[:10, frame.columns.get_loc("male")] = 0.0
    frame.iloc[:10, frame.columns.get_loc("prediction")] = 1 - frame.approve.iloc[:10].astype(int)
    memory, streamed = _both(frame, spec, "approve", {"demographic_parity_difference": 0.1})
    assert streamed == memory and memory[0].current is not None and memory[0].current < 0.2


def test_a_multi_class_model_measured_one_class_against_the_rest() -> None:
    spec = _spec(realdata.MARRIAGE, "marriage")
    rng = np.random.default_rng(3)
    frame = pd.DataFrame({"male": rng.choice([0, 1], 3000), "ratemarr": rng.integers(1, 6, 3000),
                          "prediction": rng.integers(1, 6, 3000)})
    memory, streamed = _both(frame, spec, "ratemarr", {"demographic_parity_difference": 0.2}, batches=7)
    assert streamed == memory and memory[0].current is not None


def test_a_regressor_gives_the_same_gaps_to_rounding() -> None:
    spec = _spec(realdata.WAGES, "wages")
    rng = np.random.default_rng(4)
    rows = 5000
    frame = pd.DataFrame({"female": rng.choice([0, 1], rows), "nonwhite": rng.choice([0, 1], rows, p=[0.9, 0.1]),
                          "wage": rng.gamma(2.0, 3.0, rows)})
    frame["prediction"] = frame.wage + rng.normal(0, 1 + frame.female, rows)
    memory, streamed = _both(frame, spec, "wage", {"mae_difference": 1.0, "rmse_difference": 1.0})
    assert [(c.name, c.verdict, c.limit) for c in streamed] == [(c.name, c.verdict, c.limit) for c in memory]
    for mine, theirs in zip(streamed, memory, strict=True):
        assert mine.current == pytest.approx(theirs.current, rel=1e-12)


def test_missing_sensitive_values_are_refused_with_the_total_when_the_spec_says_error() -> None:
    spec = _spec(realdata.LOANS, "loans", data__missing={"sensitive": "error"})
    frame = _loans(3000, 5)
    with pytest.raises(InputError) as memory:
        _both(frame, spec, "approve", {}, batches=1)
    with pytest.raises(InputError) as streamed:
        cells = FairnessCells(spec, "live.parquet")
        for part in np.array_split(np.arange(len(frame)), 4):
            cells.add(frame.approve.iloc[part], frame.prediction.iloc[part], frame.iloc[part])
        changes_from_cells(cells, {}, min_group_size=30)
    assert str(streamed.value) == str(memory.value) and "'white' (" in str(memory.value)
