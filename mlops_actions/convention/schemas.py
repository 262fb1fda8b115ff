"""JSON Schemas of the convention: loaded once, cross-referenced, compiled once per schema."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from mlops_actions.resources import schema_names, schema_path

MODEL_SPEC = "model-spec"
POLICY = "policy"
ENVIRONMENT = "environment"
VERSION_RECORD = "version-record"


@cache
def schema(name: str) -> dict[str, Any]:
    with schema_path(name).open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


@cache
def _registry() -> Registry:
    resources = []
    for name in schema_names():
        doc = schema(name)
        resource = Resource.from_contents(doc)
        resources.append((doc["$id"], resource))
        resources.append((f"{name}.schema.json", resource))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator compiled once per schema and reused for every file."""
    return Draft202012Validator(schema(name), registry=_registry())
