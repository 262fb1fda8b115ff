"""A deployed model for ``monitor``: a tagged record, production pointing at it, and samples of current data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from testkit import git


def _record(model: str, number: int, blob: str, metrics: dict[str, float]) -> str:
    return json.dumps({
        "record_version": 1, "model": model, "version": f"v{number}", "task": "classification",
        "fingerprint": "a" * 64, "data": [{"path": "data/arrests.csv", "hash": f"git:{blob}"}],
        "artifact": {"file": "model.skops", "sha256": "b" * 64, "format": "skops"},
        "metrics": metrics, "libraries": {"scikit-learn": "1.9"}, "fairness": {"demographic_parity_difference": 0.1},
    })


@pytest.fixture
def deployed(example_repo: Path) -> Path:
    """arrests@v1 tagged with a record, deployed in production; the data file changed after training."""
    root = example_repo
    blob = git(root, "rev-parse", "HEAD:data/arrests.csv")
    message = root.parent / "record.json"
    message.write_text(_record("arrests", 1, blob, {"accuracy": 0.80, "balanced_accuracy": 0.62}))
    git(root, "tag", "-a", "arrests@v1", "-F", str(message))
    (root / "environments" / "production.yaml").write_text("arrests: v1\n")
    training = pd.read_csv(root / "data" / "arrests.csv")
    training.head(100).to_csv(root / "data" / "arrests.csv", index=False)  # changed since training
    git(root, "commit", "-qam", "deploy arrests v1; new data")
    return root


def _current(root: Path, name: str, *, shift: float = 0.0, predictions: str | None = None) -> Path:
    """A sample of the training data (from the tag's blob), optionally drifted, with labels and predictions."""
    training = pd.read_csv(pd.io.common.BytesIO(_training_bytes(root)))
    sample = training.sample(1500, random_state=4).reset_index(drop=True)
    sample["age"] = sample["age"] + shift
    if predictions == "perfect":
        sample["prediction"] = sample["released"]
    elif predictions == "all_no":
        sample["prediction"] = "No"
    elif predictions == "by_colour":
        sample["prediction"] = np.where(sample["colour"] == "White", "Yes", "No")
    path = root.parent / name
    sample.to_csv(path, index=False) if path.suffix == ".csv" else sample.to_parquet(path)
    return path


def _training_bytes(root: Path) -> bytes:
    import subprocess

    return subprocess.run(["git", "cat-file", "blob", "arrests@v1:data/arrests.csv"], cwd=root,
                          capture_output=True, check=True).stdout
