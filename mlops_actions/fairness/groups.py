"""Sensitive and control features → one integer code per row, and the index of the groups.

Each feature is factorised once (sorted values, like fairlearn's ``groupby``); the codes of several features
combine into one code per row (control features first, then sensitive features), so groups are the cartesian
product of the observed values of each feature: an intersection nobody falls in is a group with n = 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from mlops_actions.errors import InputError

Column = tuple[str, Any]
MAX_GROUPS = 1_000_000  # product of the feature cardinalities; codes * 4 stays well inside int32


@dataclass(frozen=True)
class Grouping:
    """Row codes plus what they mean: ``codes[i] = stratum * n_groups + group`` (int32)."""

    codes: np.ndarray
    sensitive_names: tuple[str, ...]
    control_names: tuple[str, ...]
    sensitive_levels: tuple[pd.Index, ...]
    control_levels: tuple[pd.Index, ...]

    @property
    def n_groups(self) -> int:
        return int(np.prod([len(level) for level in self.sensitive_levels]))

    @property
    def n_strata(self) -> int:
        return int(np.prod([len(level) for level in self.control_levels])) if self.control_levels else 1

    def group_index(self) -> pd.Index:
        """Index of ``by_group``, shaped like fairlearn's: control levels first, one level per feature."""
        levels = self.control_levels + self.sensitive_levels
        names = self.control_names + self.sensitive_names
        if len(levels) == 1:
            return levels[0].rename(names[0])
        return pd.MultiIndex.from_product(levels, names=list(names))

    def strata_index(self) -> pd.Index | None:
        """Index of the control strata (like fairlearn's ``overall`` with control features), or None."""
        if not self.control_levels:
            return None
        if len(self.control_levels) == 1:
            return self.control_levels[0].rename(self.control_names[0])
        return pd.MultiIndex.from_product(self.control_levels, names=list(self.control_names))


def encode(sensitive: Any, control: Any, n_rows: int) -> Grouping:
    """Factorise the features and combine them into one code per row."""
    s_cols = feature_columns(sensitive, "sensitive_feature_", n_rows)
    c_cols = feature_columns(control, "control_feature_", n_rows) if control is not None else []
    _check_unique_names([name for name, _ in c_cols + s_cols])
    factorised = [factorize(name, values) for name, values in c_cols + s_cols]  # a vectorised pass each
    sizes = [len(uniques) for _, _, uniques in factorised]
    if math.prod(sizes) > MAX_GROUPS:
        shown = " × ".join(f"{n} ({name})" for n, (name, _) in zip(sizes, c_cols + s_cols, strict=True))
        raise InputError(f"too many groups: {shown} = {math.prod(sizes):,} combinations",
                         hint=f"group by features with few values (at most {MAX_GROUPS:,} combinations)")
    codes = np.zeros(0, dtype=np.int32)
    for raw, lookup, uniques in factorised:
        if codes.size:
            codes *= len(uniques)
            codes += lookup[raw]
        else:
            codes = lookup[raw]  # remap to sorted order in one take
    levels = [uniques for _, _, uniques in factorised]
    k = len(c_cols)
    return Grouping(codes, tuple(n for n, _ in s_cols), tuple(n for n, _ in c_cols),
                    tuple(levels[k:]), tuple(levels[:k]))


def feature_columns(features: Any, base: str, n_rows: int) -> list[Column]:
    """A Series, DataFrame, dict of arrays, list or array → named columns (fairlearn's naming rules)."""
    if isinstance(features, pd.Series):
        cols = [(_series_name(features, base), features)]
    elif isinstance(features, pd.DataFrame):
        cols = [(_str_name(name), features.iloc[:, i]) for i, name in enumerate(features.columns)]
    elif isinstance(features, dict):
        cols = [(_str_name(name), _as_array(values)) for name, values in features.items()]
    else:
        cols = _array_columns(features, base)
    if not cols:
        raise InputError("no sensitive features given", hint="pass at least one column of group values")
    for name, values in cols:
        if len(values) != n_rows:
            raise InputError(f"feature '{name}' has {len(values)} values but there are {n_rows} predictions")
    return cols


def _array_columns(features: Any, base: str) -> list[Column]:
    arr = np.asarray(features, dtype=object) if isinstance(features, list) else np.asarray(features)
    if arr.ndim == 1:
        return [(f"{base}0", arr)]
    if arr.ndim == 2:
        return [(f"{base}{i}", arr[:, i]) for i in range(arr.shape[1])]
    raise InputError(f"features must be one- or two-dimensional, got {arr.ndim} dimensions")


def _as_array(values: Any) -> Any:
    if isinstance(values, pd.Series | pd.Index | np.ndarray | pd.api.extensions.ExtensionArray):
        return values
    return np.asarray(values, dtype=object)  # like fairlearn: a missing value stays missing, not 'nan'


def _series_name(series: pd.Series, base: str) -> str:
    return f"{base}0" if series.name is None else _str_name(series.name)


def _str_name(name: object) -> str:
    if not isinstance(name, str):
        raise InputError(f"feature names must be strings, got {name!r} ({type(name).__name__})")
    return name


def _check_unique_names(names: list[str]) -> None:
    seen = {n for i, n in enumerate(names) if n in names[:i]}
    if seen:
        raise InputError(f"feature name used twice: {', '.join(sorted(seen))}",
                         hint="name each column once: a column is either sensitive or control, not both")


def factorize(name: str, values: Any) -> tuple[np.ndarray, np.ndarray, pd.Index]:
    """Raw codes, a lookup from raw code to sorted code (int32), and the sorted observed values.

    Factorising unsorted and sorting only the few distinct values is cheaper than a sorted factorisation,
    which reorders every row's code. Missing values are refused (fairlearn refuses them too).
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        raw, uniques = values.cat.codes.to_numpy(), values.cat.categories
        used = np.flatnonzero(np.bincount(raw[raw >= 0], minlength=len(uniques)))
    elif _arrow_backed(values):
        raw, uniques = _factorize_arrow(values)
        used = np.arange(len(uniques))
    else:
        raw, uniques = pd.factorize(values, sort=False)
        uniques = pd.Index(uniques)
        used = np.arange(len(uniques))
    missing = int(np.count_nonzero(raw < 0))
    if missing:
        raise InputError(f"feature '{name}' has {missing} missing values",
                         hint="remove or replace them before measuring fairness")
    observed = uniques.take(used)
    order = observed.argsort()
    lookup = np.zeros(len(uniques), dtype=np.int32)
    lookup[used[order]] = np.arange(len(used))
    result = observed.take(order)
    return raw, lookup, pd.Index(result.to_numpy()) if isinstance(result, pd.CategoricalIndex) else result


def _arrow_backed(values: Any) -> bool:
    if not isinstance(values, pd.Series):
        return False
    dtype = values.dtype
    arrow_string = isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"
    return arrow_string or (isinstance(dtype, pd.ArrowDtype) and not str(dtype).startswith("dictionary"))


def _factorize_arrow(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Arrow's dictionary encoding, indices kept as int32 (the lookup take widens them); nulls → -1."""
    encoded = values.array.__arrow_array__().dictionary_encode().unify_dictionaries()
    if encoded.num_chunks == 0:
        return np.zeros(0, dtype=np.int32), pd.Index([], dtype=values.dtype)
    parts = [_indices(chunk) for chunk in encoded.chunks]  # one per Parquet row group: a few dozen
    dictionary = encoded.chunk(0).dictionary
    raw = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return raw, pd.Index(pd.array(dictionary, dtype=values.dtype))


def _indices(chunk: Any) -> np.ndarray:
    """Dictionary indices of one arrow chunk as numpy (zero-copy without nulls), nulls as -1."""
    indices = chunk.indices
    return indices.fill_null(-1).to_numpy() if indices.null_count else indices.to_numpy()
