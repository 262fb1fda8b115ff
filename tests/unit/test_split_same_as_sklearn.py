"""The seeded random split is computed with numpy (no scikit-learn import when ``export`` rebuilds the held-out
rows) and must give exactly the positions scikit-learn's ``train_test_split`` gives: every version trained
before kept its held-out rows, and a rebuilt split is the one training used."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import train_test_split

from mlops_actions.training.split import random_split


def _case(y: Any, fraction: float, seed: int, stratify: bool) -> tuple[Any, Any]:
    target = pd.Series(y)
    dataset = SimpleNamespace(rows=len(target), y=target)
    spec = SimpleNamespace(task="classification" if stratify else "regression", stratify=stratify,
                           split=SimpleNamespace(test_fraction=fraction, seed=seed))
    ours = random_split(dataset, spec)  # type: ignore[arg-type]
    train, test = train_test_split(np.arange(len(target)), test_size=fraction, random_state=seed, shuffle=True,
                                   stratify=target.to_numpy() if stratify else None)
    return (ours.train, ours.test), (train, test)


def _labels(rng: np.random.RandomState, rows: int, kind: str) -> Any:
    classes = int(rng.randint(2, 7))
    weights = rng.dirichlet(np.ones(classes) * 0.7)
    drawn = rng.choice(classes, size=rows, p=weights)
    drawn[:classes * 2] = np.repeat(np.arange(classes), 2)  # every class at least twice (a stratified split's rule)
    if kind == "text":
        return np.array([["No", "Yes", "maybe", "b", "Ä", "z"][i] for i in drawn], dtype=object)
    if kind == "bool":
        return drawn % 2 == 0
    return drawn.astype(np.int64)


@pytest.mark.parametrize("case", range(36))
def test_the_stratified_split_is_scikit_learns(case: int) -> None:
    rng = np.random.RandomState(case)
    rows = int(rng.randint(40, 3000))
    y = _labels(rng, rows, ("text", "bool", "int")[case % 3])
    fraction = float(rng.choice([0.1, 0.2, 0.25, 0.3, 1 / 3, 0.5, 0.77]))
    ours, theirs = _case(y, fraction, int(rng.randint(0, 2**31)), stratify=True)
    assert ours[0].tolist() == theirs[0].tolist() and ours[1].tolist() == theirs[1].tolist()


@pytest.mark.parametrize("rows,fraction,seed", [(10, 0.25, 0), (5226, 0.25, 42), (101, 0.5, 7), (3, 0.34, 4294967295)])
def test_the_plain_split_is_scikit_learns(rows: int, fraction: float, seed: int) -> None:
    ours, theirs = _case(np.arange(rows) * 0.5, fraction, seed, stratify=False)
    assert ours[0].tolist() == theirs[0].tolist() and ours[1].tolist() == theirs[1].tolist()

