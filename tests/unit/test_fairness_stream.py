"""The fairness engine streamed over batches equals the engine on the whole table (bootstrap off)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_actions.errors import InputError
from mlops_actions.fairness import FairnessOptions, evaluate
from mlops_actions.fairness.stream import FairnessStream


def _table(rows: int, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame({"y": rng.integers(0, 2, rows), "pred": rng.integers(0, 2, rows),
                         "sex": rng.choice(["F", "M", "X"], rows, p=[0.5, 0.45, 0.05]),
                         "region": rng.choice(["north", "south"], rows), "value": rng.normal(size=rows)})


def _streamed(frame: pd.DataFrame, batch: int, **kwargs) -> FairnessStream:
    stream = FairnessStream(**kwargs)
    for start in range(0, len(frame), batch):
        part = frame.iloc[start:start + batch]
        y, pred = ("y", "pred") if kwargs.get("task") != "regression" else ("value", "value2")
        stream.add(part[y], part[pred], {c: part[c] for c in ("sex", "region")})
    return stream


@pytest.mark.parametrize("batch", [97, 10_000])
def test_classification_in_batches_equals_the_whole_table(batch: int) -> None:
    frame = _table(5_000)
    whole = evaluate(frame["y"], frame["pred"], frame[["sex"]], FairnessOptions(pos_label=1, bootstrap=0),
                     control_features=frame[["region"]])
    streamed = _streamed(frame, batch, sensitive=["sex"], control=["region"], pos_label=1).report()
    assert streamed.summary.keys() == whole.summary.keys()
    for key, value in whole.summary.items():
        assert streamed.summary[key] == pytest.approx(value, nan_ok=True), key
    assert streamed.by_group["n"].tolist() == whole.by_group["n"].tolist()
    assert streamed.warnings == whole.warnings


def test_regression_in_batches_equals_the_whole_table() -> None:
    frame = _table(3_000).assign(value2=lambda f: f["value"] * 0.9 + (f["sex"] == "X") * 0.5)
    whole = evaluate(frame["value"], frame["value2"], frame[["sex"]], FairnessOptions(task="regression"))
    streamed = _streamed(frame, 211, sensitive=["sex"], task="regression").report()
    for key, value in whole.summary.items():
        assert streamed.summary[key] == pytest.approx(value, rel=1e-9), key


def test_missing_group_values_are_refused() -> None:
    stream = FairnessStream(["sex"])
    with pytest.raises(InputError, match="sex has 1 missing values"):
        stream.add([1, 0], [1, 1], {"sex": pd.Series(["F", None])})
    with pytest.raises(InputError, match="0 rows"):
        stream.report()
