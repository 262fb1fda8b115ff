"""Data and code reached through a symbolic link inside the repository are refused.

git stores (and our fingerprint hashed) a link's text, not the file it points to: the target could change
(5,226 rows -> 3,483, a new artifact) while plan said "unchanged, matches arrests@v1". Resolving links in git
trees (chains, folder links, targets outside) is where "what was fingerprinted" and "what was read" part, so a
data or code path must be a regular file: validate, plan and train refuse links and say why."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.repodata.hashing import LINKED
from mlops_actions.training.fingerprint import snapshots_at, snapshots_worktree
from testkit import git
from testkit.registrykit import register

SPEC = "models/arrests/model.yaml"


def _link_data(root: Path, *, folder: bool) -> None:
    """data/arrests.csv becomes a link to a real file (or goes through a linked folder)."""
    data = root / "data" / "arrests.csv"
    if folder:
        os.rename(root / "data", root / "data-v1")
        (root / "data").symlink_to("data-v1")
    else:
        os.rename(data, root / "data" / "arrests-v1.csv")
        data.symlink_to("arrests-v1.csv")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "data behind a link")


def _cut_rows(root: Path, *, folder: bool) -> None:
    target = root / ("data-v1/arrests.csv" if folder else "data/arrests-v1.csv")
    lines = target.read_text().splitlines(keepends=True)
    target.write_text("".join(lines[: 2 * len(lines) // 3]))
    git(root, "commit", "-q", "-am", "fewer rows, same link")


@pytest.mark.parametrize("folder", [False, True], ids=["file link", "folder link"])
def test_target_edited_under_a_registered_version_plan_says_why(example_repo: Path, folder: bool,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    _link_data(example_repo, folder=folder)
    register(example_repo)
    _cut_rows(example_repo, folder=folder)
    code = main(["-C", str(example_repo), "plan", "--base", "HEAD~1"])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "matches arrests@v1" not in out
    assert f"{SPEC}:13:9" in out and "symbolic link 'data" in out and "Commit the file itself" in out


@pytest.mark.parametrize("folder", [False, True], ids=["file link", "folder link"])
def test_the_fingerprint_marks_the_link_in_the_work_tree_and_in_commits(example_repo: Path, folder: bool) -> None:
    _link_data(example_repo, folder=folder)
    for snaps in (snapshots_worktree(example_repo), snapshots_at(example_repo, "HEAD")):
        fingerprint = snaps["arrests"].fingerprint
        assert fingerprint is not None and [d.hash for d in fingerprint.data] == [LINKED]


@pytest.mark.parametrize("cmd", [["validate"], ["train", "arrests"]], ids=lambda c: c[0])
def test_validate_and_train_refuse_a_linked_data_file(example_repo: Path, cmd: list[str],
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    _link_data(example_repo, folder=False)
    assert main(["-C", str(example_repo), *cmd]) == 1
    text = "".join(capsys.readouterr())
    assert f"{SPEC}:13:9" in text and "'data/arrests.csv' (-> 'arrests-v1.csv')" in text
    assert "Traceback" not in text and not (example_repo / "mlops-out").exists()


def test_a_linked_code_file_is_refused(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (example_repo / "src").mkdir()
    (example_repo / "src" / "features.py").write_text("X = 1\n")
    (example_repo / "src" / "current.py").symlink_to("features.py")
    spec = example_repo / SPEC
    spec.write_text(spec.read_text() + "code:\n  - src/current.py\n")
    assert main(["-C", str(example_repo), "validate"]) == 1
    assert "code file 'src/current.py': it goes through the symbolic link" in capsys.readouterr().out


@pytest.mark.parametrize("how", ["spec file", "model folder"])
def test_a_linked_spec_edited_under_a_registered_version_is_refused(example_repo: Path, how: str,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The spec behind a link changed (C 1.0 -> 0.5): plan said "unchanged, matches arrests@v1", since git and
    the parse cache keyed by git's blob id saw only the link's text."""
    register(example_repo)
    models = example_repo / "models"
    if how == "spec file":
        (example_repo / "specs").mkdir()
        os.rename(models / "arrests" / "model.yaml", example_repo / "specs" / "arrests.yaml")
        (models / "arrests" / "model.yaml").symlink_to("../../specs/arrests.yaml")
        target = example_repo / "specs" / "arrests.yaml"
    else:
        os.rename(models / "arrests", example_repo / "arrests-model")
        (models / "arrests").symlink_to("../arrests-model")
        target = example_repo / "arrests-model" / "model.yaml"
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-q", "-m", "spec behind a link, same content")
    snaps = snapshots_at(example_repo, "HEAD")
    assert how == "model folder" or (snaps["arrests"].fingerprint is None and "symbolic link" in
                                     str(snaps["arrests"].problem))
    target.write_text(target.read_text().replace("C: 1.0", "C: 0.5"))
    assert main(["-C", str(example_repo), "plan"]) == 1
    out = capsys.readouterr().out
    assert "matches arrests@v" not in out and "reached through the symbolic link 'models/arrests" in out
