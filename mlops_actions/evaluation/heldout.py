"""What the report needs of one model's held-out predictions, as aggregates: metric replicates and pictures.

``of_frame`` computes it from ``predictions.parquet`` (y_true, y_pred, y_score); ``train`` writes the same
to ``evaluation.json`` (``as_dict``), so a report job that may not see rows (predictions stay in the
training job) reads it back with ``from_dict``. ``key`` identifies the held-out rows (their count and
labels, in order): two models with the same key and the same data were evaluated on the same rows, and
their replicates pair.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from mlops_actions.evaluation import curves, uncertainty

FORMAT = "mlops-actions/held-out@1"
DEFAULT_THRESHOLD = 0.5


@dataclass(frozen=True)
class HeldOut:
    """Aggregates of one model's held-out predictions."""

    task: str
    rows: int
    key: str
    replicates: Mapping[str, np.ndarray] = field(default_factory=dict)
    pictures: Mapping[str, Any] = field(default_factory=dict)
    positive: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "task": self.task, "rows": self.rows, "key": self.key,
                "positive": self.positive, "seed": uncertainty.SEED, "blocks": uncertainty.BLOCKS,
                "replicates": uncertainty.rounded(self.replicates), "pictures": dict(self.pictures)}


def from_dict(data: Mapping[str, Any]) -> HeldOut | None:
    """Read ``as_dict``'s form; None for another format (an older ``evaluation.json``)."""
    if data.get("format") != FORMAT:
        return None
    replicates = {str(k): np.array([math.nan if x is None else float(x) for x in v], dtype=float)
                  for k, v in (data.get("replicates") or {}).items()}
    if any(v.shape != (uncertainty.REPLICATES,) for v in replicates.values()):
        raise ValueError(f"replicates must be lists of {uncertainty.REPLICATES} numbers")
    pictures = dict(data.get("pictures") or {})
    check_pictures(pictures)
    return HeldOut(str(data["task"]), int(data["rows"]), str(data["key"]), replicates, pictures,
                   data.get("positive"))


_PICTURE_LISTS = {"binary": ("roc", "pr"), "residuals": ("edges", "count", "mean_residual"),
                  "multiclass": ("classes", "precision", "recall", "f1", "support")}


def check_pictures(pictures: Mapping[str, Any]) -> None:
    """The pictures' shape as ``of_frame`` writes them (a hand-edited file is refused, never drawn)."""
    for kind, value in pictures.items():
        if kind not in _PICTURE_LISTS or not isinstance(value, Mapping):
            raise ValueError(f"unknown picture {kind!r}")
        for key in _PICTURE_LISTS[kind]:
            if not (isinstance(value.get(key), list) or (kind == "binary" and value.get(key) is None)):
                raise ValueError(f"pictures.{kind}.{key} must be a list")
        numbers = [x for key in _PICTURE_LISTS[kind] if key != "classes" for x in value.get(key) or ()]
        if any(x is not None and (isinstance(x, bool) or not isinstance(x, int | float)) for x in numbers):
            raise ValueError(f"pictures.{kind} must hold numbers")
    binary = pictures.get("binary")
    if binary is not None:
        confusion = binary.get("confusion")
        if not isinstance(confusion, Mapping) or any(not isinstance(confusion.get(k), int) for k in
                                                     ("tp", "fp", "fn", "tn")):
            raise ValueError("pictures.binary.confusion must hold the counts tp, fp, fn, tn")
        calibration = binary.get("calibration")
        if calibration is not None and not all(isinstance(calibration.get(k), list) for k in
                                               ("count", "observed", "predicted")):
            raise ValueError("pictures.binary.calibration must hold lists")
    multi = pictures.get("multiclass")
    if multi is not None and (not isinstance(multi.get("confusion"), list)
                              or any(not isinstance(row, list) for row in multi["confusion"])):
        raise ValueError("pictures.multiclass.confusion must be a list of rows")


def rows_key(y_true: np.ndarray, classes: Sequence[str] = ()) -> str:
    """Identity of the held-out rows: their count and labels in order (class codes, or the values)."""
    digest = hashlib.sha256(f"{len(y_true)}\n{chr(31).join(classes)}\n".encode("utf-8", "surrogatepass"))
    digest.update(np.ascontiguousarray(y_true).tobytes())
    return digest.hexdigest()


def of_frame(frame: Any, task: str, metrics: Sequence[str], *, positive_label: Any = None,
             threshold: float = DEFAULT_THRESHOLD) -> HeldOut:
    """Replicates of ``metrics`` and the pictures, from a predictions frame."""
    if task == "regression":
        y_true = frame["y_true"].to_numpy(dtype=float)
        y_pred = frame["y_pred"].to_numpy(dtype=float)
        reps = uncertainty.metric_replicates(task, metrics, uncertainty.Evaluated(y_true, y_pred))
        pictures = {"residuals": curves.residual_deciles(y_true, y_pred)}
        return HeldOut(task, len(y_true), rows_key(y_true), reps, pictures)
    y_true, y_pred, classes = class_codes(frame["y_true"], frame["y_pred"])
    positive = _positive(classes, positive_label)
    at = classes.index(positive) if positive in classes else None
    score = frame["y_score"].to_numpy(dtype=float) if "y_score" in frame.columns and positive else None
    if score is not None and not np.isfinite(score).all():
        raise ValueError("y_score holds missing or infinite values")
    # one sort for AUC and curves; not a stable one (3x faster): both read tied scores as one run, so the
    # order within a tie never shows
    order = np.argsort(score) if score is not None else None
    rows = uncertainty.Evaluated(y_true, y_pred, range(len(classes)), at, score, order)
    reps = uncertainty.metric_replicates(task, metrics, rows)
    return HeldOut(task, len(y_true), rows_key(y_true, classes), reps, _pictures(rows, classes, threshold), positive)


def class_codes(y_true: Any, y_pred: Any) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Labels as text (``1`` and ``"1"`` are one class) → int codes into the sorted classes."""
    true_codes, true_text, true_used = _text_codes(y_true)
    pred_codes, pred_text, pred_used = _text_codes(y_pred)
    classes = sorted(set(true_used) | set(pred_used))
    lookup = {c: i for i, c in enumerate(classes)}
    remap_true = np.array([lookup.get(c, -1) for c in true_text], dtype=np.int32)
    remap_pred = np.array([lookup.get(c, -1) for c in pred_text], dtype=np.int32)
    return remap_true[true_codes], remap_pred[pred_codes], classes


def _text_codes(values: Any) -> tuple[np.ndarray, list[str], list[str]]:
    """Codes, the text of each code, and the texts that occur. A categorical (as ``load_predictions`` reads
    text columns) is read from its codes; anything else is factorised as text."""
    import pandas as pd

    column = pd.Series(values)
    if isinstance(column.dtype, pd.CategoricalDtype) and not column.hasnans:
        codes = column.cat.codes.to_numpy()
        text = [str(t) for t in column.cat.categories.astype(str)]
        used = np.flatnonzero(np.bincount(codes, minlength=len(text)))
        return codes, text, [text[i] for i in used]
    codes, uniques = pd.factorize(column.astype(str), sort=True)
    text = [str(t) for t in uniques.tolist()]
    return codes, text, text


def _positive(classes: Sequence[str], wanted: Any) -> str | None:
    """The positive class of a binary model (the spec's, else the last in sorted order, as train decides)."""
    if len(classes) > 2:
        return str(wanted) if wanted is not None and str(wanted) in classes else None
    if wanted is None:
        return classes[-1] if classes else None
    words = {"true": ("true", "1", "yes"), "false": ("false", "0", "no")}.get(str(wanted).lower(), (str(wanted),))
    return next((c for c in classes if c == str(wanted) or c.lower() in words), str(wanted))


def _pictures(rows: uncertainty.Evaluated, classes: Sequence[str], threshold: float) -> dict[str, Any]:
    """Binary (``rows.positive``: the positive class's code) or multi-class pictures from class codes
    (``classes``: the class each code stands for)."""
    y_true, y_pred, positive, score = rows.y_true, rows.y_pred, rows.positive, rows.score
    if len(classes) <= 2 and positive is not None:
        truth = y_true == positive
        if score is not None:
            return {"binary": curves.binary_curves(truth, score, threshold, rows.order)}
        at_labels = curves.binary_curves(truth, (y_pred == positive).astype(float), 0.5)
        return {"binary": at_labels | {"threshold": None, "roc": None, "pr": None, "calibration": None}}
    return {"multiclass": curves.multiclass_tables(y_true, y_pred, classes)}



def change_intervals(names: Sequence[str], deltas: Mapping[str, float | None], candidate: HeldOut | None,
                     baseline: HeldOut | None, *, same_data: bool,
                     baseline_rows: int | None) -> dict[str, uncertainty.Change]:
    """The 95% interval of each metric change: paired when both were evaluated on the same rows."""
    if candidate is None:
        return {}
    paired = baseline is not None and same_data and baseline.key == candidate.key
    out = {}
    for name in names:
        delta = deltas.get(name)
        reps = candidate.replicates.get(name)
        if delta is None or reps is None:
            continue
        base = baseline.replicates.get(name) if baseline is not None else None
        n_base = baseline.rows if baseline is not None else baseline_rows
        found = uncertainty.change_interval(delta, reps, base, paired=paired, n_candidate=candidate.rows,
                                            n_baseline=n_base)
        if found is not None:
            out[name] = found
    return out
