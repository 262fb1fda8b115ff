"""Skeletons: the smallest objects that conform to a component schema of GitHub's OpenAPI description.

The emulator's renderers fill in what they know and take every other *required* field from a skeleton,
so each response conforms without hand-writing GitHub's ~80 required fields of a repository. The
skeletons are generated from the description (``python -m mlops_actions.testing.github_emulator.skeleton``)
into ``skeletons.json``, shipped with the package, so the emulator runs without the description.
URL-like strings hold ``{api}``, replaced by the emulator's base URL when rendered.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from .openapi import OpenAPI, load

DATA = Path(__file__).with_name("skeletons.json")
TIMESTAMP = "2026-01-01T00:00:00Z"
NAMES = (
    "simple-user", "public-user", "full-repository", "repository", "minimal-repository",
    "pull-request", "pull-request-simple", "issue", "issue-comment", "pull-request-review", "diff-entry",
    "commit", "repository-collaborator-permission", "team-membership", "team-full", "organization-full",
    "content-file", "git-tag", "git-ref", "tag", "release", "release-asset", "deployment",
    "deployment-status", "environment", "check-run", "status", "combined-commit-status",
    "rate-limit-overview", "simple-commit-status", "collaborator", "label", "milestone",
)  # fmt: skip


def skeleton(api: OpenAPI, node: Any, seen: frozenset[str] = frozenset()) -> Any:
    """The smallest value conforming to ``node`` (a schema of the de-nulled description)."""
    if "$ref" in node:
        ref = node["$ref"]
        return None if ref in seen else skeleton(api, api.resolve(ref.removeprefix("#")), seen | {ref})
    for key in ("anyOf", "oneOf"):
        if key in node:
            return _first_branch(api, node[key], seen)
    if "allOf" in node:
        return _merge([skeleton(api, part, seen) for part in node["allOf"]])
    return _typed(api, node, seen)


def _first_branch(api: OpenAPI, branches: list[Any], seen: frozenset[str]) -> Any:
    if any(branch.get("type") == "null" for branch in branches):
        return None
    return skeleton(api, branches[0], seen)


def _merge(parts: list[Any]) -> Any:
    merged: dict[str, Any] = {}
    for part in parts:
        if isinstance(part, dict):
            merged.update(part)
    return merged


def _typed(api: OpenAPI, node: dict[str, Any], seen: frozenset[str]) -> Any:
    kind = node.get("type", "object")
    kinds = kind if isinstance(kind, list) else [kind]
    if "null" in kinds:
        return None
    if "enum" in node:
        return node["enum"][0]
    return _SCALARS[kinds[0]](node) if kinds[0] in _SCALARS else _compound(api, node, kinds[0], seen)


def _string(node: dict[str, Any]) -> str:
    fmt = node.get("format")
    return TIMESTAMP if fmt == "date-time" else "{api}/" if fmt == "uri" else ""


_SCALARS = {
    "string": _string,
    "integer": lambda node: node.get("minimum", 0),
    "number": lambda node: node.get("minimum", 0),
    "boolean": lambda node: False,
}


def _compound(api: OpenAPI, node: dict[str, Any], kind: str, seen: frozenset[str]) -> Any:
    if kind == "array":
        return []
    properties = node.get("properties", {})
    return {name: skeleton(api, properties.get(name, {}), seen) for name in node.get("required", [])}


def generate(api: OpenAPI, names: tuple[str, ...] = NAMES) -> dict[str, Any]:
    """Skeletons of the named component schemas."""
    return {name: skeleton(api, {"$ref": f"#/components/schemas/{name}"}) for name in names}


def main() -> int:
    """Regenerate ``skeletons.json`` from the description (path as the optional argument)."""
    api = load(Path(sys.argv[1]) if len(sys.argv) > 1 else None)
    DATA.write_text(json.dumps(generate(api), indent=1, sort_keys=True) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
