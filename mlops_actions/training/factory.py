"""A pipeline factory in the repository (``pipeline: models/loans/pipeline.py:build``): the team's function
returning an unfitted scikit-learn-compatible estimator. Called inside ``repo_code.repo_imports``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mlops_actions.convention.model import ModelSpec
from mlops_actions.errors import InputError, Place
from mlops_actions.training.repo_code import code_error, import_function
from mlops_actions.training.spec_places import SpecPlaces


def factory_place(spec: ModelSpec, places: SpecPlaces) -> Place:
    return places.at("pipeline", "factory") if isinstance(spec.raw.get("pipeline"), dict) else places.at("pipeline")


def build_estimator(root: Path, spec: ModelSpec, places: SpecPlaces) -> Any:
    """Call the factory with its params; a fresh unfitted clone of what it returns, seeded where it can be."""
    place = factory_place(spec, places)
    func = import_function(root, spec.build.factory_file, spec.build.factory_name, place)
    try:
        made = func(**dict(spec.build.params))
    except Exception as exc:  # the team's code
        raise code_error(exc, root, f"the factory {spec.build.target} raised", place) from exc
    return seeded(compatible(made, spec, place), spec.split.seed)


def compatible(made: Any, spec: ModelSpec, place: Place) -> Any:
    """``made`` as an unfitted estimator (``sklearn.base.clone``); refused when it is not one."""
    from sklearn.base import clone

    what = f"{type(made).__module__}.{type(made).__qualname__}"
    if isinstance(made, type) or not all(callable(getattr(made, m, None)) for m in ("fit", "predict", "get_params")):
        raise InputError(f"the factory {spec.build.target} returned {what}, not a scikit-learn-compatible estimator "
                         "(an instance with fit, predict and get_params)", place=place,
                         hint="return an unfitted estimator or Pipeline, e.g. `return make_pipeline(...)`")
    try:
        return clone(made)
    except Exception as exc:  # clone runs get_params/constructors of the team's classes
        raise InputError(f"the factory {spec.build.target} returned {what}, which scikit-learn cannot clone: "
                         f"{type(exc).__name__}: {exc}", place=place,
                         hint="constructor parameters must be stored unchanged as attributes of the same "
                              "name (the scikit-learn estimator rules)") from exc


def seeded(estimator: Any, seed: int) -> Any:
    """Every ``random_state`` left at None, anywhere in the estimator, set to the split seed (determinism)."""
    try:
        unset = {k: seed for k, v in estimator.get_params(deep=True).items()
                 if (k == "random_state" or k.endswith("__random_state")) and v is None}
        if unset:
            estimator.set_params(**unset)
    except Exception:  # a class whose params cannot be set this way keeps its own seeding  # noqa: S110
        pass
    return estimator
