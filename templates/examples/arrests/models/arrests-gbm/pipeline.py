"""The arrests-gbm pipeline factory: a derived feature, then gradient-boosted trees (LightGBM).

mlops-actions imports this file (and the repository modules it imports, here ``features.py``), calls
``build(**pipeline.params)`` and fits, evaluates and saves what it returns.
"""

from __future__ import annotations

from lightgbm import LGBMClassifier
from sklearn.pipeline import Pipeline

from .features import ChecksPerDecade


def build(n_estimators: int = 80, learning_rate: float = 0.05, num_leaves: int = 15) -> Pipeline:
    booster = LGBMClassifier(n_estimators=n_estimators, learning_rate=learning_rate, num_leaves=num_leaves,
                             deterministic=True, force_row_wise=True, n_jobs=1, verbose=-1)
    return Pipeline([("derive", ChecksPerDecade()), ("model", booster)])
