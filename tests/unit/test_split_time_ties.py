"""A time-ordered split by ``test_fraction`` cuts between two times: rows sharing the time at the cut all go to
one side (the one closer to the fraction asked for; training on a draw), never to both, and say so."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from mlops_actions.errors import InputError
from mlops_actions.training.spec_places import SpecPlaces
from mlops_actions.training.split import _latest_rows

PLACES = SpecPlaces("models/m/model.yaml")
# 3 rows of Jan 1, 4 of Jan 2, 3 of Jan 3, shuffled: positions are into this order
DAYS = pd.to_datetime(["2024-01-02", "2024-01-01", "2024-01-03", "2024-01-02", "2024-01-01", "2024-01-03",
                       "2024-01-02", "2024-01-01", "2024-01-03", "2024-01-02"]).to_numpy()


@pytest.mark.parametrize(("fraction", "held_out", "tie_went"), [
    (0.3, 3, None),  # the cut falls between Jan 2 and Jan 3 already
    (0.5, 3, "training"),  # 5 asked: Jan 2 to training gives 3, to held-out 7: a draw, training wins
    (0.6, 7, "held-out"),  # 6 asked: 7 is closer than 3
    (0.2, 3, "held-out"),  # 2 asked: Jan 3 whole (3), as Jan 3 to training would leave none
])
def test_no_time_is_on_both_sides(fraction: float, held_out: int, tie_went: str | None) -> None:
    split = _latest_rows(DAYS, fraction, "when", PLACES)
    assert len(split.test) == held_out and sorted([*split.train, *split.test]) == list(range(len(DAYS)))
    assert DAYS[split.train].max() < DAYS[split.test].min()
    if tie_went is None:
        assert split.notes == ()
    else:
        [note] = split.notes
        assert f"went to the {tie_went} side" in note and f"({held_out} rows held out, not " in note


def test_numbers_order_too_and_positions_are_sorted() -> None:
    periods = np.array([3.0, 1, 2, 2, 2, 5, 5, 4])
    split = _latest_rows(periods, 0.25, "period", PLACES)
    assert split.train.tolist() == [0, 1, 2, 3, 4, 7] and split.test.tolist() == [5, 6] and split.notes == ()


def test_one_time_for_every_row_is_refused_at_the_column() -> None:
    with pytest.raises(InputError) as refused:
        _latest_rows(pd.to_datetime(["2024-01-01"] * 4).to_numpy(), 0.25, "when", PLACES)
    assert "every row has the same when (2024-01-01)" in refused.value.message
    assert refused.value.place.file == "models/m/model.yaml" and "split.by" in refused.value.hint
