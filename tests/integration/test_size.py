"""Data too big for the runner is refused before it is loaded: the estimate comes from parquet metadata or a
CSV sample, the limit from ``limits.max_memory`` (default 4 GiB). No test here allocates more than a few MB:
the big parquet file is 20 million dictionary-encoded rows in ~0.3 MB."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.convention.model import DEFAULT_MAX_MEMORY, Policy
from mlops_actions.convention.units import format_size, parse_size
from mlops_actions.training.size import csv_estimate, parquet_estimate
from testkit import EXAMPLE

ROWS = 20_000_000


@pytest.fixture
def repo(example_repo: Path) -> Path:
    return example_repo


def _set(root: Path, path: str, old: str, new: str) -> None:
    text = (root / path).read_text()
    assert old in text
    (root / path).write_text(text.replace(old, new, 1))


def _expanding_parquet(path: Path, rows: int = ROWS) -> None:
    """The example's columns, ``rows`` rows of one repeated record, in row groups of 4M: tiny on disk."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    group = min(rows, 4_000_000)
    codes = pa.array(np.zeros(group, dtype=np.int8))
    text = {c: pa.DictionaryArray.from_arrays(codes, pa.array([v]))
            for c, v in (("released", "Yes"), ("colour", "White"), ("sex", "Male"), ("employed", "Yes"),
                         ("citizen", "Yes"))}
    numbers = {c: pa.array(np.full(group, v, dtype=np.int64))
               for c, v in (("year", 2002), ("age", 21), ("checks", 3))}
    table = pa.table({**text, **numbers})
    with pq.ParquetWriter(path, table.schema, compression="none", write_statistics=False) as writer:
        for _ in range(rows // group):
            writer.write_table(table)


def test_a_small_parquet_that_expands_to_20m_rows_is_refused_before_loading(
        repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _expanding_parquet(repo / "data" / "arrests.parquet")
    assert (repo / "data" / "arrests.parquet").stat().st_size < 1_000_000
    _set(repo, "models/arrests/model.yaml", "path: data/arrests.csv\n  format: csv",
         "path: data/arrests.parquet\n  format: parquet")
    assert main(["-C", str(repo), "train", "arrests"]) == 1
    err = capsys.readouterr().err
    assert "error: models/arrests/model.yaml:13:9: data/arrests.parquet: loading it needs about" in err
    assert "(20,000,000 rows x 8 columns)" in err and "(limits.max_memory: 4.0 GiB); nothing was loaded" in err
    assert "command trainer (`train: {command: ...}`" in err and not (repo / "mlops-out").exists()


@pytest.mark.parametrize("limit", ["1MiB", "1048576", "0.001GiB"])
def test_the_policy_sets_the_limit(repo: Path, capsys: pytest.CaptureFixture[str], limit: str) -> None:
    (repo / "mlops.yaml").write_text((repo / "mlops.yaml").read_text() + f"limits:\n  max_memory: {limit}\n")
    assert main(["-C", str(repo), "train", "arrests"]) == 1
    err = capsys.readouterr().err
    assert "data/arrests.csv: loading it needs about" in err and "(5,226 rows x 8 columns)" in err
    assert "(limits.max_memory: 1.0 MiB); nothing was loaded" in err


def test_under_the_limit_training_goes_on(repo: Path) -> None:
    (repo / "mlops.yaml").write_text((repo / "mlops.yaml").read_text() + "limits:\n  max_memory: 64MiB\n")
    assert main(["-C", str(repo), "train", "arrests"]) == 0


@pytest.mark.parametrize("value, needle", [("4 gib", "'4 gib' is not valid here: The most memory"),
                                           ("-1GiB", "is not valid here"), ("0B", "less than one byte"),
                                           ("0", "less than the minimum of 1"), ("true", "is not of type"),
                                           ("lots", "'lots' is not valid here")])
def test_validate_refuses_a_bad_limit(repo: Path, capsys: pytest.CaptureFixture[str], value: str,
                                      needle: str) -> None:
    (repo / "mlops.yaml").write_text((repo / "mlops.yaml").read_text() + f"limits:\n  max_memory: {value}\n")
    assert main(["-C", str(repo), "validate", str(repo / "mlops.yaml")]) == 1
    out = capsys.readouterr().out
    assert "mlops.yaml:" in out and "$.limits.max_memory" in out and needle in out


def test_csv_rows_are_extrapolated_from_a_sample(tmp_path: Path) -> None:
    lines = (EXAMPLE / "data" / "arrests.csv").read_text().splitlines(keepends=True)
    big = tmp_path / "big.csv"
    big.write_text(lines[0] + "".join(lines[1:]) * 20)  # ~3.4 MB: more than the 1 MiB sample
    found = csv_estimate(big)
    assert found is not None and found.sampled and found.columns == 8
    assert abs(found.rows - 20 * (len(lines) - 1)) < 0.02 * 20 * (len(lines) - 1)
    small = csv_estimate(EXAMPLE / "data" / "arrests.csv")
    assert small is not None and not small.sampled and small.rows == len(lines) - 1


def test_parquet_metadata_is_all_that_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.parquet"
    _expanding_parquet(path, rows=400_000)
    found = parquet_estimate(path)
    assert found is not None and (found.rows, found.columns) == (400_000, 8)
    (tmp_path / "bad.parquet").write_bytes(b"PAR1 not really")
    assert parquet_estimate(tmp_path / "bad.parquet") is None  # the reader says what is wrong with it


def test_units() -> None:
    assert [parse_size(v) for v in ("4GiB", "512 MiB", "2GB", "1.5KiB", 10, "10B")] == \
        [4 * 2**30, 512 * 2**20, 2 * 10**9, 1536, 10, 10]
    assert format_size(4 * 2**30) == "4.0 GiB" and format_size(900) == "900 B"
    for bad in ("4 gib", "GiB", "4GiBs", "-1MB", True):
        with pytest.raises(ValueError):
            parse_size(bad)  # type: ignore[arg-type]
    assert Policy().max_memory == DEFAULT_MAX_MEMORY == 4 * 2**30
    assert Policy.from_dict({"environments": [], "limits": {"max_memory": "12GiB"}}).max_memory == 12 * 2**30
