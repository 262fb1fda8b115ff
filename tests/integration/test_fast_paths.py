"""The fast paths of plan, history and validate (issue 15) answer as the slow ones did: model folders by
os.scandir as pathlib's glob found them, .dvc files remembered by stat but re-read when they change, the
shared YAML loader and its scalar-tag memo as ruamel's own loader, and the CLI's garbage-collector setting
restored after the command."""

from __future__ import annotations

import gc
import os
import subprocess
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.convention import yamlio
from mlops_actions.convention.discovery import model_names
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git
from mlops_actions.repodata import dvc

MD5_A, MD5_B = "a" * 32, "b" * 32


def test_model_names_are_the_folders_globbing_finds(tmp_path: Path) -> None:
    models = tmp_path / "models"
    for name in ("b", "a", ".hidden", "no-spec", "spec-is-folder"):
        (models / name).mkdir(parents=True)
    for name in ("a", "b", ".hidden"):
        (models / name / "model.yaml").write_text("name: x\n")
    (models / "spec-is-folder" / "model.yaml").mkdir()
    (models / "loose.yaml").write_text("a file, not a folder\n")
    os.symlink(models / "a", models / "linked")
    os.symlink(tmp_path / "nowhere", models / "dangling")
    expected = sorted(p.parent.name for p in models.glob("*/model.yaml"))
    assert model_names(tmp_path) == expected == [".hidden", "a", "b", "linked", "spec-is-folder"]
    assert model_names(tmp_path / "absent") == []
    (tmp_path / "plain").mkdir()
    (tmp_path / "plain" / "models").write_text("a file named models\n")
    assert model_names(tmp_path / "plain") == []


def _dvc_file(md5: str, size: int = 10) -> str:
    return f"outs:\n- md5: {md5}\n  size: {size}\n  hash: md5\n  path: d.csv\n"


def _repo(tmp_path: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    (tmp_path / "data").mkdir()
    return tmp_path


def test_a_changed_dvc_file_is_read_again_not_answered_from_the_cache(tmp_path: Path) -> None:
    root = _repo(tmp_path)
    meta = root / "data" / "d.csv.dvc"
    meta.write_text(_dvc_file(MD5_A))
    cache = RepoCache(Git(root))
    assert dvc.tracked_worktree(root, ["data/d.csv"], cache)["data/d.csv"].md5 == MD5_A
    cache.save()
    again = RepoCache(Git(root))
    assert again.get(dvc.FILES_SECTION, "data/d.csv.dvc")[-1] == {"data/d.csv": MD5_A}
    dvc._PARSED.clear()  # a new process: only the repository cache remembers
    assert dvc.tracked_worktree(root, ["data/d.csv"], again)["data/d.csv"].md5 == MD5_A
    meta.write_text(_dvc_file(MD5_B, size=11))  # what `dvc add` does after the data changed
    dvc._PARSED.clear()
    assert dvc.tracked_worktree(root, ["data/d.csv"], again)["data/d.csv"].md5 == MD5_B
    meta.unlink()
    dvc._PARSED.clear()
    assert dvc.tracked_worktree(root, ["data/d.csv"], again) == {}


@pytest.mark.parametrize("text", [
    "a: 1\nb: 1.5\nc: true\nd: ~\ne: null\nf: 0o17\ng: 0x1F\nh: .inf\ni: -.nan\nj: 1e3\nk: '1'\nl: yes\n",
    "x: 2024-01-01\ny: 1_000\nz: +12\nw: [1, '2', 3.0, false, '', \"\"]\nv: {a: {b: [c, 4]}}\n",
    "same: 1\nagain: 1\nquoted: '1'\nplain: 1\nnot_int: 1.\n",
])
def test_the_shared_loader_builds_what_ruamels_own_loader_builds(text: str) -> None:
    stock = yamlio._safe_yaml(fast=False)
    expected = stock.load(text)
    for _ in range(2):  # the second time from the scalar-tag memo
        data, tree = yamlio._load_with_tree(yamlio._SAFE, text)
        assert data == expected
        assert [type(v) for v in data.values()] == [type(v) for v in expected.values()]
        assert tree is not None


def test_yaml_errors_still_have_their_place() -> None:
    loaded = yamlio.parse_text("a: 1\na: 2\n", "models/x/model.yaml")
    assert not loaded.ok and loaded.problems[0].line == 2 and "duplicate key" in loaded.problems[0].message
    loaded = yamlio.parse_text("a: [1, 2\n", "models/x/model.yaml")
    assert not loaded.ok and loaded.problems[0].message.startswith("YAML syntax")


def test_the_collector_setting_is_restored_after_a_command(tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    """Also when the command fails (here: a folder with no convention files)."""
    before = gc.get_threshold()
    (tmp_path / "models").mkdir()
    assert main(["-C", str(tmp_path), "validate"], env={}) == 1
    assert "no convention files" in capsys.readouterr().err
    assert gc.get_threshold() == before and gc.get_freeze_count() == 0
