"""JSON Schemas of the convention: loaded once, cross-referenced, compiled once per schema."""

from __future__ import annotations

import json
from functools import cache
from typing import TYPE_CHECKING, Any

from mlops_actions.convention.fastcheck import Check, compile_check
from mlops_actions.resources import schema_names, schema_path

if TYPE_CHECKING:  # jsonschema and referencing load on first use (a cached answer needs neither)
    from jsonschema import Draft202012Validator
    from referencing import Registry

MODEL_SPEC = "model-spec"
POLICY = "policy"
ENVIRONMENT = "environment"
VERSION_RECORD = "version-record"
POLICY_RECORD = "policy-record"


@cache
def schema(name: str) -> dict[str, Any]:
    with schema_path(name).open(encoding="utf-8") as fh:
        loaded: dict[str, Any] = json.load(fh)
    return loaded


@cache
def _registry() -> Registry:
    from referencing import Registry, Resource

    resources = []
    for name in schema_names():
        doc = schema(name)
        resource = Resource.from_contents(doc)
        resources.append((doc["$id"], resource))
        resources.append((f"{name}.schema.json", resource))
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator compiled once per schema and reused for every file.

    It validates the schema with every ``$ref`` inlined (our schemas are not recursive), which spares
    jsonschema a reference lookup per node and nearly halves the time to explain an invalid file.
    """
    from jsonschema import Draft202012Validator

    doc = schema(name)
    return Draft202012Validator(inline_refs(doc, _registry().resolver(base_uri=doc["$id"])))


_LITERAL_KEYWORDS = frozenset({"$defs", "examples", "enum", "const", "default"})


def inline_refs(node: Any, resolver: Any) -> Any:
    """A copy of ``node`` with each ``$ref`` replaced by its target (siblings kept)."""
    if isinstance(node, list):
        return [inline_refs(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    if "$ref" in node:
        resolved = resolver.lookup(node["$ref"])
        out.update(inline_refs(resolved.contents, resolved.resolver))
    for key, value in node.items():
        if key == "$ref" or key == "$defs":
            continue
        out[key] = value if key in _LITERAL_KEYWORDS else inline_refs(value, resolver)
    return out


@cache
def fast_check(name: str) -> Check | None:
    """The compiled yes/no check of a schema (see ``fastcheck``), or None when it has no fast path.

    Its ``$ref``s are resolved by ``LocalRefs`` (the shipped schemas refer to each other by JSON pointer only),
    so checking a valid file loads neither ``referencing`` nor jsonschema; any other reference falls back
    to ``referencing``."""
    doc = schema(name)
    try:
        return compile_check(doc, LocalRefs(name))
    except LookupError:
        return compile_check(doc, _registry().resolver(base_uri=doc["$id"]))


class LocalRefs:
    """A resolver for ``fastcheck`` (``lookup(ref)`` -> ``.contents`` and ``.resolver``) of the references
    among the shipped schemas: ``#/<pointer>`` in the same schema, ``<name>.schema.json#/<pointer>`` or the
    schema's full ``$id`` in another. Anything else raises ``LookupError``."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.resolver = self
        self.contents: Any = None

    def lookup(self, ref: str) -> LocalRefs:
        target, _, fragment = ref.partition("#")
        name = self.name if not target else _schema_named(target)
        node: Any = schema(name)
        if fragment and not fragment.startswith("/"):
            raise LookupError(f"unsupported reference {ref!r}")
        for part in fragment.split("/")[1:]:
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]  # KeyError/IndexError: LookupError
        found = LocalRefs(name)
        found.contents = node
        return found


def _schema_named(target: str) -> str:
    base = schema(MODEL_SPEC)["$id"].rpartition("/")[0] + "/"
    file = target.removeprefix(base)
    name = file.removesuffix(".schema.json")
    if "/" in file or name == file or name not in schema_names():
        raise LookupError(f"unsupported reference {target!r}")
    return name


def is_valid(name: str, data: Any) -> bool:
    """True when ``data`` is valid against schema ``name``: the fast path, confirmed by jsonschema on "no"."""
    check = fast_check(name)
    if check is not None and check(data):
        return True
    return validator(name).is_valid(data)
