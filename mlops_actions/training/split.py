"""The held-out split: seeded random (stratified for classification), time-ordered (``split.by``) and/or grouped
(``split.group``: all rows of a group on one side). Positions into the dataset, never the rows themselves.
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from mlops_actions.convention.model import ModelSpec
from mlops_actions.errors import InputError, Place
from mlops_actions.training.data import Dataset, Source, check_split_size, to_datetime, to_numeric
from mlops_actions.training.spec_places import SpecPlaces


@dataclass(frozen=True)
class Split:
    train: np.ndarray
    test: np.ndarray
    notes: tuple[str, ...] = ()


def split_rows(dataset: Dataset, spec: ModelSpec, places: SpecPlaces) -> Split:
    """The split the spec asks for; ``InputError`` at the spec's split key when a side would be empty."""
    if spec.split.time_ordered:
        split = _by_time(dataset, spec, places)
    elif spec.split.group is not None:
        split = _by_group(dataset, spec, places)
    else:
        check_split_size(dataset, spec, places)
        return random_split(dataset, spec)
    if spec.split.group is not None and spec.split.time_ordered:
        split = _whole_groups(split, _column(dataset, spec.split.group))
    _check_sides(split, dataset, spec, places)
    return split


def random_split(dataset: Dataset, spec: ModelSpec) -> Split:
    """Seeded split of row positions; stratified by the target for classification (unless turned off).

    The positions are exactly those of scikit-learn's ``train_test_split(rows, test_size=test_fraction,
    random_state=seed, shuffle=True, stratify=y)`` (``ShuffleSplit`` / ``StratifiedShuffleSplit``, unchanged
    since scikit-learn 0.22; tests compare the two), computed here with numpy: rebuilding the held-out rows
    (``export``) then does not import scikit-learn (a second or more), and the split does not move with it.
    """
    n_test = math.ceil(spec.split.test_fraction * dataset.rows)  # check_split_size refused empty sides
    n_train = dataset.rows - n_test
    rng = np.random.RandomState(spec.split.seed)
    if spec.task == "classification" and spec.stratify:
        return _stratified(dataset.y.to_numpy(), n_train, n_test, rng)
    permutation = rng.permutation(dataset.rows)
    return Split(permutation[n_test:n_test + n_train], permutation[:n_test])


def _stratified(y: np.ndarray, n_train: int, n_test: int, rng: np.random.RandomState) -> Split:
    """``StratifiedShuffleSplit``'s first split: per class, a share of each side, drawn in class order."""
    y_indices, counts = _class_indices(y)
    by_class = np.split(np.argsort(y_indices, kind="stable"), np.cumsum(counts)[:-1])
    n_i = _approximate_mode(counts, n_train, rng)
    t_i = _approximate_mode(counts - n_i, n_test, rng)
    train: list[np.ndarray] = []
    test: list[np.ndarray] = []
    for i, members in enumerate(by_class):
        shuffled = members.take(rng.permutation(counts[i]), mode="clip")
        train.append(shuffled[: n_i[i]])
        test.append(shuffled[n_i[i]: n_i[i] + t_i[i]])
    return Split(rng.permutation(np.concatenate(train)), rng.permutation(np.concatenate(test)))


def _class_indices(y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(y, return_inverse=True, return_counts=True)[1:]`` by hashing: each row's class index in
    sorted class order, and the rows per class (sorting a million label objects took a third of a second)."""
    codes, uniques = pd.factorize(y)
    rank = np.empty(len(uniques), dtype=np.intp)
    rank[np.argsort(np.asarray(uniques, dtype=y.dtype), kind="stable")] = np.arange(len(uniques))
    y_indices = rank[codes]
    return y_indices, np.bincount(y_indices, minlength=len(uniques))


def _approximate_mode(counts: np.ndarray, draws: int, rng: np.random.RandomState) -> np.ndarray:
    """scikit-learn's ``_approximate_mode``: ``draws`` shared in proportion to ``counts``, the rounding
    remainder given by largest fraction, ties broken with ``rng``."""
    continuous = counts / counts.sum() * draws
    floored = np.floor(continuous)
    need = int(draws - floored.sum())
    if need > 0:
        remainder = continuous - floored
        for value in np.sort(np.unique(remainder))[::-1]:
            (tied,) = np.where(remainder == value)
            now = min(len(tied), need)
            floored[rng.choice(tied, size=now, replace=False)] += 1
            need -= now
            if need == 0:
                break
    return floored.astype(int)


def _column(dataset: Dataset, name: str) -> pd.Series:
    assert dataset.split_columns is not None  # check_frame keeps the split columns the spec names
    return dataset.split_columns[name]


# --- time-ordered ----------------------------------------------------------------------------------------

def _by_time(dataset: Dataset, spec: ModelSpec, places: SpecPlaces) -> Split:
    by = spec.split.by or ""
    raw = _column(dataset, by)
    numeric = _numeric_order(spec, by, raw)
    order = _order_values(raw, by, dataset, numeric)
    if spec.split.test_after is None:
        return _latest_rows(order.to_numpy(), spec.split.test_fraction, by, places)
    cutoff = spec.split.test_after if numeric else _cutoff(spec.split.test_after, places)
    later = (order > cutoff).to_numpy()
    if not later.any():
        raise InputError(f"no row of {dataset.display} has {by} after {spec.split.test_after} (the latest is "
                         f"{_show(order.max())}): the time split leaves no held-out rows",
                         place=places.at("split", "by", "test_after"),
                         hint="choose an earlier split.by.test_after, or add newer rows")
    return Split(np.flatnonzero(~later), np.flatnonzero(later))


def _latest_rows(order: np.ndarray, fraction: float, by: str, places: SpecPlaces) -> Split:
    """The latest ``fraction`` of the rows held out, cut between two times: rows of the time at the cut all go
    to the side that brings the held-out share closer to ``fraction`` (training, on a draw), never to both,
    so no training row is as late as a held-out one."""
    positions = np.argsort(order, kind="stable")
    ordered = order[positions]
    wanted = len(order) - math.ceil(fraction * len(order))  # rows before the cut
    i = min(wanted, len(order) - 1)
    first, after = (int(np.searchsorted(ordered, ordered[i], side=side)) for side in ("left", "right"))
    shown = _show(pd.Series(ordered[i:i + 1]).iloc[0])  # a Timestamp or a number
    options = [cut for cut in (first, after) if 0 < cut < len(order)]
    if not options:
        raise InputError(f"every row has the same {by} ({shown}): a time-ordered split needs rows of at "
                         "least two times", place=places.at("split", "by", "column"),
                         hint="order by a column that varies, or use a random split (drop split.by)")
    cut = min(options, key=lambda c: (abs(c - wanted), -c))
    notes = () if cut == wanted else (
        f"split: the {after - first} row(s) with {by} {shown} all went to the "
        f"{'training' if cut == after else 'held-out'} side, so that no {by} is on both sides "
        f"({len(order) - cut} rows held out, not {len(order) - wanted})",)
    return Split(np.sort(positions[:cut]), np.sort(positions[cut:]), notes)


def _numeric_order(spec: ModelSpec, by: str, raw: pd.Series) -> bool:
    """Order by number (a period index, a year) rather than by date: a numeric ``test_after`` says so; without
    one, the column's declared feature type, else its values (all numbers)."""
    after = spec.split.test_after
    if after is not None:
        return isinstance(after, int | float) and not isinstance(after, bool)
    kind = spec.data.features.get(by)
    if kind is not None:
        return kind == "numeric"
    if pd.api.types.is_bool_dtype(raw):
        return False
    present = raw.dropna()
    return bool(len(present)) and bool(pd.to_numeric(present, errors="coerce").notna().all())


def _order_values(raw: pd.Series, name: str, dataset: Dataset, numeric: bool) -> pd.Series:
    source = Source(Path(dataset.display), dataset.display, "parquet")
    values = to_numeric(raw, name, source) if numeric else to_datetime(raw, name, source)
    if values.isna().any():
        row = int(np.flatnonzero(values.isna().to_numpy())[0])
        raise InputError(f"split column '{name}' has a missing value at row {row + 1}; rows without a time "
                         "cannot be ordered", place=Place(dataset.display),
                         hint="fill in the column, or drop those rows")
    return values


def _cutoff(value: object, places: SpecPlaces) -> pd.Timestamp:
    try:
        if isinstance(value, datetime.date | str):
            stamp = pd.Timestamp(value)
            return stamp.tz_convert("UTC").tz_localize(None) if stamp.tzinfo is not None else stamp
    except ValueError:
        pass
    raise InputError(f"test_after {value!r} is not a date, a timestamp or a number",
                     place=places.at("split", "by", "test_after"), hint="write a date like 2024-01-01")


def _show(value: object) -> str:
    return str(value.date()) if isinstance(value, pd.Timestamp) and value == value.normalize() else str(value)


# --- grouped ---------------------------------------------------------------------------------------------

def _by_group(dataset: Dataset, spec: ModelSpec, places: SpecPlaces) -> Split:
    """Whole groups, in a seeded order, go to the test side until it holds ``test_fraction`` of the rows."""
    if spec.split.stratify:
        raise InputError("stratify does not apply to a grouped split (split.group)",
                         place=places.at("split", "stratify"), hint="remove split.stratify")
    labels = _group_labels(_column(dataset, spec.split.group or ""))
    groups = np.array(sorted(set(labels)), dtype=object)
    if len(groups) < 2:
        raise InputError(f"split.group '{spec.split.group}' has {len(groups)} group(s) in {dataset.display}; a "
                         "grouped split needs at least 2", place=places.at("split", "group"),
                         hint="group by another column, or remove split.group")
    order = groups[np.random.RandomState(spec.split.seed).permutation(len(groups))]
    sizes = pd.Series(labels).value_counts()
    wanted, taken, test_groups = math.ceil(spec.split.test_fraction * dataset.rows), 0, set()
    for group in order[:-1]:  # at least one group stays for training
        if taken >= wanted:
            break
        test_groups.add(group)
        taken += int(sizes[group])
    in_test = np.array([label in test_groups for label in labels])
    return Split(np.flatnonzero(~in_test), np.flatnonzero(in_test))


def _group_labels(raw: pd.Series) -> list[str]:
    return ["" if pd.isna(v) else str(v) for v in raw.tolist()]


def _whole_groups(split: Split, raw: pd.Series) -> Split:
    """A time split with groups: a group with any held-out row is held out whole (its earlier rows leave
    training), so no group is on both sides."""
    labels = np.array(_group_labels(raw), dtype=object)
    held = set(labels[split.test].tolist())
    in_test = np.array([label in held for label in labels])
    moved = int(in_test.sum()) - len(split.test)
    notes = (f"split: {moved} earlier row(s) of held-out groups left the training side (split.group)",) if moved else ()
    return Split(np.flatnonzero(~in_test), np.flatnonzero(in_test), (*split.notes, *notes))


def _check_sides(split: Split, dataset: Dataset, spec: ModelSpec, places: SpecPlaces) -> None:
    key = ("split", "by") if spec.split.time_ordered else ("split", "group")
    if len(split.test) == 0 or len(split.train) == 0:
        side = "held-out" if len(split.test) == 0 else "training"
        raise InputError(f"the split of {dataset.rows} row(s) leaves no {side} rows", place=places.at(*key),
                         hint="change split.test_fraction or split.by.test_after, or add rows")
    if spec.task == "classification" and dataset.y.iloc[split.train].nunique() < 2:
        raise InputError("the training side of the split holds one class only", place=places.at(*key),
                         hint="move the cut (split.by.test_after / split.test_fraction) so training sees every class")
