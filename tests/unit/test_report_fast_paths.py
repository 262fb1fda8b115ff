"""The report's fast paths give exactly what the plain computations give (the report must stay byte-identical):
NaN-skipping reductions without numpy's warning machinery, all tail quantiles in one call, text columns read
as categoricals, and the label codes and class shares computed from those categoricals."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_actions.evaluation import heldout, results
from mlops_actions.evaluation.fairness_measure import readable_column
from mlops_actions.fairness.disparities import nanmax, nanmin, tail_quantiles


@pytest.mark.parametrize("seed", range(40))
def test_reductions_and_quantiles_equal_numpys_nan_functions(seed: int) -> None:
    rng = np.random.default_rng(seed)
    width = int(rng.integers(1, 1200))
    rows = rng.random((6, width)) if seed % 2 else rng.integers(0, 7, (6, width)) / 7.0  # ties too
    rows[rng.random((6, width)) < 0.03 * (seed % 3)] = np.nan
    rows[0] = np.nan if seed % 5 == 0 else rows[0]
    tail = (1 - 0.95) / 2
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.array([np.nanquantile(r, [tail, 1 - tail]) for r in rows])
        assert np.array_equal(nanmax(rows), np.nanmax(rows, axis=-1), equal_nan=True)
        assert np.array_equal(nanmin(rows), np.nanmin(rows, axis=-1), equal_nan=True)
    assert np.array_equal(tail_quantiles(rows, 0.95), expected, equal_nan=True)


def _write(folder: Path, frame: pd.DataFrame) -> pd.DataFrame:
    folder.mkdir(parents=True, exist_ok=True)
    frame.to_parquet(folder / results.PREDICTIONS_FILE)
    return results.load_predictions(folder)


def test_text_columns_come_back_as_categoricals_with_the_same_values(tmp_path: Path) -> None:
    frame = pd.DataFrame({"y_true": ["No", "Yes", "No", None], "y_pred": ["No", "No", "Yes", "Yes"],
                          "y_score": [0.1, 0.2, 0.7, 0.9], "group": ["a", "b", "a", "b"], "n": [1, 2, 3, 4]})
    read = _write(tmp_path / "m", frame)
    assert [str(read[c].dtype) for c in read.columns] == ["category", "category", "float64", "category", "int64"]
    for column in ("y_true", "y_pred", "group"):
        def plain(values: pd.Series) -> list[object]:
            return [None if pd.isna(v) else v for v in values.astype(object)]
        assert plain(read[column]) == plain(frame[column])


def test_label_codes_and_class_shares_from_categoricals_equal_those_from_text(tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    labels = rng.choice(["b", "a", "c"], 500)
    frame = pd.DataFrame({"y_true": labels, "y_pred": rng.choice(["a", "c"], 500)})
    read = _write(tmp_path / "m", frame)
    fast, plain = heldout.class_codes(read.y_true, read.y_pred), heldout.class_codes(frame.y_true, frame.y_pred)
    assert fast[2] == plain[2] == ["a", "b", "c"]
    assert np.array_equal(fast[0], plain[0]) and np.array_equal(fast[1], plain[1])
    assert results.class_balance(read.y_true) == results.class_balance(frame.y_true)
    unused = pd.Series(pd.Categorical(["a", "a"], categories=["z", "a"]))  # unused categories are no classes
    assert heldout.class_codes(unused, unused)[2] == ["a"]
    assert results.class_balance(unused) == {"a": 1.0}


def test_readable_groups_of_a_categorical_equal_those_of_text() -> None:
    values = ["1.0", "0.0", None, "1.0", "0"]
    plain = readable_column(pd.Series(values, dtype="str"), None)
    fast = readable_column(pd.Series(pd.Categorical(values, categories=["z", "1.0", "0.0", "0"])), None)
    assert plain.tolist() == fast.tolist() == ["yes", "no", "missing", "yes", "no"]
