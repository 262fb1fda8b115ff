"""Checks beyond the schema: names, paths inside the repository, columns in the data, the allow-list.

Each check returns findings ``(path parts, at, message, severity)``; the caller locates them in the file.
Nothing is imported and no data row is read: column names come from the header alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import Any

from mlops_actions.convention import build_checks, names
from mlops_actions.convention.checking import Context as Context  # re-exported: validation builds it
from mlops_actions.convention.checking import Finding as Finding
from mlops_actions.convention.model import (
    REGRESSION_FAIRNESS,
    estimator_allowed,
    estimator_refusal,
)
from mlops_actions.convention.problems import ERROR
from mlops_actions.convention.units import SIZE_PATTERN, parse_size


def check_model_spec(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    """Semantic checks of a spec. Each check runs on its own, so a spec with schema errors still gets
    every semantic problem whose inputs have the right shape."""
    checks = (_check_name, _check_data, _check_estimator, _check_metrics_and_gates, _check_code,
              _check_build, _check_split, _check_fairness)
    for check in checks:
        try:
            findings = list(check(relpath, spec, ctx))
        except (KeyError, TypeError, AttributeError, IndexError):
            continue  # the schema problems already describe the shape that stopped this check
        yield from findings


def _check_name(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    folder = PurePosixPath(relpath).parent.name
    if not isinstance(spec["name"], str):
        return  # YAML read it as a number, a boolean or null: the schema's problem says to quote it
    if spec["name"] != folder:
        yield (["name"], "value",
               f"model name '{spec['name']}' does not match its folder '{folder}'; rename one of them", ERROR)
    problem = names.name_problem(folder, ctx.models)
    schema_caught = folder == spec["name"] and not re.search(names.PATTERN, folder)  # told once, not twice
    if problem and (not schema_caught or names.twin(folder, ctx.models)):
        yield ["name"], "value", f"folder models/{folder}/: {problem}; rename the folder and the name", ERROR


def _check_code(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    for i, code in enumerate(spec.get("code", [])):
        reason = ctx.path_problem(code)
        if reason:
            yield ["code", i], "value", f"code file {code!r}: {reason}", ERROR


def _check_data(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    data = spec["data"]
    features = data["features"]
    if data["target"] in features:
        yield (["data", "features", data["target"]], "key",
               f"the target '{data['target']}' is listed as a feature (target leakage); remove it from features",
               ERROR)
    if spec["task"] == "regression" and "positive_label" in data:
        yield ["data", "positive_label"], "key", "positive_label applies to classification only", ERROR
    if spec["task"] == "regression" and spec.get("split", {}).get("stratify"):
        yield ["split", "stratify"], "value", "stratify applies to classification only", ERROR
    if "path" not in data:
        return
    handled, reason = ctx.local_data(data["path"], data["format"])  # DVC-tracked, or partitions
    if handled:
        yield from ([(["data", "path"], "value", f"data path {data['path']!r}: {reason}", ERROR)] if reason else [])
        return
    reason = ctx.path_problem(data["path"])
    if reason:
        yield ["data", "path"], "value", f"data path {data['path']!r}: {reason}", ERROR
        return
    if ctx.read_headers:
        yield from _check_columns(data, ctx.columns(str(PurePosixPath(data["path"])), data["format"]))


def _check_columns(data: Mapping[str, Any], columns: list[str] | str) -> Iterator[Finding]:
    if isinstance(columns, str):
        yield ["data", "path"], "value", f"data file {data['path']!r}: {columns}", ERROR
        return
    have = set(columns)
    where = f"the header of {data['path']}"
    # a column name YAML read as a number or null is the schema's problem (quote it), not a missing column
    if isinstance(data["target"], str) and data["target"] not in have:
        yield ["data", "target"], "value", f"target column '{data['target']}' is not in {where}", ERROR
    for name in data["features"]:
        if isinstance(name, str) and name not in have:
            yield ["data", "features", name], "key", f"feature column '{name}' is not in {where}", ERROR
    for role in ("sensitive", "control"):
        for i, name in enumerate(data.get(role, [])):
            if isinstance(name, str) and name not in have:
                yield ["data", role, i], "value", f"{role} column '{name}' is not in {where}", ERROR


def _check_build(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    yield from build_checks.check_build(relpath, spec, ctx)


def _check_split(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    data = spec["data"]
    columns = None
    if ctx.read_headers and "path" in data and not ctx.path_problem(data["path"]):
        columns = ctx.columns(str(PurePosixPath(data["path"])), data["format"])
    yield from build_checks.check_split(spec, columns)


def _check_estimator(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    if "estimator" not in spec:
        return
    class_path = spec["estimator"]["class"]
    if not estimator_allowed(class_path, ctx.policy.allowed_prefixes):
        why = estimator_refusal(class_path, ctx.policy.allowed_prefixes)
        yield (["estimator", "class"], "value",
               f"estimator '{class_path}' is not allowed: {why}; it was not imported", ERROR)


def _check_metrics_and_gates(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    yield from build_checks.check_metric_names(spec, ctx)
    for i, gate in enumerate(spec.get("gates", [])):
        yield from _check_gate(i, gate, spec)


def _check_gate(i: int, gate: Mapping[str, Any], spec: Mapping[str, Any]) -> Iterator[Finding]:
    if "metric" in gate and gate["metric"] not in spec["metrics"]:
        yield (["gates", i, "metric"], "value",
               f"gate on '{gate['metric']}', which the spec's metrics do not report; add it to metrics", ERROR)
    if "fairness" not in gate:
        return
    if not spec["data"].get("sensitive"):
        yield ["gates", i, "fairness"], "value", "fairness gate, but data.sensitive names no column", ERROR
    regression_only = gate["fairness"] in REGRESSION_FAIRNESS
    if gate.get("significant") and "max_regression" not in gate:
        yield ["gates", i, "significant"], "key", "significant applies to max_regression only; add one", ERROR
    if regression_only != (spec["task"] == "regression"):
        yield (["gates", i, "fairness"], "value",
               f"fairness measure '{gate['fairness']}' does not apply to a {spec['task']} model", ERROR)


def _check_fairness(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    """The fairness section names sensitive columns only; classes apply to classification only."""
    section = spec.get("fairness") or {}
    sensitive = set(spec["data"].get("sensitive", []))
    pairs = section.get("intersections")
    for i, pair in enumerate(pairs if isinstance(pairs, list) else []):
        for j, name in enumerate(pair):
            if name not in sensitive:
                yield (["fairness", "intersections", i, j], "value",
                       f"'{name}' is not a sensitive column (data.sensitive); intersections combine those", ERROR)
    for name in section.get("labels", {}):
        if name not in sensitive:
            yield ["fairness", "labels", name], "key", f"'{name}' is not a sensitive column (data.sensitive)", ERROR
    if "classes" in section and spec["task"] != "classification":
        yield ["fairness", "classes"], "key", "fairness.classes applies to classification only", ERROR


def check_policy(policy: Mapping[str, Any]) -> Iterator[Finding]:
    try:
        findings = list(_check_policy(policy))
    except (KeyError, TypeError, AttributeError, IndexError):
        return
    yield from findings


def _check_policy(policy: Mapping[str, Any]) -> Iterator[Finding]:
    names = [e["name"] for e in policy["environments"]]
    seen: set[str] = set()
    for i, env in enumerate(policy["environments"]):
        if env["name"] in seen:
            yield ["environments", i, "name"], "value", f"environment '{env['name']}' is listed twice", ERROR
        for j, required in enumerate(env.get("requires", [])):
            if required not in names:
                yield (["environments", i, "requires", j], "value",
                       f"unknown environment '{required}'; known: {', '.join(names)}", ERROR)
            elif required not in seen:
                yield (["environments", i, "requires", j], "value",
                       f"'{required}' must be listed before '{env['name']}' (environments are in promotion order)",
                       ERROR)
        seen.add(env["name"])
    memory = policy.get("limits", {}).get("max_memory")
    if isinstance(memory, str) and re.fullmatch(SIZE_PATTERN, memory) and parse_size(memory) < 1:
        yield ["limits", "max_memory"], "value", f"max_memory {memory!r} is less than one byte", ERROR
    baseline = policy.get("baseline_environment")
    if baseline is not None and baseline not in names:
        yield (["baseline_environment"], "value",
               f"unknown environment '{baseline}'; known: {', '.join(names)}", ERROR)


def check_environment(relpath: str, env: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    if not isinstance(env, Mapping):
        return
    name = PurePosixPath(relpath).stem
    if ctx.policy_loaded and ctx.policy.environment(name) is None:
        known = ", ".join(e.name for e in ctx.policy.environments)
        yield [], "value", f"environment '{name}' is not declared in mlops.yaml (known: {known})", ERROR
    for model in env:
        if isinstance(model, str) and model not in ctx.models:  # other keys: the schema says to quote them
            yield ([model], "key",
                   f"model '{model}' does not exist (no models/{model}/model.yaml)", ERROR)
