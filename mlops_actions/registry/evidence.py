"""What reviewers saw: a hidden, machine-readable line in the PR report naming each model's artifact and
a digest of every number the comment shows.

``register`` reads it back from the merged PR's comment and refuses a model whose artifact built on main
differs from the one the report showed for the PR's head, or whose numbers (metrics, fairness summary, gate
verdicts) rebuilt on main differ from the reviewed ones: a fork can compute the true artifact sha256 of a
deterministic training and post made-up metrics next to it, but not make main's rebuild agree with them.
Per number, a short keyed digest lets the refusal name which numbers differ.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions import bounded
from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.registry.versioning import finite
from mlops_actions.training.reproducibility import part_digests

_PREFIX = "<!-- mlops-actions:evidence "
_LINE = re.compile(r"^<!-- mlops-actions:evidence (\{.*\}) -->$", re.M)
_HEX = re.compile(r"^[0-9a-f]{40,64}$")
_SHORT = re.compile(r"^[0-9a-f]{8}$")
SHORT = 8  # hex digits of a per-number digest (diagnosis only; the full digest decides)
MAX_PARTS = 200  # continuation comments read at most (about 6,000 models of ~2,000 characters each)


@dataclass(frozen=True)
class Shown:
    artifact_sha256: str
    fingerprint: str
    digest: str | None = None  # sha256 of every number the comment shows (None: a report without it)
    each: Mapping[str, str] = field(default_factory=dict)  # short digest of a number's name -> of its value
    # the reviewed numbers themselves, for models whose rebuild is judged within a tolerance
    # (reproducibility: metrics; see training.reproducibility)
    numbers: Mapping[str, float | None] = field(default_factory=dict)
    # short digest of each artifact part's name -> of its sha256 (training.reproducibility.part_digests), so a
    # rebuild that is not byte-identical names the step or file that differs; empty in older reports
    parts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Evidence:
    head_sha: str
    models: Mapping[str, Shown]
    parts: int = 0  # continuation comments holding the rest (a report of more models than one comment holds)


def numbers_of(m: ModelReport) -> dict[str, Any]:
    """Every number the report shows for ``m``, by name: metrics, fairness summary, gate results."""
    out: dict[str, Any] = {f"metric {d.name}": d.new for d in m.metrics}
    summary = m.fairness.summary if m.fairness is not None else (m.record.get("fairness") or {})
    out.update({f"fairness {k}": v for k, v in summary.items()})
    out.update({f"gate {r.label} {r.bound}": [r.status, r.value, r.threshold, r.baseline] for r in m.gates.results})
    out["verdict"] = m.verdict
    return finite(out)


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False).encode("utf-8")


def _short(text: bytes) -> str:
    return hashlib.sha256(text).hexdigest()[:SHORT]


def shown(m: ModelReport) -> Shown:
    """The evidence of one model as the report renders it."""
    numbers = numbers_of(m)
    each = {_short(name.encode("utf-8")): _short(_canonical(value)) for name, value in numbers.items()}
    return Shown(m.artifact_sha256, m.fingerprint, digest=hashlib.sha256(_canonical(numbers)).hexdigest(), each=each,
                 parts=part_digests(m.record))


def differing(rebuilt: ModelReport, reviewed: Shown) -> list[str]:
    """Names (with the rebuilt value) of the numbers that differ from the reviewed ones; [] when all agree."""
    mine = shown(rebuilt)
    if mine.digest == reviewed.digest:
        return []
    numbers = numbers_of(rebuilt)
    found = [f"{name} (rebuilt on main: {_value(numbers[name])})" for name in sorted(numbers)
             if reviewed.each.get(_short(name.encode("utf-8"))) != mine.each[_short(name.encode("utf-8"))]]
    return found or ["a number the reviewed report showed that main's rebuild does not have"]


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value if v is not None)
    return str(value)


def part_marker(index: int) -> str:
    """The marker of the ``index``-th (from 1) continuation comment of the evidence."""
    return f"mlops-actions:evidence-{index}"


def split(head_sha: str, models: Mapping[str, Shown], room: int, limit: int) -> tuple[str, list[str]]:
    """The evidence as one line of at most ``room`` characters when it fits, else a line naming how many
    continuation comments hold it and those comments' lines, each at most ``limit`` characters (models in
    name order, never split)."""
    whole = render(head_sha, models)
    if len(whole) <= room:
        return whole, []
    parts: list[dict[str, Shown]] = [{}]
    for name, shown_ in sorted(models.items()):
        if parts[-1] and len(render(head_sha, {**parts[-1], name: shown_})) > limit:
            parts.append({})
        parts[-1][name] = shown_
    return render(head_sha, {}, parts=len(parts)), [render(head_sha, part) for part in parts]


def merge(first: Evidence, parts: list[Evidence | None]) -> Evidence | None:
    """The evidence of a report and its continuation comments; None when one is missing, malformed or
    for another commit (a stale part of an earlier push is never read as this one)."""
    if len(parts) != first.parts or any(p is None or p.head_sha != first.head_sha or p.parts for p in parts):
        return None
    models = dict(first.models)
    for part in parts:
        models.update(part.models if part is not None else {})
    return Evidence(first.head_sha, models)


def render(head_sha: str, models: Mapping[str, Shown], parts: int = 0) -> str:
    """The hidden line (hex digests and model names only, so it cannot close the HTML comment)."""
    data: dict[str, Any] = {"head": head_sha, "models": {name: _model(s) for name, s in sorted(models.items())}}
    if parts:
        data["parts"] = parts
    # "--" can only occur inside a string (a repository metric's name): a JSON escape keeps the comment closed
    text = json.dumps(data, sort_keys=True, separators=(",", ":")).replace("--", "-\\u002d")
    if "--" in text:
        raise ValueError("evidence must not contain '--'")
    return f"{_PREFIX}{text} -->"


def _model(s: Shown) -> dict[str, Any]:
    out: dict[str, Any] = {"artifact": s.artifact_sha256, "fingerprint": s.fingerprint}
    if s.digest is not None:
        out.update({"digest": s.digest, "each": dict(sorted(s.each.items()))})
    if s.numbers:
        out["numbers"] = dict(s.numbers)
    if s.parts:
        out["parts"] = dict(sorted(s.parts.items()))
    return out


def parse(body: str) -> Evidence | None:
    """The evidence in a comment body, or None when there is none or it is malformed."""
    match = _LINE.search(body or "")
    if match is None:
        return None
    try:
        data = bounded.loads(match.group(1))
        models = {str(name): _parse_model(v) for name, v in data["models"].items()}
        head = str(data["head"])
        parts = int(data.get("parts", 0))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None
    if not all(_HEX.match(s.artifact_sha256) for s in models.values()) or not 0 <= parts <= MAX_PARTS:
        return None
    return Evidence(head, models, parts)


def _parse_model(v: Mapping[str, Any]) -> Shown:
    digest = v.get("digest")
    each = v.get("each") or {}
    if digest is not None and (not _HEX.match(str(digest)) or not isinstance(each, dict)
                               or not all(_SHORT.match(str(k)) and _SHORT.match(str(x)) for k, x in each.items())):
        raise ValueError("malformed numbers digest")
    parts = v.get("parts") or {}
    if not isinstance(parts, dict) or not all(_SHORT.match(str(k)) and _SHORT.match(str(x)) for k, x in parts.items()):
        parts = {}  # diagnosis only (the artifact's sha256 decides): malformed ones are unknown, not fatal
    return Shown(str(v["artifact"]), str(v["fingerprint"]), digest=str(digest) if digest is not None else None,
                 each={str(k): str(x) for k, x in each.items()}, numbers=_numbers(v.get("numbers")),
                 parts={str(k): str(x) for k, x in parts.items()})


def _numbers(raw: object) -> dict[str, float | None]:
    if not isinstance(raw, dict):
        return {}
    return {str(k): float(v) if isinstance(v, int | float) and not isinstance(v, bool) else None
            for k, v in raw.items()}
