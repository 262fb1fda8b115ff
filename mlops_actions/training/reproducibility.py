"""Is a rebuild on main what reviewers saw? Pure comparisons: records and artifact bytes in, verdicts out.

Two rules, per model (``reproducibility`` in its spec; recorded by ``train``):

* ``exact``: the rebuilt artifact has the reviewed sha256 (byte-identical training).
* ``metrics``: the rebuilt artifact ships; every metric and fairness number the report showed must be within the
  spec's ``tolerance`` of the rebuild's (GPU and threaded trainers are not bit-exact).

``artifact_differences`` names what differs between two artifacts: the pipeline step and attribute for skops
files, the file for a command's folder, so a non-reproducible rebuild says where to look. ``register`` has
only the reviewed artifact's hashes, not its bytes: the record's ``artifact.parts`` (a sha256 per fitted step
or file, ``training.artifact.artifact_parts``) travel in the report's evidence as short digests, and
``part_differences`` names the parts whose digest is not the reviewed one.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import zipfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from mlops_actions.training.artifact import ROOT_PART

EXACT, METRICS = "exact", "metrics"
MAX_DIFFERENCES = 8
SHORT = 8  # hex digits of a part's name and hash in the evidence (diagnosis only; the full sha256 decides)
Numbers = Mapping[str, float | None]


@dataclass(frozen=True)
class Reviewed:
    """What the pull request's report showed for one model (``parts``: ``part_digests`` of its record; empty
    when the report predates them)."""

    artifact_sha256: str
    numbers: Numbers = field(default_factory=dict)
    parts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Verdict:
    """The rule that applied, whether the rebuild meets it, and why not."""

    rule: str
    ok: bool
    problems: tuple[str, ...] = ()
    tolerance: float = 0.0
    reviewed: Numbers = field(default_factory=dict)
    rebuilt: Numbers = field(default_factory=dict)

    def record_fields(self) -> dict[str, Any]:
        """The version record's ``reproducibility``: the rule, and for ``metrics`` both sets of numbers."""
        fields: dict[str, Any] = {"rule": self.rule}
        if self.rule == METRICS:
            fields.update(tolerance=self.tolerance, reviewed=dict(self.reviewed), rebuilt=dict(self.rebuilt))
        return fields


def rule_of(record: Mapping[str, Any]) -> tuple[str, float]:
    """(rule, tolerance) a training record carries; ``exact`` for records from before the rule existed."""
    repro = record.get("reproducibility") or {}
    return str(repro.get("rule", EXACT)), float(repro.get("tolerance", 0.0))


def numbers_of(record: Mapping[str, Any]) -> dict[str, float | None]:
    """Every number a report shows and gates read: ``metrics.<name>`` and ``fairness.<name>``."""
    found: dict[str, float | None] = {}
    for section in ("metrics", "fairness"):
        for name, value in sorted((record.get(section) or {}).items()):
            found[f"{section}.{name}"] = None if value is None else float(value)
    return found


def check_rebuild(rebuilt: Mapping[str, Any], reviewed: Reviewed) -> Verdict:
    """The verdict on the record ``rebuilt`` (trained on main) against what the review showed."""
    rule, tolerance = rule_of(rebuilt)
    sha = str((rebuilt.get("artifact") or {}).get("sha256", ""))
    if rule == EXACT:
        if sha == reviewed.artifact_sha256:
            return Verdict(EXACT, True)
        return Verdict(EXACT, False, (f"not reproducible: the artifact built on main has sha256 {sha[:12]}…, the "
                                      f"review showed {reviewed.artifact_sha256[:12]}… (reproducibility: exact); "
                                      + difference_note(rebuilt, reviewed.parts),))
    numbers = numbers_of(rebuilt)
    problems = tuple(number_differences(reviewed.numbers, numbers, tolerance))
    return Verdict(METRICS, not problems, problems, tolerance, dict(reviewed.numbers), numbers)


# --- which part differs: the record's artifact.parts against the reviewed digests ----------------------------

UNKNOWN_PARTS = ("the review's evidence or main's record has no per-step or per-file hashes: made by an older "
                 "mlops-actions, or more parts than a record keeps")


def short(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:SHORT]


def part_digests(record: Mapping[str, Any]) -> dict[str, str]:
    """The record's ``artifact.parts`` as the evidence carries them: short digest of the part's name -> the
    first hex digits of its sha256 (no names: the evidence holds hex digits only). Empty for older records."""
    parts = (record.get("artifact") or {}).get("parts") or {}
    return {short(str(name)): str(sha)[:SHORT] for name, sha in sorted(parts.items())}


def part_differences(rebuilt: Mapping[str, Any], reviewed: Mapping[str, str]) -> list[str] | None:
    """The parts of the rebuilt record's artifact whose hash is not the reviewed one, named (``step
    preprocess/numeric/impute``, ``file weights.json``); None when either side has no parts (unknown)."""
    artifact = rebuilt.get("artifact") or {}
    parts = artifact.get("parts") or {}
    if not parts or not reviewed:
        return None
    kind = "file" if artifact.get("format") == "files" else "step"
    found = [_part_label(kind, str(name)) for name, sha in sorted(parts.items())
             if reviewed.get(short(str(name))) != str(sha)[:SHORT]]
    mine = {short(str(name)) for name in parts}
    gone = sum(1 for key in reviewed if key not in mine)
    if gone:
        found.append(f"{gone} {kind}(s) the review had that the rebuild does not")
    return _limit(found) if found else [f"no {kind}: each has its reviewed hash and only the whole artifact's "
                                        "differs (an edited or forged report?)"]


def difference_note(rebuilt: Mapping[str, Any], reviewed: Mapping[str, str]) -> str:
    """What differs between the rebuild and the review, and what to do: the steps or files named, or why they
    cannot be."""
    differ = part_differences(rebuilt, reviewed)
    if differ is None:
        return (f"which step or file differs is unknown ({UNKNOWN_PARTS}); run the PR workflow again to record "
                "them")
    if (rebuilt.get("artifact") or {}).get("format") == "files":
        todo = ("make the command write these files the same way on every run (no timestamps, no unordered "
                "output, randomness seeded from MLOPS_SEED)")
    else:
        todo = ("make these steps' fit deterministic (seed them with random_state; no clock, thread count or "
                "file outside the fingerprint in what they learn)")
    return f"what differs: {', '.join(differ)}; {todo}, or set reproducibility: metrics with a tolerance"


def _part_label(kind: str, name: str) -> str:
    if kind == "step" and name == ROOT_PART:
        return "the model's own attributes (not a step's)"
    return f"{kind} {name}"


def number_differences(reviewed: Numbers, rebuilt: Numbers, tolerance: float) -> Iterator[str]:
    """A line per number that is missing on one side or moved by more than ``tolerance``."""
    if not reviewed:
        yield "the review showed no numbers for this model (reproducibility: metrics needs them); rerun the report"
        return
    for name in sorted(set(reviewed) | set(rebuilt)):
        before, after = reviewed.get(name), rebuilt.get(name)
        if name not in reviewed or name not in rebuilt:
            side = "the rebuild" if name not in rebuilt else "the review"
            yield f"{name}: not in {side}"
        elif (before is None) != (after is None):
            yield f"{name}: {_show(before)} reviewed, {_show(after)} rebuilt"
        elif before is not None and after is not None and not _within(before, after, tolerance):
            yield (f"{name}: {before:.6g} reviewed, {after:.6g} rebuilt (difference {abs(after - before):.3g} > "
                   f"tolerance {tolerance:g})")


def _within(before: float, after: float, tolerance: float) -> bool:
    return math.isclose(before, after, rel_tol=0.0, abs_tol=tolerance) or abs(after - before) <= tolerance


def _show(value: float | None) -> str:
    return "null" if value is None else f"{value:.6g}"


# --- where two artifacts differ ----------------------------------------------------------------------------

def artifact_differences(old: bytes, new: bytes) -> list[str]:
    """What differs between two artifacts (skops files or zips of a command's files), at most a few lines."""
    if old == new:
        return []
    try:
        before, after = _entries(old), _entries(new)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        return [f"the artifacts cannot be compared ({exc})"]
    if "schema.json" in before and "schema.json" in after:
        return _limit(list(_schema_differences(before, after)))
    return _limit(list(_file_differences(before, after)))


def _entries(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def _limit(lines: list[str]) -> list[str]:
    if len(lines) <= MAX_DIFFERENCES:
        return lines
    return [*lines[:MAX_DIFFERENCES], f"... and {len(lines) - MAX_DIFFERENCES} more"]


def _file_differences(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> Iterator[str]:
    for name in sorted(set(before) | set(after)):
        if name not in after:
            yield f"file {name}: only in the first artifact"
        elif name not in before:
            yield f"file {name}: only in the second artifact"
        elif before[name] != after[name]:
            yield f"file {name}: content differs"


def _schema_differences(before: Mapping[str, bytes], after: Mapping[str, bytes]) -> Iterator[str]:
    old, new = json.loads(before["schema.json"]), json.loads(after["schema.json"])
    seen: dict[str, None] = {}
    for where in _walk(old, new, (), before, after):
        seen.setdefault(where, None)
    for where in seen:
        yield f"step {where}: differs"


def _walk(old: Any, new: Any, path: tuple[str, ...], files_old: Mapping[str, bytes],
          files_new: Mapping[str, bytes]) -> Iterator[str]:
    """Paths like ``Pipeline.steps > ColumnTransformer.transformers_ > TfidfVectorizer._stop_words_id``."""
    if isinstance(old, dict) and isinstance(new, dict):
        if "file" in old and "file" in new and isinstance(old["file"], str):
            if files_old.get(old["file"]) != files_new.get(new["file"]):
                yield _describe(path)
            return
        here = path
        if isinstance(old.get("__class__"), str) and old.get("__class__") not in ("dict", "list", "tuple", "str"):
            here = (*path, str(old["__class__"]))
        for key in sorted(set(old) | set(new)):
            if key in ("__id__", "__loader__", "__module__"):
                continue
            step = here if key in ("content", "__class__") else (*here, f".{key}")
            yield from _walk(old.get(key), new.get(key), step, files_old, files_new)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for a, b in zip(old, new, strict=True):
            yield from _walk(a, b, path, files_old, files_new)
    elif old != new:
        yield _describe(path)


def _describe(path: tuple[str, ...]) -> str:
    text = ""
    for part in path:
        text += part if part.startswith(".") else (" > " if text else "") + part
    return text or "(the whole model)"
