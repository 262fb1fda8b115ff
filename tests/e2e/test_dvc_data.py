"""DVC-tracked data: a real DVC repository with a local DVC remote. The fingerprint takes DVC's md5 from the
``.dvc`` file or ``dvc.lock`` (no data read); ``fetch`` runs ``dvc pull`` of just that target; ``train``
refuses data that is missing or not the recorded version."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.repodata.dvc import candidates, parse_meta
from mlops_actions.training.fingerprint import fingerprint_at, snapshots_worktree
from testkit import EXAMPLE

DVC = str(Path(sys.executable).with_name("dvc"))
DATA = "data/arrests.csv"
SPEC = "models/arrests/model.yaml"
pytestmark = pytest.mark.skipif(not Path(DVC).exists(), reason="dvc is installed by the test extra")


def dvc(root: Path, *args: str) -> str:
    env = {"DVC_NO_ANALYTICS": "1", "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
           "HOME": str(root.parent), "GIT_CONFIG_NOSYSTEM": "1"}
    return subprocess.run([DVC, *args], cwd=root, check=True, capture_output=True, text=True, env=env).stdout


@pytest.fixture(scope="module")
def dvc_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repository with its data moved under DVC and pushed to a local remote (built once)."""
    base = tmp_path_factory.mktemp("dvc")
    root = base / "repo"
    shutil.copytree(EXAMPLE, root)
    env = {"HOME": str(base), "GIT_CONFIG_NOSYSTEM": "1", "GIT_AUTHOR_NAME": "A", "GIT_AUTHOR_EMAIL": "a@example.com",
           "GIT_COMMITTER_NAME": "A", "GIT_COMMITTER_EMAIL": "a@example.com", "PATH": "/usr/bin:/bin"}

    def run(*args: str) -> None:
        subprocess.run(args, cwd=root, check=True, capture_output=True, env=env)

    run("git", "init", "-q", "-b", "main")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "initial")
    dvc(root, "init", "-q")
    dvc(root, "config", "core.analytics", "false")
    dvc(root, "remote", "add", "-d", "store", str(base / "remote"))
    run("git", "rm", "-q", "--cached", DATA)
    dvc(root, "add", "-q", DATA)
    dvc(root, "push", "-q")
    run("git", "add", "-A")
    run("git", "commit", "-qm", "data under DVC")
    return root


@pytest.fixture
def dvc_repo(dvc_template: Path, tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(dvc_template, root, symlinks=True)
    return root


def _md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes(), usedforsecurity=False).hexdigest()


@pytest.mark.slow
def test_fingerprint_is_dvcs_md5_without_reading_the_data(dvc_repo: Path) -> None:
    md5 = _md5(dvc_repo / DATA)
    (dvc_repo / DATA).unlink()  # not pulled: nothing to read, the fingerprint does not need it
    snap = snapshots_worktree(dvc_repo)["arrests"]
    assert snap.fingerprint is not None and [(d.path, d.hash) for d in snap.fingerprint.data] == [(DATA, f"dvc:{md5}")]
    at_head = fingerprint_at(dvc_repo, "HEAD", "arrests")
    assert at_head is not None and at_head.value == snap.fingerprint.value


def test_a_new_dvc_version_changes_the_fingerprint_an_unrecorded_edit_does_not(dvc_repo: Path) -> None:
    committed = fingerprint_at(dvc_repo, "HEAD", "arrests")
    with (dvc_repo / DATA).open("a") as fh:
        fh.write("2026,32,White,Male,No,Yes,1,Yes\n")
    assert committed is not None
    assert snapshots_worktree(dvc_repo)["arrests"].fingerprint == committed  # the .dvc file names the old data
    dvc(dvc_repo, "add", "-q", DATA)
    now = snapshots_worktree(dvc_repo)["arrests"].fingerprint
    assert now is not None and now.value != committed.value and now.data[0].hash == f"dvc:{_md5(dvc_repo / DATA)}"


@pytest.mark.slow
def test_fetch_pulls_the_target_and_train_checks_it(dvc_repo: Path, tmp_path: Path, capsys) -> None:
    md5 = _md5(dvc_repo / DATA)
    (dvc_repo / DATA).unlink()
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    assert main(["-C", str(dvc_repo), "validate"]) == 0  # tracked, not pulled: still a valid spec
    assert main(["-C", str(dvc_repo), "train", "arrests"]) == 1
    err = capsys.readouterr().err
    assert f"{DATA} is tracked by DVC ({DATA}.dvc) but was not pulled" in err and f"dvc pull {DATA}.dvc" in err
    assert main(["-C", str(dvc_repo), "fetch", "--dvc", DVC, "arrests"]) == 0
    assert f"pulled {DATA} with DVC ({DATA}.dvc, md5 {md5})" in capsys.readouterr().out
    assert main(["-C", str(dvc_repo), "train", "--out", str(tmp_path / "out"), "arrests"]) == 0
    record = json.loads((tmp_path / "out" / "arrests" / "record.json").read_text())
    assert record["data"][0]["path"] == DATA and record["data"][0]["hash"] == f"dvc:{md5}"


def test_train_refuses_data_that_is_not_the_recorded_version(dvc_repo: Path, capsys) -> None:
    with (dvc_repo / DATA).open("a") as fh:
        fh.write("2026,32,White,Male,No,Yes,1,Yes\n")
    assert main(["-C", str(dvc_repo), "train", "arrests"]) == 1
    err = capsys.readouterr().err
    assert f"{SPEC}:" in err and f"{DATA} differs from the version {DATA}.dvc records" in err
    assert f"dvc add {DATA}" in err and "Traceback" not in err


def test_fetch_without_dvc_installed_says_what_to_install(dvc_repo: Path, capsys) -> None:
    assert main(["-C", str(dvc_repo), "fetch", "--dvc", "/nonexistent/dvc", "arrests"]) == 1
    assert "the `dvc` command is not installed" in capsys.readouterr().err


def test_output_of_a_dvc_lock_stage(dvc_repo: Path) -> None:
    (dvc_repo / "dvc.yaml").write_text("stages:\n  prepare:\n    cmd: cp data/arrests.csv data/prepared.csv\n"
                                       "    deps: [data/arrests.csv]\n    outs: [data/prepared.csv]\n")
    dvc(dvc_repo, "repro", "-q")
    spec = (dvc_repo / SPEC).read_text().replace(f"path: {DATA}", "path: data/prepared.csv")
    (dvc_repo / SPEC).write_text(spec)
    snap = snapshots_worktree(dvc_repo)["arrests"]
    assert snap.fingerprint is not None
    assert snap.fingerprint.data[0].hash == f"dvc:{_md5(dvc_repo / 'data' / 'prepared.csv')}"


def test_metadata_parsing_handles_both_layouts_and_nested_folders() -> None:
    assert candidates("a/b/c.csv") == ("a/b/c.csv.dvc", "a/b/dvc.lock", "a/dvc.lock", "dvc.lock")
    md5 = "0" * 31 + "1"
    assert parse_meta("a/b/c.csv.dvc", f"outs:\n- md5: {md5}\n  size: 3\n  hash: md5\n  path: c.csv\n".encode()) \
        == {"a/b/c.csv": md5}
    lock = f"schema: '2.0'\nstages:\n  s:\n    cmd: x\n    outs:\n    - path: out/d\n      md5: {md5}.dir\n"
    assert parse_meta("a/dvc.lock", lock.encode()) == {"a/out/d": f"{md5}.dir"}
    assert parse_meta("x.dvc", b"outs: [") == {} and parse_meta("x.dvc", b"outs:\n- md5: nothex\n  path: x\n") == {}


def test_monitor_reads_the_training_data_from_dvcs_cache(dvc_repo: Path) -> None:
    from mlops_actions.errors import InputError
    from mlops_actions.monitoring.reference import load_bytes

    data = (dvc_repo / DATA).read_bytes()
    md5 = _md5(dvc_repo / DATA)
    (dvc_repo / DATA).write_text("changed since training\n")
    assert load_bytes(dvc_repo, DATA, f"dvc:{md5}", "arrests@v1") == data  # from .dvc/cache
    shutil.rmtree(dvc_repo / ".dvc" / "cache")
    with pytest.raises(InputError, match="not in DVC's local cache"):
        load_bytes(dvc_repo, DATA, f"dvc:{md5}", "arrests@v1")
