"""What reviewers saw: a hidden, machine-readable line in the PR report naming each model's artifact.

``register`` reads it back from the merged PR's comment and refuses a model whose artifact built on main
differs from the one the report showed for the PR's head (what was reviewed is what ships).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

from mlops_actions import bounded

_PREFIX = "<!-- mlops-actions:evidence "
_LINE = re.compile(r"^<!-- mlops-actions:evidence (\{.*\}) -->$", re.M)
_HEX = re.compile(r"^[0-9a-f]{40,64}$")


@dataclass(frozen=True)
class Shown:
    artifact_sha256: str
    fingerprint: str


@dataclass(frozen=True)
class Evidence:
    head_sha: str
    models: Mapping[str, Shown]


def render(head_sha: str, models: Mapping[str, Shown]) -> str:
    """The hidden line (hex digests and model names only, so it cannot close the HTML comment)."""
    data = {"head": head_sha,
            "models": {name: {"artifact": s.artifact_sha256, "fingerprint": s.fingerprint}
                       for name, s in sorted(models.items())}}
    text = json.dumps(data, sort_keys=True, separators=(",", ":"))
    if "--" in text:
        raise ValueError("evidence must not contain '--'")
    return f"{_PREFIX}{text} -->"


def parse(body: str) -> Evidence | None:
    """The evidence in a comment body, or None when there is none or it is malformed."""
    match = _LINE.search(body or "")
    if match is None:
        return None
    try:
        data = bounded.loads(match.group(1))
        models = {str(name): Shown(str(v["artifact"]), str(v["fingerprint"])) for name, v in data["models"].items()}
        head = str(data["head"])
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not all(_HEX.match(s.artifact_sha256) for s in models.values()):
        return None
    return Evidence(head, models)
