"""The model-name grammar lives in one module (convention/names.py); schemas, the tag grammar, the action's
inputs and ``validate`` agree with it, and what git refuses in a ref never passes."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from mlops_actions.action.entry import check_models
from mlops_actions.cli import main
from mlops_actions.convention import names
from mlops_actions.errors import UsageError
from mlops_actions.registry.tag import parse_tag
from mlops_actions.resources import schema_path
from testkit import EXAMPLE, REPO

# every place a schema holds a model name (JSON pointer); the test below finds any new one
NAME_POINTERS = {"model-spec": ["properties", "name"], "environment": ["propertyNames"],
                 "version-record": ["properties", "model"]}
GOOD = ["churn", "credit-risk", "fraud.v2", "a", "x_1", "0", "a" * 63, "x.locked", "zz.z"]
BAD = ["zz..bad", "zz.", "x.lock", ".zz", "-zz", "zz-", "a--b", "a._b", "Churn", "chürn", "ｃhurn", "a" * 64, "", "a b",
       "a~b", "a^b", "a:b", "a?b", "a*b", "a[b", "a\\b", "a@{b", "a@b", "a/b", "abc\n", "a\tb", "a\x7fb"]


@pytest.mark.parametrize("name", GOOD)
def test_good_names(name: str) -> None:
    assert names.is_model_name(name) and names.name_problem(name) is None
    assert parse_tag(f"{name}@v3") == (name, 3)


@pytest.mark.parametrize("name", BAD, ids=repr)
def test_bad_names_are_refused_everywhere(name: str) -> None:
    assert not names.is_model_name(name)
    assert names.RULE in (names.name_problem(name) or "")
    assert parse_tag(f"{name}@v1") is None
    with pytest.raises(UsageError, match="lowercase letters"):
        check_models((name,))


@pytest.mark.parametrize("name", [n for n in BAD if n and "\n" not in n], ids=repr)
def test_what_the_grammar_refuses_covers_what_git_refuses(name: str, tmp_path: Path) -> None:
    """Every name git accepts in a tag ref and we refuse is refused on purpose; none we accept does git refuse."""
    for good in GOOD:
        assert _git_accepts(f"refs/tags/{good}@v1", tmp_path)
    if not _git_accepts(f"refs/tags/{name}@v1", tmp_path):
        assert not names.is_model_name(name)


def _git_accepts(ref: str, cwd: Path) -> bool:
    return subprocess.run(["git", "check-ref-format", ref], cwd=cwd, capture_output=True).returncode == 0


def test_every_schema_uses_the_one_grammar() -> None:
    for schema, pointer in NAME_POINTERS.items():
        node = json.loads(schema_path(schema).read_text(encoding="utf-8"))
        for key in pointer:
            node = node[key]
        assert node["pattern"] == names.PATTERN, schema
        assert names.RULE in node["description"], schema


def test_the_policy_schema_uses_the_environment_grammar() -> None:
    node = json.loads(schema_path("policy").read_text(encoding="utf-8"))["$defs"]["environment"]
    assert node["properties"]["name"]["pattern"] == names.ENVIRONMENT_PATTERN
    files = [p for p in (REPO / "mlops_actions").rglob("*.py") if p.name != "names.py"]
    assert [p for p in files if "{0,62}" in p.read_text(encoding="utf-8")] == []  # no other copy in code
    assert names.is_environment_name("production") and not names.is_environment_name("../prod")


def test_no_other_copy_of_the_grammar() -> None:
    """grep: the old hand-written name patterns appear nowhere in code or schemas."""
    old = re.compile(r"\[a-z0-9\]\[a-z0-9\._-\]")  # the grammar as four copies spelled it before
    copy = re.compile(r"\[a-z0-9\]\+\(\?:\[\._-\]")  # the grammar as names.py spells it
    files = [p for folder in ("mlops_actions", "schemas") for p in (REPO / folder).rglob("*")
             if p.suffix in (".py", ".json")]
    hits = [p for p in files if old.search(p.read_text(encoding="utf-8"))
            or (p.suffix == ".py" and p.name != "names.py" and copy.search(p.read_text(encoding="utf-8")))]
    assert hits == []
    for schema in ("model-spec", "environment", "version-record"):
        text = schema_path(schema).read_text(encoding="utf-8")
        assert text.count(json.dumps(names.PATTERN)[1:-1]) == 1, schema


def _repo(tmp_path: Path, folder: str, name: str | None = None) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    spec = (root / "models" / "arrests" / "model.yaml").read_text(encoding="utf-8")
    (root / "models" / folder).mkdir()
    (root / "models" / folder / "model.yaml").write_text(spec.replace("name: arrests", f"name: {name or folder}"),
                                                        encoding="utf-8")
    return root


@pytest.mark.parametrize("folder", ["zz.", "Arrests", "arrests\u0301", "ａrrests"])
def test_validate_refuses_the_name_and_states_the_grammar(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                          folder: str) -> None:
    root = _repo(tmp_path, folder)
    assert main(["-C", str(root), "validate"]) == 1
    out = capsys.readouterr().out
    assert f"models/{folder}/model.yaml:2:7" in out and names.RULE in out
    if folder in ("Arrests", "ａrrests"):
        assert "differs from model 'arrests' only by case or Unicode form" in out
