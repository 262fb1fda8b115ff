"""The scikit-learn ``Pipeline``: per-type preprocessing in a ``ColumnTransformer``, then the estimator.

The estimator's import path is checked against the policy's allow-list *before* anything is imported;
only then is it resolved with ``importlib``. Parameters it rejects are reported with the spec's line.
"""

from __future__ import annotations

import importlib
import inspect
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_actions.convention.model import FACTORY, ModelSpec, Policy, estimator_allowed, estimator_refusal
from mlops_actions.errors import InputError, Place
from mlops_actions.training.features import numeric_inputs
from mlops_actions.training.spec_places import SpecPlaces

DEFAULT_MAX_FEATURES = 10_000
_PARAM_IN_MESSAGE = re.compile(r"'(\w+)' parameter|keyword argument '(\w+)'|parameter (\w+) ")


def resolve_estimator(class_path: str, policy: Policy, places: SpecPlaces) -> type:
    """The estimator class at ``class_path``; refused before import unless the policy allows it."""
    place = places.at("estimator", "class")
    if not estimator_allowed(class_path, policy.allowed_prefixes):
        raise InputError(f"estimator '{class_path}' is not allowed: "
                         f"{estimator_refusal(class_path, policy.allowed_prefixes)}; it was not imported", place=place,
                         hint="use an allowed estimator, or extend estimators.allowed_prefixes in mlops.yaml")
    module_name, _, attr = class_path.rpartition(".")
    cls = _import_attr(module_name, attr, class_path, place)
    if not inspect.isclass(cls) or not all(callable(getattr(cls, m, None)) for m in ("fit", "predict")):
        raise InputError(f"'{class_path}' is not a scikit-learn estimator class (it needs fit and predict)",
                         place=place, hint="name an estimator class, e.g. sklearn.linear_model.LogisticRegression")
    return cls


def _import_attr(module_name: str, attr: str, class_path: str, place: Place) -> Any:
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise InputError(f"cannot import module '{module_name}' of estimator '{class_path}': {exc}",
                         place=place, hint="check the spelling, or install the package") from exc
    if not hasattr(module, attr):
        raise InputError(f"module '{module_name}' has no '{attr}'", place=place,
                         hint="check the class name's spelling and case")
    return getattr(module, attr)


def make_estimator(cls: type, spec: ModelSpec, places: SpecPlaces) -> Any:
    """An instance with the spec's params; ``random_state`` from the split seed unless the spec sets it.

    Params are checked by the estimator itself: scikit-learn's declared constraints where the class has them
    (``_parameter_constraints``); other libraries (LightGBM, XGBoost) check theirs in the constructor or fit.
    """
    params = plain_params(spec.estimator.params)
    try:
        estimator = cls(**params)
        if "random_state" not in params and "random_state" in estimator.get_params(deep=False):
            estimator.set_params(random_state=spec.split.seed)
        if isinstance(getattr(estimator, "_parameter_constraints", None), dict):
            validate = getattr(estimator, "_validate_params", None)
            if callable(validate):
                validate()
    except Exception as exc:  # the estimator's own checks: any class, any exception type
        raise param_error(exc, spec, places) from exc
    return estimator


def plain_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The spec's params as ordinary dicts and lists (nested mappings arrive read-only)."""
    def plain(value: Any) -> Any:
        if isinstance(value, Mapping):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [plain(v) for v in value]
        return value
    return {k: plain(v) for k, v in params.items()}


def param_error(exc: BaseException, spec: ModelSpec, places: SpecPlaces) -> InputError:
    """The estimator's own message, placed at the parameter it names (else at the params block)."""
    name = _named_param(str(exc), spec.estimator.params)
    place = places.at("estimator", "params", name, at="key") if name else _params_place(spec, places)
    return InputError(f"{spec.estimator.class_path.rsplit('.', 1)[-1]} rejects its params: {_one_line(exc)}",
                      place=place, hint="fix estimator.params (see the estimator's documentation)")


def _named_param(message: str, params: Mapping[str, Any]) -> str | None:
    for match in _PARAM_IN_MESSAGE.finditer(message):
        name = next(g for g in match.groups() if g)
        if name in params:
            return name
    return next((p for p in params if re.search(rf"\b{re.escape(p)}\b", message)), None)


def _params_place(spec: ModelSpec, places: SpecPlaces) -> Place:
    if spec.estimator.params:
        return places.at("estimator", "params", at="key")
    return places.at("estimator", "class")


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 400 else text[:397] + "..."


def fit_error(exc: BaseException, spec: ModelSpec, places: SpecPlaces, *, root: Path | None = None,
              stage: str = "fit") -> InputError:
    """An estimator raising during ``stage`` (fit or predict): its message, placed at the param it names or at
    the class; for a pipeline factory, at the line of the repository's code that raised, else at the factory."""
    if spec.build.kind == FACTORY:
        from mlops_actions.training.factory import factory_place
        from mlops_actions.training.repo_code import code_error

        what = f"the estimator returned by {spec.build.target} failed during {stage}"
        fallback = factory_place(spec, places)
        if root is None:
            return InputError(f"{what}: {type(exc).__name__}: {_one_line(exc)}", place=fallback,
                              hint="the message is your code's own; fix the factory's estimator or the data")
        return code_error(exc, root, what, fallback)
    name = _named_param(str(exc), spec.estimator.params)
    place = places.at("estimator", "params", name, at="key") if name else places.at("estimator", "class")
    return InputError(f"the estimator failed during {stage}: {type(exc).__name__}: {_one_line(exc)}", place=place,
                      hint="check estimator.params and the data; the message above is the estimator's own")


# --- preprocessing ----------------------------------------------------------------------------------

def build_pipeline(spec: ModelSpec, estimator: Any) -> Any:
    """``Pipeline([("preprocess", ColumnTransformer(...)), ("estimator", estimator)])``."""
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import Pipeline

    transformers = [t for t in _transformers(spec) if t is not None]
    pre = ColumnTransformer(transformers, remainder="drop", sparse_threshold=0.0)
    return Pipeline([("preprocess", pre), ("estimator", estimator)])


def _transformers(spec: ModelSpec) -> list[Any]:
    by_kind: dict[str, list[str]] = {}
    for name, kind in spec.data.features.items():
        if kind != "datetime":
            by_kind.setdefault(kind, []).append(name)
    numeric = numeric_inputs(spec.data.features)
    if numeric:
        by_kind["numeric"] = numeric
    options = spec.preprocessing
    found: list[Any] = []
    for kind in ("numeric", "categorical", "boolean"):
        if kind in by_kind:
            found.append((kind, _STEPS[kind](options.get(kind, {})), by_kind[kind]))
    for name in by_kind.get("text", []):
        found.append((f"text_{name}", _text(options.get("text", {})), name))
    return found


def _numeric(opts: Mapping[str, Any]) -> Any:
    from sklearn.preprocessing import MinMaxScaler, RobustScaler, StandardScaler

    scalers = {"standard": StandardScaler, "minmax": MinMaxScaler, "robust": RobustScaler}
    steps = [_imputer(opts.get("impute", "median"), 0.0)]
    scale = opts.get("scale", "standard")
    steps.append(("scale", scalers[scale]()) if scale in scalers else None)
    return _chain(steps)


def _categorical(opts: Mapping[str, Any]) -> Any:
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder

    if opts.get("encode", "onehot") == "ordinal":
        encoder = OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1,
                                 encoded_missing_value=-2)
    else:
        encoder = OneHotEncoder(handle_unknown="ignore", sparse_output=False)
    return _chain([_imputer(opts.get("impute", "most_frequent"), "missing"), ("encode", encoder)])


def _boolean(opts: Mapping[str, Any]) -> Any:
    """Booleans arrive as 1.0/0.0 (see ``data.to_boolean``); only missing values need filling."""
    return _chain([_imputer(opts.get("impute", "most_frequent"), 0.0)])


def _text(opts: Mapping[str, Any]) -> Any:
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(max_features=opts.get("max_features", DEFAULT_MAX_FEATURES))


def _imputer(strategy: str, fill_value: Any) -> tuple[str, Any] | None:
    from sklearn.impute import SimpleImputer

    if strategy == "none":
        return None
    if strategy == "constant":
        return "impute", SimpleImputer(strategy="constant", fill_value=fill_value)
    return "impute", SimpleImputer(strategy=strategy)


def _chain(steps: list[tuple[str, Any] | None]) -> Any:
    from sklearn.pipeline import Pipeline

    kept = [s for s in steps if s is not None]
    if not kept:
        return "passthrough"
    return Pipeline(kept)


_STEPS = {"numeric": _numeric, "categorical": _categorical, "boolean": _boolean}
