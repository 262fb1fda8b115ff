"""How checked columns are held: equal text values share one ``str`` object (scikit-learn walks category and
label columns in Python; scattered distinct objects made its imputer and encoder several times slower), and
float64 features read as such are not copied, unless that would keep many unused columns alive."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mlops_actions.training.data import _features, as_text


def test_equal_text_values_are_one_object_and_missing_stays_nan() -> None:
    for raw in (pd.Series(["a", "b", None, "a"], dtype="str"), pd.Series(["a", "b", np.nan, "a"], dtype=object),
                pd.Series([1.0, 2.0, np.nan, 1.0])):
        text = as_text(raw)
        assert text.dtype == object and pd.isna(text.iloc[2]) and text.iloc[0] is text.iloc[3]
        assert text.iloc[0] in ("a", "1") and text.index.equals(raw.index)
    assert as_text(pd.Series([None, None], dtype=object)).isna().all()


def test_float_features_read_as_such_are_not_copied() -> None:
    frame = pd.DataFrame({"x": np.arange(6.0), "y": np.arange(6.0) * 2, "cat": ["a", "b"] * 3})
    X = _features(frame, {"x": frame["x"], "y": frame["y"], "cat": as_text(frame["cat"])})
    assert np.shares_memory(X["x"].to_numpy(), frame["x"].to_numpy())
    assert X["cat"].dtype == object and X.columns.tolist() == ["x", "y", "cat"]
    assert X.equals(pd.DataFrame({"x": frame["x"], "y": frame["y"], "cat": as_text(frame["cat"])}))


def test_a_view_that_would_keep_many_unused_columns_alive_is_a_copy() -> None:
    frame = pd.DataFrame({f"u{i}": np.arange(6.0) for i in range(10)} | {"x": np.arange(6.0)})
    X = _features(frame, {"x": frame["x"]})
    assert not np.shares_memory(X["x"].to_numpy(), frame["x"].to_numpy())
    assert X["x"].tolist() == frame["x"].tolist()
