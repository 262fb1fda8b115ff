"""Partitioned parquet datasets as data.path (a folder or a glob): hashed as the sorted listing of the
partitions' git hashes (no data read for tracked files), read for training as one table (hive partitions)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from mlops_actions.cli import main
from mlops_actions.repodata.partitions import matcher, select
from mlops_actions.training.fingerprint import fingerprint_at, snapshots_worktree
from testkit import git

SPEC = "models/arrests/model.yaml"


def _partition(root: Path, folder: str = "data/parts") -> None:
    """data/arrests.csv as one parquet file per year in hive folders (``year=2001/part-0.parquet``)."""
    frame = pd.read_csv(root / "data" / "arrests.csv")
    for year, rows in frame.groupby("year"):
        target = root / folder / f"year={year}"
        target.mkdir(parents=True)
        rows.drop(columns="year").to_parquet(target / "part-0.parquet", index=False)
    (root / folder / "_SUCCESS").write_text("")  # Spark's marker: not a partition


def _use(root: Path, path: str, fmt: str = "parquet") -> None:
    spec = re.sub(r"(?m)^  path: .*$", f'  path: "{path}"', (root / SPEC).read_text())
    (root / SPEC).write_text(re.sub(r"(?m)^  format: .*$", f"  format: {fmt}", spec))


@pytest.fixture
def parts_repo(example_repo: Path) -> Path:
    _partition(example_repo)
    _use(example_repo, "data/parts/")
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "partitioned data")
    return example_repo


def test_a_folder_of_partitions_validates_trains_and_is_recorded(parts_repo: Path, tmp_path: Path) -> None:
    assert main(["-C", str(parts_repo), "validate"]) == 0
    assert main(["-C", str(parts_repo), "train", "--out", str(tmp_path / "out"), "arrests"]) == 0
    record = json.loads((tmp_path / "out" / "arrests" / "record.json").read_text())
    [data] = record["data"]
    assert data["path"] == "data/parts/" and data["hash"].startswith("parts:")
    assert main(["-C", str(parts_repo), "train", "--out", str(tmp_path / "again"), "arrests"]) == 0
    first, second = (tmp_path / d / "arrests" / "model.skops" for d in ("out", "again"))
    assert first.read_bytes() == second.read_bytes()  # partitions are read in a fixed order


def test_the_hash_follows_the_listing_and_matches_between_work_tree_and_commit(parts_repo: Path) -> None:
    committed = fingerprint_at(parts_repo, "HEAD", "arrests")
    snap = snapshots_worktree(parts_repo)["arrests"].fingerprint
    assert committed is not None and snap == committed
    (parts_repo / "data" / "parts" / "_SUCCESS").write_text("again")
    (parts_repo / "data" / "parts" / ".hidden.parquet").write_bytes(b"x")
    assert snapshots_worktree(parts_repo)["arrests"].fingerprint == committed  # bookkeeping files do not count
    part = next((parts_repo / "data" / "parts").glob("year=*/part-0.parquet"))
    frame = pd.read_parquet(part)
    frame.iloc[:1].to_parquet(part, index=False)
    changed = snapshots_worktree(parts_repo)["arrests"].fingerprint
    assert changed is not None and changed.data[0].hash != committed.data[0].hash
    git(parts_repo, "checkout", "-q", "--", ".")
    (part.parent / "part-1.parquet").write_bytes(part.read_bytes())
    added = snapshots_worktree(parts_repo)["arrests"].fingerprint
    assert added is not None and added.data[0].hash not in (committed.data[0].hash, changed.data[0].hash)


def test_a_glob_selects_the_partitions(parts_repo: Path, tmp_path: Path) -> None:
    _use(parts_repo, "data/parts/year=200*/*.parquet")
    assert main(["-C", str(parts_repo), "validate"]) == 0
    assert main(["-C", str(parts_repo), "train", "--out", str(tmp_path / "out"), "arrests"]) == 0
    rows = json.loads((tmp_path / "out" / "arrests" / "record.json").read_text())["data"][0]["rows"]
    assert rows == int((pd.read_csv(parts_repo / "data" / "arrests.csv")["year"] >= 2000).sum())


@pytest.mark.parametrize(("path", "fmt", "message"), [
    ("data/parts/", "csv", "read as parquet partitions; set data.format: parquet"),
    ("data/parts/year=1800*/*.parquet", "parquet", "no parquet files match"),
    ("data/nothing/*.parquet", "parquet", "no parquet files match"),
    ("../outside/*.parquet", "parquet", "'..' is not allowed"),
])
def test_unusable_partitioned_paths_are_named(parts_repo: Path, capsys, path: str, fmt: str, message: str) -> None:
    _use(parts_repo, path, fmt)
    assert main(["-C", str(parts_repo), "validate"]) == 1
    out = capsys.readouterr().out
    assert f"{SPEC}:13:9: $.data.path" in out and message in out


def test_the_matcher() -> None:
    names = ["d/a.parquet", "d/x=1/b.parquet", "d/x=1/y=2/c.parquet", "d/_SUCCESS", "d/x=1/.crc.parquet", "d/e.csv"]
    assert select("d", names) == ["d/a.parquet", "d/x=1/b.parquet", "d/x=1/y=2/c.parquet"]
    assert select("d/*/*.parquet", names) == ["d/x=1/b.parquet"]
    assert select("d/**/*.parquet", names) == ["d/a.parquet", "d/x=1/b.parquet", "d/x=1/y=2/c.parquet"]
    assert select("d/x=?/b.parquet", names) == ["d/x=1/b.parquet"]
    assert not matcher("d/*.parquet").match("d/x/a.parquet")
