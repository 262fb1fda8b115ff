"""Pure parts of plan's fast paths (issue 15): the written-out fingerprint payload is json.dumps' bytes, the
schemas' own $ref resolver finds what referencing finds, and what a spec names is the same by facts or by
the functions it memoizes."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from mlops_actions.convention.schemas import LocalRefs, _registry, schema
from mlops_actions.resources import schema_names
from mlops_actions.training.dependencies import Dependencies, dependencies, reads_files
from mlops_actions.training.fingerprint import (
    FINGERPRINT_FORMAT,
    SpecFacts,
    code_paths,
    data_source,
    estimator_class,
    files_of,
    payload_json,
    spec_facts,
    spec_sha256,
)

ALPHABET = ["a", "Z", '"', "\\", "\n", "\x00", "\x1f", "\x7f", "é", "\u2028", "😀", "/", " ", "\t", ":", ","]


def _text(rng: random.Random) -> str:
    return "".join(rng.choice(ALPHABET) for _ in range(rng.randrange(0, 6)))


def test_the_payload_is_the_bytes_json_dumps_writes() -> None:
    rng = random.Random(15)
    for _ in range(3000):
        spec = _text(rng)
        pairs = [(_text(rng), _text(rng)) for _ in range(rng.randrange(0, 3))]
        code = {_text(rng): _text(rng) for _ in range(rng.randrange(0, 4))}
        libraries = {_text(rng): _text(rng) for _ in range(rng.randrange(0, 4))}
        expected = json.dumps({"format": FINGERPRINT_FORMAT, "spec": spec, "data": [list(p) for p in pairs],
                               "code": code, "libraries": libraries},
                              sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert payload_json(spec, pairs, code, libraries) == expected


def _refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        return ([node["$ref"]] if isinstance(node.get("$ref"), str) else []) + [r for v in node.values()
                                                                              for r in _refs(v)]
    return [r for v in node for r in _refs(v)] if isinstance(node, list) else []


@pytest.mark.parametrize("name", schema_names())
def test_local_refs_find_what_referencing_finds(name: str) -> None:
    doc = schema(name)
    theirs = _registry().resolver(base_uri=doc["$id"])
    for ref in _refs(doc):
        assert LocalRefs(name).lookup(ref).contents is not None
        assert LocalRefs(name).lookup(ref).contents == theirs.lookup(ref).contents, ref


@pytest.mark.parametrize("ref", ["#/$defs/absent", "other.schema.json#/$defs/x", "https://example.com/x.json",
                                 "#anchor", "../model-spec.schema.json#/$defs/gates"])
def test_local_refs_refuse_what_they_do_not_resolve(ref: str) -> None:
    with pytest.raises(LookupError):
        LocalRefs("model-spec").lookup(ref)


@pytest.mark.parametrize("raw", [
    {"data": {"path": "./data/a.csv"}, "code": ["src/b.py", "src/a.py", "src/a.py"], "estimator": {"class": "x.Y"}},
    {"data": {"url": "https://h/x.csv", "sha256": "0" * 64}, "pipeline": {"factory": "m/p.py:build"}},
    {"data": {"path": "../outside.csv"}, "code": "not a list", "train": {"command": "python m/t.py"}},
    {"name": "no data", "requirements": "requirements.txt"},
])
def test_spec_facts_are_what_the_functions_say(raw: dict[str, Any]) -> None:
    facts = spec_facts(raw, spec_sha256(raw))
    assert facts == SpecFacts.of(raw)
    assert facts.source == data_source(raw) and list(facts.code) == code_paths(raw)
    assert list(facts.files) == files_of(raw) and facts.estimator == estimator_class(raw)
    assert facts.traced == ("pipeline" in raw or "train" in raw or "requirements" in raw)


def _no_reading(relpath: str) -> bytes | None:
    raise AssertionError(f"{relpath} read for a spec that names no file")


@pytest.mark.parametrize("raw", [
    {"train": {"command": "python -m models.x.train"}},  # a module run with -m: no .py path in the command
    {"train": {"command": "python models/x/train.py --fast"}},
    {"pipeline": {"factory": "models/x/pipeline.py:build"}},
    {"train": {"command": "./run.sh", "loader": "models/x/load.py:load"}},
    {"metrics": {"models/x/metric.py:score": "higher"}},
    {"requirements": "models/x/requirements.txt"},
])
def test_a_spec_whose_build_can_read_files_is_traced(raw: dict[str, Any]) -> None:
    assert reads_files(raw) and spec_facts(raw, spec_sha256(raw)).traced


@pytest.mark.parametrize("raw", [
    {"estimator": {"class": "sklearn.linear_model.LogisticRegression"}, "metrics": {"accuracy": "higher"}},
    {"pipeline": "not a reference", "train": {"loader": "no colon"}, "requirements": ["not", "a", "path"]},
    {},
])
def test_a_spec_that_is_not_traced_has_no_dependencies_without_reading(raw: dict[str, Any]) -> None:
    assert not reads_files(raw)
    assert dependencies(raw, _no_reading) == Dependencies()


def _tag(model: str, message: str) -> Any:
    from mlops_actions.registry.records import _RawTag

    return _RawTag(model, 1, f"{model}@v1", f"oid-{model}", "tag", "2024-01-01T00:00:00+00:00", message)


def test_records_parsed_together_are_each_record_or_none_at_all() -> None:
    from mlops_actions.registry.records import _parsed_together

    a, b = {"model": "a", "nested": {"x": [1, "],["]}}, {"model": "b", "s": "\u00e9\\\""}
    tags = [_tag("a", json.dumps(a) + "\n"), _tag("b", json.dumps(b))]
    assert _parsed_together(tags) == {"oid-a": a, "oid-b": b}
    assert _parsed_together([*tags, _tag("c", "")]) == {}  # anything that does not parse: each alone, as before
    assert _parsed_together([*tags, _tag("d", "[" * 200_000 + "]" * 200_000)]) == {}  # too deep for the parser
    assert _parsed_together([]) == {}
