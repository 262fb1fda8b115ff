"""The types a skops file names, read from its ``schema.json`` without importing skops or scikit-learn.

Importing ``skops.io`` imports scikit-learn and walks all its estimators (seconds), only to list the types a
file holds that skops does not trust by default. ``export`` needs that list for MLflow (``skops_trusted_types``)
and checks it against the policy; reading the schema gives every type and function the file names, a superset
of skops' list. Every name beyond plain values and arrays must pass mlops-actions' rule (known-safe types and
``estimators.allowed_prefixes``); only when one does not is skops asked (the slow path), so that a type skops
trusts by itself is still accepted. Nothing is loaded or run.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

from mlops_actions.errors import InputError

# What skops rebuilds without running code: JSON values, containers, arrays and numpy scalar types.
PLAIN_TYPES = frozenset(
    {f"builtins.{name}" for name in ("int", "float", "str", "bool", "list", "set", "tuple", "dict", "slice")}
    | {"numpy.ndarray"}
    | {f"numpy.{name}" for name in ("bool", "bool_", "bytes_", "str_", "datetime64", "timedelta64", "float16",
                                     "float32", "float64", "longdouble", "complex64", "complex128", "clongdouble",
                                     "int8", "int16", "int32", "int64", "longlong", "uint8", "uint16", "uint32",
                                     "uint64", "ulonglong")})
NOT_SKOPS = "not a skops model file"


def named_types(data: bytes) -> list[str]:
    """Every ``module.name`` the file's schema names (and ``module.Class.method`` for methods), sorted."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            schema = json.loads(archive.read("schema.json"))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{NOT_SKOPS} ({type(exc).__name__}: {exc}); refusing to load it",
                         hint="use the model.skops that `mlops-actions train` wrote; other formats (pickle, "
                              "joblib) are never loaded") from None
    return sorted(set(_walk(schema)))


def _walk(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            module, name = item.get("__module__"), item.get("__class__")
            if isinstance(module, str) and isinstance(name, str):
                yield f"{module}.{name}"
                content = item.get("content")
                if item.get("__loader__") == "MethodNode" and isinstance(content, dict):
                    yield f"{module}.{name}.{content.get('func')}"
            stack.extend(item.values())


def types_to_trust(data: bytes, allowed_prefixes: tuple[str, ...], modules: tuple[str, ...] = ()) -> list[str]:
    """The types MLflow must be told to trust when it loads ``data``; ``InputError`` naming any we refuse.

    ``modules`` are the repository modules a pipeline factory imported (the record's ``build.modules``): their
    types are accepted, as train and register accept them (``training.artifact.refused_types``).
    """
    from mlops_actions.training.artifact import refused_types

    named = [name for name in named_types(data) if name not in PLAIN_TYPES]
    if not refused_types(named, allowed_prefixes, modules):
        return named
    from mlops_actions.training.artifact import untrusted_types

    untrusted = untrusted_types(data)  # skops' own defaults decide what else is acceptable
    refused = refused_types(untrusted, allowed_prefixes, modules)
    if refused:
        raise InputError(f"the model holds types that are not trusted: {', '.join(refused)}; refusing to export it",
                         hint="only types skops trusts, known-safe types, types under estimators.allowed_prefixes "
                              "in mlops.yaml and types of the repository modules a pipeline factory imported are "
                              "loaded; review these types and allow their module only if you trust it")
    return sorted(untrusted)
