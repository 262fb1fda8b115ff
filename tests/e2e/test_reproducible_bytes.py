"""Byte-identical training across processes: every preprocessing option and every allowed estimator family
(scikit-learn's, LightGBM, XGBoost, scikit-lego; a pipeline factory too), each trained in two separate
processes, artifacts compared by sha256. A memory address or a per-process hash seed in an artifact (as
TfidfVectorizer's ``_stop_words_id`` was) fails here."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from testkit import repro_matrix

SCRIPT = Path(repro_matrix.__file__)


@pytest.mark.slow
def test_every_option_and_family_is_byte_identical_in_two_processes(tmp_path: Path) -> None:
    root = tmp_path / "matrix"
    expected = repro_matrix.make(root)
    runs = [subprocess.Popen([sys.executable, str(SCRIPT), "train", str(root)], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(2)]  # in parallel: two cores
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (_, err) in zip(runs, outputs, strict=True):
        assert run.returncode == 0, err[-3000:]
    first, second = (json.loads(out) for out, _ in outputs)
    assert sorted(first) == expected
    assert {name for name in first if first[name] != second[name]} == set()
    assert {"text-max-features", "lightgbm", "factory", "num-scale-robust"} <= set(first)
