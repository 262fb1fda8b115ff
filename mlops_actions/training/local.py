"""Where ``train`` finds data that is not one plain file: DVC-tracked outputs (checked against DVC's md5
after ``dvc pull``) and partitioned parquet datasets (a folder or glob, read as one table)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.convention import datapaths
from mlops_actions.convention.model import ModelSpec
from mlops_actions.errors import InputError, Place
from mlops_actions.repodata import dvc, partitions
from mlops_actions.training.spec_places import SpecPlaces

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class LocalData:
    """Where DVC-tracked or partitioned data is on disk: the file, or the partitions' folder and files."""

    path: Path
    format: str
    parts: tuple[Path, ...] = ()  # the files of a partitioned parquet dataset (``path`` is their folder)


def local_source(root: Path, spec: ModelSpec, places: SpecPlaces) -> LocalData | None:
    """Where DVC-tracked or partitioned data is (refused with its place when unusable); None otherwise."""
    path, place = spec.data.path or "", places.at("data", "path")
    handled, reason = datapaths.check_local(root, path, spec.data.format)
    if not handled:
        return None
    if reason:
        raise InputError(f"data path {path!r}: {reason}", place=place)
    rel = datapaths.repo_path_of(path) or path
    tracked = dvc.tracked_worktree(root, [rel]).get(rel)
    if tracked is not None:
        dvc.check_pulled(root, tracked, place)
    if tracked is not None and not tracked.md5.endswith(".dir"):
        return LocalData(root / rel, spec.data.format)
    files = partitions.files_worktree(root, rel if not path.endswith("/") else rel + "/")
    if not files:
        raise InputError(f"data path {path!r}: no parquet files in it", place=place)
    return LocalData(root / partitions.base_folder(rel), "parquet", parts=tuple(root / f for f in files))


def read_partitions(parts: tuple[Path, ...], folder: Path, display: str) -> pd.DataFrame:
    """The partitions as one table: files in sorted order, ``key=value`` folders as columns (hive style);
    ``display`` names the data in messages."""
    import pyarrow as pa
    import pyarrow.dataset as ds

    try:
        dataset = ds.dataset([str(p) for p in parts], format="parquet", partitioning="hive",
                             partition_base_dir=str(folder))
        frame = dataset.to_table().to_pandas()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise InputError(f"cannot read the parquet partitions: {exc}", place=Place(display),
                         hint="every file must be parquet with the same columns (types may widen)") from None
    if len(frame) == 0:
        raise InputError("the parquet partitions hold no rows", place=Place(display))
    return frame.reset_index(drop=True)
