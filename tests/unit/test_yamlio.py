"""The quick YAML builder gives exactly what ruamel's safe loader gives; forked validation equals serial."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from mlops_actions.convention.discovery import discover
from mlops_actions.convention.validation import validate
from mlops_actions.convention.yamlio import expanded_size, parse_text
from testkit import CASES

SNIPPETS = [
    "a: 1\nb: -2\nc: +3\nd: 0123\ne: 0x1F\nf: 0o17\ng: 1_000\n",
    "a: 1.5\nb: -0.5e3\nc: .inf\nd: -.Inf\ne: 1e3\nf: 6.\ng: .5\n",
    "a: true\nb: False\nc: yes\nd: no\ne: on\nf: TRUE\n",
    "a: ~\nb: null\nc:\nd: Null\n",
    "a: 2026-11-27\nb: '2026-11-27'\nc: \"x\\ty\"\nd: >-\n  folded\n  text\n",
    "base: &b {x: 1, y: [1, 2]}\nother: *b\nmerged:\n  <<: *b\n  z: 3\n",
    "a: !!str 12\nb: !!int '7'\nc: !!float 1\n",
    "list: [a, 'b', \"c\", 1, 1.0, true, null]\n",
    "nested:\n  - name: x\n    values: {k: v}\n  - - deep\n    - 1\n",
    "1: one\nfalse: no\n2.5: x\n",
]


@pytest.mark.parametrize("text", SNIPPETS)
def test_quick_builder_matches_ruamel(text: str) -> None:
    expected = YAML(typ="safe", pure=True).load(text)
    loaded = parse_text(text, "x.yaml")
    assert loaded.ok, loaded.problems
    assert loaded.data == expected
    assert repr(loaded.data) == repr(expected)  # same types too (1 vs 1.0 vs True)


def test_recursive_alias_is_refused_not_a_crash() -> None:
    loaded = parse_text("a: &a [1, *a]\n", "x.yaml")
    assert not loaded.ok and "alias" in loaded.problems[0].message


def test_expanded_size_counts_aliases_once_per_use() -> None:
    shared = [1, 2, 3]
    assert expanded_size({"a": shared, "b": shared}) == 1 + 2 * (1 + 4)


def test_forked_validation_equals_serial(tmp_path: Path) -> None:
    base = CASES / "validate" / "_base"
    root = tmp_path / "repo"
    shutil.copytree(base, root)
    spec = (root / "models" / "m" / "model.yaml").read_text()
    for i in range(260):
        folder = root / "models" / f"m{i:03d}"
        folder.mkdir()
        text = spec.replace("name: m", f"name: m{i:03d}")
        if i % 7 == 0:
            text = text.replace("test_fraction: 0.25", "test_fraction: 2")
        (folder / "model.yaml").write_text(text)
    files = discover(root)
    serial = validate(root, files, jobs=1)
    forked = validate(root, files, jobs=2)
    assert serial.files_checked == forked.files_checked == len(files)
    assert serial.sorted() == forked.sorted()
    assert len(serial.errors) == 38
