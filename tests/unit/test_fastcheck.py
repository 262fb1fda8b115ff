"""The fast-path schema check agrees with jsonschema on thousands of mutated documents."""

from __future__ import annotations

import copy
import random
from typing import Any

import pytest
from ruamel.yaml import YAML

from mlops_actions.convention.fastcheck import compile_check
from mlops_actions.convention.schemas import fast_check, schema, validator
from mlops_actions.resources import schema_names
from testkit import CASES as ALL_CASES
from testkit import EXAMPLE

CASES = ALL_CASES / "validate" / "_base"
POOL: list[Any] = [None, True, False, 0, 1, -1, 0.5, 1.0, 1.5, 2**40, "", "x", "v1", "v0", "numeric", "higher",
                   "sklearn.a.B", "os.system", "a" * 70, "https://x", "0" * 64, [], ["a"], ["a", "a"], [1, "a"],
                   {}, {"a": 1}, {"name": "x"}, {"metric": "accuracy", "min": 0.5}]


def seeds(name: str) -> list[Any]:
    docs = list(copy.deepcopy(schema(name)["examples"]))
    yaml = YAML(typ="safe")
    files = {"model-spec": ["models/arrests/model.yaml"], "policy": ["mlops.yaml"],
             "environment": ["environments/staging.yaml"]}.get(name, [])
    docs.extend(yaml.load((EXAMPLE / f).read_text()) for f in files)
    base = {"model-spec": "models/m/model.yaml", "policy": "mlops.yaml",
            "environment": "environments/staging.yaml"}.get(name)
    if base:
        docs.append(yaml.load((CASES / base).read_text()))
    return docs


def containers(node: Any) -> list[Any]:
    found = [node] if isinstance(node, dict | list) else []
    children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else []
    for child in children:
        found.extend(containers(child))
    return found


def mutate(doc: Any, rng: random.Random) -> Any:
    doc = copy.deepcopy(doc)
    for _ in range(rng.randint(1, 3)):
        target = rng.choice(containers(doc) or [doc])
        value = copy.deepcopy(rng.choice(POOL))
        if isinstance(target, dict):
            op = rng.random()
            if target and op < 0.35:
                del target[rng.choice(list(target))]
            elif target and op < 0.8:
                target[rng.choice(list(target))] = value
            else:
                target[rng.choice(["zzz", "name", "min", "url", "sha256", "path", "required", "v1"])] = value
        elif isinstance(target, list):
            if target and rng.random() < 0.5:
                target[rng.randrange(len(target))] = value
            elif target:
                target.append(copy.deepcopy(target[0]))
            else:
                target.append(value)
    return doc


@pytest.mark.parametrize("name", schema_names())
def test_fast_check_agrees_with_jsonschema(name: str) -> None:
    check = fast_check(name)
    assert check is not None, "every shipped schema has a fast path"
    rng = random.Random(1234)
    docs = seeds(name)
    assert docs
    disagreements, valid_seen, invalid_seen = [], 0, 0
    for i in range(2500):
        doc = mutate(rng.choice(docs), rng) if i % 10 else rng.choice(docs)
        expected = validator(name).is_valid(doc)
        valid_seen += expected
        invalid_seen += not expected
        if check(doc) != expected:
            disagreements.append(doc)
    assert disagreements == []
    assert valid_seen > 100 and invalid_seen > 500


def test_unsupported_keyword_has_no_fast_path() -> None:
    assert compile_check({"if": {"type": "string"}}, None) is None


def test_booleans_are_not_numbers() -> None:
    check = compile_check({"const": 1}, None)
    assert check is not None and check(1) and check(1.0) and not check(True)
    integer = compile_check({"type": "integer"}, None)
    assert integer is not None and integer(2.0) and not integer(True) and not integer(2.5)
