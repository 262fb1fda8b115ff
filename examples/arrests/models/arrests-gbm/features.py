"""Derived features of the arrests-gbm model: the team's own transformer (scikit-learn API)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin


class ChecksPerDecade(BaseEstimator, TransformerMixin):
    """Adds ``checks_per_decade``: police database checks per ten years of age (a record's density)."""

    def __init__(self, min_age: float = 12.0) -> None:
        self.min_age = min_age

    def fit(self, X: pd.DataFrame, y: object = None) -> ChecksPerDecade:
        self.columns_ = list(X.columns)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        out = X.copy()
        age = np.maximum(out["age"].to_numpy(dtype=float), self.min_age)
        out["checks_per_decade"] = 10.0 * out["checks"].to_numpy(dtype=float) / age
        return out
