"""A model's fairness as the report and the record show it: groupings, classes, small groups, labels. Pure.

``measure`` runs the fairness engine once per (class, grouping) and folds the results into one
``FairnessView``:

- **groupings**: one sensitive column at a time (marginal) by default; with ``fairness.intersections``
  (``true``: every pair; or a list of pairs) also those intersections. Intersections nobody falls in are
  counted, never drawn or listed as groups with 0.
- **classes**: a binary model is measured for its positive label; a multi-class model for
  ``data.positive_label`` against the rest, else for each of ``fairness.classes`` against the rest, else not
  at all (``Measured.note`` says why; a fairness gate is then ``undefined``, never a pass).
- **small groups**: a group with fewer rows than ``min_group_size`` (spec, else policy, else 30) is listed and
  marked but left out of every disparity and its interval; so is a rate whose own denominator (positives
  for TPR, negatives for FPR) is that small.
- **summary**: each disparity is the worst over groupings and classes (largest difference, smallest ratio);
  ``<key>@by=<columns>`` and ``<key>@class=<label>`` give the parts.
- **labels**: values read as people read them: the spec's ``fairness.labels`` names, ``yes`` / ``no`` for a
  column holding only 0/1 or true/false, whole numbers without ``.0``.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from mlops_actions.convention.model import DEFAULT_MIN_GROUP_SIZE, ModelSpec
from mlops_actions.evaluation.assess import FairnessView, GroupRow, Interval
from mlops_actions.evaluation.fairness_view import view_of

BOOTSTRAP, SEED = 1000, 0
MISSING = "missing"  # the group of missing values (as train names it, data.missing.sensitive: group)
_YES = frozenset({"1", "1.0", "true", "yes"})
_NO = frozenset({"0", "0.0", "false", "no"})
_WHOLE = re.compile(r"-?[0-9]+\.0+")
_ENGINE_GROUP_NOTES = ("small group ", "empty intersection ", "... and ")


@dataclass(frozen=True)
class Settings:
    """What the spec and the policy say about measuring fairness."""

    sensitive: tuple[str, ...]
    control: tuple[str, ...] = ()
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    intersections: bool | tuple[tuple[str, str], ...] = False
    classes: tuple[Any, ...] = ()
    labels: Mapping[str, Mapping[str, str]] | None = None
    positive_label: Any = None

    @classmethod
    def of(cls, spec: ModelSpec, policy_min_group_size: int | None = None) -> Settings:
        f = spec.fairness
        size = f.min_group_size or policy_min_group_size or DEFAULT_MIN_GROUP_SIZE
        return cls(tuple(spec.data.sensitive), tuple(spec.data.control), size, f.intersections, f.classes,
                   f.labels, spec.data.positive_label)

    def groupings(self) -> list[tuple[str, ...]]:
        marginal: list[tuple[str, ...]] = [(s,) for s in self.sensitive]
        if len(self.sensitive) < 2 or not self.intersections:
            return marginal
        pairs = itertools.combinations(self.sensitive, 2) if self.intersections is True else self.intersections
        return marginal + [tuple(p) for p in pairs or ()]


@dataclass(frozen=True, eq=False)
class Rows:
    """The rows to measure: true labels, predictions, the sensitive and control columns (``groups``) and,
    when each row stands for many (data counted batch by batch), its cells (``fairness.evaluate``'s
    ``row_cells``)."""

    y_true: Any
    y_pred: Any
    groups: pd.DataFrame
    row_cells: Any = None

    @classmethod
    def of(cls, frame: pd.DataFrame) -> Rows:
        """A predictions frame: its ``y_true`` and ``y_pred`` columns, its other columns the groups."""
        return cls(frame["y_true"], frame["y_pred"], frame)


@dataclass(frozen=True)
class Measured:
    """The view, or None and the reason fairness was not measured."""

    view: FairnessView | None
    note: str | None = None


def measure(rows: Rows, settings: Settings, task: str, *, intervals: bool = True) -> Measured:
    """Measure fairness of held-out predictions; ``intervals=False`` skips the bootstrap of the disparities
    (a baseline drawn as a line needs none)."""
    if not settings.sensitive:
        return Measured(None)
    targets, note = targets_of(rows.y_true, rows.y_pred, settings, task)
    if note is not None:
        return Measured(None, note)
    shown = readable(rows.groups, settings)
    parts: list[tuple[str, tuple[str, ...], Any]] = []
    for target, positive in targets:
        truth, pred = _as_measured(rows.y_true, rows.y_pred, positive, task)  # once per class, not per grouping
        of_class = replace(rows, y_true=truth, y_pred=pred, groups=shown)
        parts.extend((target, by, _one(of_class, settings, task, by, intervals)) for by in settings.groupings())
    return Measured(combine(parts, settings))


def _as_measured(y_true: Any, y_pred: Any, positive: Any, task: str) -> tuple[Any, Any]:
    """Regression values as they are; classification labels as "is the positive class" masks."""
    if task == "regression":
        return y_true, y_pred
    from mlops_actions.fairness.labels import is_positive

    return is_positive(_column(y_true), positive), is_positive(_column(y_pred), positive)


def _column(values: Any) -> Any:
    return values if isinstance(values, pd.Series) else pd.Series(np.asarray(values))


def targets_of(y_true: Any, y_pred: Any, settings: Settings, task: str) -> tuple[list[tuple[str, Any]], str | None]:
    """The (shown class, label) pairs to measure; a note instead when a multi-class model names none."""
    if task == "regression":
        return [("", None)], None
    labels = sorted({str(v) for column in (y_true, y_pred) for v in pd.unique(pd.Series(column))})
    wanted = settings.positive_label
    if wanted is not None:
        return [("", match_label(labels, wanted, y_true))], None
    if len(labels) <= 2:
        return [("", match_label(labels, labels[-1], y_true))], None
    if not settings.classes:
        return [], (f"the target has {len(labels)} classes and neither data.positive_label nor fairness.classes "
                    "is set; set fairness.classes to measure each named class against the rest")
    missing = [c for c in settings.classes if str(c) not in labels]
    if missing:
        return [], f"fairness.classes names {', '.join(map(repr, missing))}, which the held-out labels never hold"
    return [(str(c), match_label(labels, c, y_true)) for c in settings.classes], None


def match_label(labels: Sequence[str], wanted: Any, values: Any) -> Any:
    """The value in ``values`` that ``wanted`` means (``"Yes"``, 1, True...), compared as text."""
    sample = values.unique() if isinstance(values, pd.Series) else pd.unique(np.asarray(values))
    words = {"true": ("true", "1", "yes"), "false": ("false", "0", "no")}.get(str(wanted).lower(), ())
    for v in sample:
        if str(v) == str(wanted) or (words and str(v).lower() in words):
            return v
    return wanted


def readable(groups: pd.DataFrame, settings: Settings) -> pd.DataFrame:
    """The sensitive and control columns with their values as people read them."""
    names = list(dict.fromkeys([*settings.control, *settings.sensitive]))
    return pd.DataFrame({n: readable_column(groups[n], (settings.labels or {}).get(n)) for n in names})


def readable_column(column: pd.Series, names: Mapping[str, str] | None) -> pd.Series:
    """Declared names first; yes / no for a 0/1 or true/false column; ``3`` for ``3.0``; missing values
    "missing". Only the distinct values are mapped (a categorical comes back): cheap for any row count."""
    codes, uniques = _factorized(pd.Series(column).reset_index(drop=True))
    text = [_text(v) for v in uniques]
    lowered = {t.lower() for t in text} - {MISSING}
    if names:
        shown = [names.get(t, t) for t in text]
    elif lowered and lowered <= (_YES | _NO) and not lowered <= {"yes", "no"}:
        shown = [t if t == MISSING else ("yes" if t.lower() in _YES else "no") for t in text]
    else:
        shown = text
    labels = list(dict.fromkeys([*shown, MISSING]))  # two raw values may read the same (0 and 0.0)
    remap = np.array([labels.index(s) for s in [*shown, MISSING]], dtype=np.int32)  # the last: code -1
    final = remap[codes]  # one gather per column
    if MISSING not in shown and not (final == len(labels) - 1).any():
        labels.pop()  # no missing value: no "missing" group
    return pd.Series(pd.Categorical.from_codes(final, categories=labels))


def _factorized(column: pd.Series) -> tuple[np.ndarray, Any]:
    """Codes (-1: missing) and the values they stand for; a categorical's own codes, its unused categories
    dropped (the order of the values does not matter: groups are sorted by their shown label)."""
    if not isinstance(column.dtype, pd.CategoricalDtype):
        return pd.factorize(column, sort=False)
    raw = column.cat.codes.to_numpy()
    categories = column.cat.categories
    counts = np.bincount(raw.astype(np.intp) + 1, minlength=len(categories) + 1)[1:]  # code -1 counted apart
    used = np.flatnonzero(counts)
    if len(used) == len(categories):
        return raw, categories
    lookup = np.full(len(categories) + 1, -1, dtype=np.intp)  # the last entry: code -1 stays -1
    lookup[used] = np.arange(len(used))
    return lookup[raw], categories.take(used)


def _text(value: Any) -> str:
    """``3`` for 3.0 and for the text "3.0" (a column read as text), else the value as text."""
    if isinstance(value, float) and math.isfinite(value) and value == int(value):
        return str(int(value))
    text = str(value)
    return text.split(".")[0] if _WHOLE.fullmatch(text) else text


def _one(rows: Rows, settings: Settings, task: str, by: tuple[str, ...], intervals: bool = True) -> Any:
    from mlops_actions.fairness import FairnessOptions, evaluate

    groups = rows.groups
    control = {c: groups[c] for c in settings.control} if settings.control else None  # columns, no frame copy
    options = FairnessOptions(task=task, pos_label=True, min_group_size=settings.min_group_size,
                              bootstrap=BOOTSTRAP if task == "classification" and intervals else 0, seed=SEED,
                              exclude_small=True)
    return evaluate(rows.y_true, rows.y_pred, {c: groups[c] for c in by}, options, control_features=control,
                    row_cells=rows.row_cells)


def combine(parts: Sequence[tuple[str, tuple[str, ...], Any]], settings: Settings) -> FairnessView:
    """One view from the engine's report of each (class, grouping)."""
    rows: list[GroupRow] = []
    summary: dict[str, float | None] = {}
    ci: dict[str, Interval] = {}
    warnings: list[str] = []
    empty = left_out = 0
    views = []
    for target, by, report in parts:
        view = view_of(report)
        views.append(view)
        kept = [_mark(r, by, target, settings) for r in view.rows if r.n]
        empty += len(view.rows) - len(kept)
        left_out += sum(r.n or 0 for r in kept if r.small)
        rows.extend(kept)
        warnings.extend(w for w in view.warnings if not w.startswith(_ENGINE_GROUP_NOTES) and w not in warnings)
        _fold(summary, ci, view, _suffix(by, target, settings))
    first = views[0]
    return FairnessView(features=tuple(settings.sensitive), columns=first.columns, rows=tuple(rows),
                        summary=dict(sorted(summary.items())), warnings=tuple(warnings),
                        chart_metric=first.chart_metric, summary_ci=dict(sorted(ci.items())),
                        min_group_size=settings.min_group_size, left_out_rows=left_out, empty=empty,
                        groupings=tuple(dict.fromkeys(by for _, by, _ in parts)),
                        classes=tuple(dict.fromkeys(t for t, _, _ in parts if t)))


def _mark(row: GroupRow, by: tuple[str, ...], target: str, settings: Settings) -> GroupRow:
    columns = (*settings.control, *by)
    return replace(row, by=columns, small=(row.n or 0) < settings.min_group_size, target=target)


def _suffix(by: tuple[str, ...], target: str, settings: Settings) -> str:
    label = "×".join(by)
    return (f"@class={target}" if target else "") + (f"@by={label}" if len(settings.sensitive) > 1 else "")


def _fold(summary: dict[str, float | None], ci: dict[str, Interval], view: FairnessView, suffix: str) -> None:
    """Add one part's values under ``key+suffix`` and keep the worst of each key (with its interval)."""
    for key, value in view.summary.items():
        if suffix:
            summary[key + suffix] = value
            if key in view.summary_ci:
                ci[key + suffix] = view.summary_ci[key]
        if _worse(key, value, summary.get(key)) or key not in summary:
            summary[key] = value
            if key in view.summary_ci:
                ci[key] = view.summary_ci[key]


def _worse(key: str, value: float | None, current: float | None) -> bool:
    if value is None:
        return False
    if current is None:
        return True
    return value < current if "_ratio" in key else value > current


def record_summary(view: FairnessView | None) -> dict[str, float | None] | None:
    """The version record's fairness summary: the worst of each disparity (no ``@`` parts)."""
    if view is None:
        return None
    return {k: v for k, v in view.summary.items() if "@" not in k}
