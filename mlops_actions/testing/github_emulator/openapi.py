"""GitHub's OpenAPI description: find the operation of a request, validate request and response bodies.

The description (``api.github.com.json.gz`` from ``@octokit/openapi``) is OpenAPI 3.0: ``nullable: true``
is rewritten once into JSON Schema (``"null"`` added to the type) and ``$ref``s are resolved with a
``referencing`` registry. Validators are compiled lazily, one per (operation, status or request).
"""

from __future__ import annotations

import functools
import gzip
import json
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from jsonschema import Draft4Validator
from referencing import Registry
from referencing.jsonschema import DRAFT4

SPEC_ENV = "MLOPS_GITHUB_OPENAPI"
SPEC_NAME = "api.github.com.json.gz"
BASE_URI = "urn:github:openapi"
UPLOADS_PREFIX = "/uploads"
_GREEDY_PARAMS = frozenset({"ref", "path"})


def default_spec_path() -> Path | None:
    """The description named by $MLOPS_GITHUB_OPENAPI, else the copy shipped in ``reference/``."""
    named = os.environ.get(SPEC_ENV)
    candidates = [Path(named)] if named else []
    here = Path(__file__).resolve()
    candidates += [here.parent / "reference" / SPEC_NAME, here.parent / SPEC_NAME]
    return next((path for path in candidates if path.is_file()), None)


def denull(node: Any) -> Any:
    """Rewrite OpenAPI 3.0 ``nullable: true`` into JSON Schema, recursively."""
    if isinstance(node, list):
        return [denull(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: denull(value) for key, value in node.items()}
    if out.get("nullable") is not True:
        return out
    del out["nullable"]
    return _nullable(out)


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    kind = schema.get("type")
    if kind is None or "$ref" in schema:
        return {"anyOf": [schema, {"type": "null"}]}
    schema["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    if "enum" in schema and None not in schema["enum"]:
        schema["enum"] = [*schema["enum"], None]
    return schema


def template_regex(template: str) -> re.Pattern[str]:
    """``/repos/{owner}/{repo}/git/ref/{ref}`` -> a regex with one named group per parameter."""
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join(_part_regex(part) for part in parts) + "$")


def _part_regex(part: str) -> str:
    if not (part.startswith("{") and part.endswith("}")):
        return re.escape(part)
    name = part[1:-1]
    group = re.sub(r"\W", "_", name)
    return f"(?P<{group}>.+)" if name in _GREEDY_PARAMS else f"(?P<{group}>[^/]+)"


def specificity(template: str) -> tuple[int, int]:
    """Sort key putting the most literal templates first (``/releases/tags/{tag}`` before ``/releases/{id}``)."""
    literal = re.sub(r"\{[^}]+\}", "", template)
    return (-literal.count("/") - template.count("/"), -len(literal))


@dataclass(frozen=True)
class Operation:
    """One operation of the description: where it lives and what it is called."""

    method: str
    template: str
    operation_id: str
    pointer: str


class OpenAPI:
    """The description, with lookup of operations and lazily compiled validators."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = denull(document)
        self._registry: Registry[Any] = Registry().with_resource(BASE_URI, DRAFT4.create_resource(self.document))
        self._templates = sorted(self.document["paths"], key=specificity)
        self._regexes = {template: template_regex(template) for template in self._templates}
        self._validators: dict[str, Draft4Validator | None] = {}

    def operation(self, method: str, path: str) -> Operation | None:
        """The operation answering ``method path`` (query string excluded), or None."""
        path = path.removeprefix(UPLOADS_PREFIX) if path.startswith(UPLOADS_PREFIX + "/") else path
        for template in self._templates:
            item = self.document["paths"][template].get(method.lower())
            if item is not None and self._regexes[template].match(path):
                pointer = "/paths/" + template.replace("~", "~0").replace("/", "~1") + "/" + method.lower()
                return Operation(method.upper(), template, item["operationId"], pointer)
        return None

    def by_id(self, operation_id: str) -> Operation:
        """The operation named ``operation_id`` (e.g. ``issues/create-comment``)."""
        for template, item in self.document["paths"].items():
            for method, op in item.items():
                if isinstance(op, dict) and op.get("operationId") == operation_id:
                    pointer = "/paths/" + template.replace("~", "~0").replace("/", "~1") + "/" + method
                    return Operation(method.upper(), template, operation_id, pointer)
        raise KeyError(operation_id)

    def response_errors(self, operation: Operation, status: int, body: Any) -> list[str]:
        """Why ``body`` does not conform to the JSON response schema of ``status`` (empty: it does)."""
        pointer = self._response_pointer(operation, status)
        return self._errors(pointer, body) if pointer else []

    def request_errors(self, operation: Operation, body: Any) -> list[str]:
        """Why ``body`` does not conform to the JSON request schema of the operation (empty: it does)."""
        item = self.resolve(operation.pointer)
        content = self._follow(item.get("requestBody", {})).get("content", {})
        if "application/json" not in content:
            return []
        return self._errors(operation.pointer + "/requestBody/content/application~1json/schema", body)

    def has_response_schema(self, operation: Operation, status: int) -> bool:
        """Whether the description gives a JSON schema for this status of the operation."""
        return self._response_pointer(operation, status) is not None

    def resolve(self, pointer: str) -> Any:
        """The node at a JSON pointer of the (de-nulled) document."""
        node: Any = self.document
        for token in pointer.strip("/").split("/"):
            token = token.replace("~1", "/").replace("~0", "~")
            node = node[int(token)] if isinstance(node, list) else node[token]
        return node

    def _follow(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            node = self.resolve(node["$ref"].removeprefix("#"))
        return node

    def _response_pointer(self, operation: Operation, status: int) -> str | None:
        responses = self.resolve(operation.pointer).get("responses", {})
        response = responses.get(str(status))
        if response is None:
            return None
        base = operation.pointer + f"/responses/{status}"
        if "$ref" in response:
            base = response["$ref"].removeprefix("#")
            response = self._follow(response)
        if "schema" not in response.get("content", {}).get("application/json", {}):
            return None
        return base + "/content/application~1json/schema"

    def _errors(self, pointer: str, body: Any) -> list[str]:
        validator = self._validator(pointer)
        errors = validator.iter_errors(body) if validator else ()
        return [_describe(error) for error in errors if not _ambiguous(error)]

    def _validator(self, pointer: str) -> Draft4Validator | None:
        if pointer not in self._validators:
            ref = BASE_URI + "#" + quote(pointer, safe="/~-_.")
            self._validators[pointer] = Draft4Validator({"$ref": ref}, registry=self._registry)
        return self._validators[pointer]


def _ambiguous(error: Any) -> bool:
    """A ``oneOf`` failing only because several branches match: the description overlaps there (e.g. the
    409 of ``PUT contents``: ``basic-error`` or ``repository-rule-violation-error``, neither with a required
    field, so every error body matches both). Read as ``anyOf``, as GitHub's own clients do."""
    return error.validator == "oneOf" and not error.context


def _describe(error: Any) -> str:
    where = error.json_path
    return f"{where}: {error.message}"[:600]


@functools.lru_cache(maxsize=4)
def load(path: Path | None = None) -> OpenAPI:
    """Load (once per path) GitHub's OpenAPI description."""
    path = path or default_spec_path()
    if path is None:
        raise FileNotFoundError(f"GitHub's OpenAPI description not found; set ${SPEC_ENV} to {SPEC_NAME}")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return OpenAPI(json.load(handle))


def first_errors(errors: Iterable[str], limit: int = 5) -> str:
    """A short message of the first validation errors."""
    items = list(errors)
    more = f" (+{len(items) - limit} more)" if len(items) > limit else ""
    return "; ".join(items[:limit]) + more
