"""Fingerprints on real git repositories: what changes them, what does not, and that they cost O(changed)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.validation import load_valid
from mlops_actions.errors import GitError
from mlops_actions.repodata.hashing import lfs_oid
from mlops_actions.training.fingerprint import (
    DataHash,
    Fingerprint,
    fingerprint_at,
    fingerprint_worktree,
    library_versions,
    snapshots_at,
    snapshots_worktree,
)
from testkit import EXAMPLE, git

SPEC = "models/arrests/model.yaml"
VERSIONS = {"scikit-learn": "1.9.1", "numpy": "2.4.6"}


def spec_of(root: Path) -> ModelSpec:
    data = load_valid(root, SPEC, "model-spec")
    assert data is not None
    return ModelSpec.from_dict(data, SPEC)


def fp(root: Path, versions: dict[str, str] | None = None) -> Fingerprint:
    return fingerprint_worktree(root, spec_of(root), versions=versions or VERSIONS)


def edit(root: Path, old: str, new: str, path: str = SPEC) -> None:
    file = root / path
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


def test_fingerprint_has_all_parts(example_repo: Path) -> None:
    f = fp(example_repo)
    blob = git(example_repo, "rev-parse", "HEAD:data/arrests.csv")
    assert f.data == (DataHash("data/arrests.csv", f"git:{blob}"),)
    assert dict(f.libraries) == VERSIONS
    assert len(f.value) == 64 and len(f.spec_sha256) == 64
    assert f.record_fields()["data"] == [{"path": "data/arrests.csv", "hash": f"git:{blob}"}]
    assert Fingerprint.from_record(f.record_fields()) == f


def test_comments_and_key_order_do_not_change_it(example_repo: Path) -> None:
    before = fp(example_repo)
    text = (example_repo / SPEC).read_text()
    lines = text.splitlines()
    task = next(line for line in lines if line.startswith("task:"))
    reordered = [line for line in lines if line != task] + ["# a comment", task, ""]
    (example_repo / SPEC).write_text("\n".join(reordered))
    edit(example_repo, "C: 1.0", "C: 1.0  # regularisation")
    assert fp(example_repo) == before


def test_spec_value_changes_it(example_repo: Path) -> None:
    before = fp(example_repo)
    edit(example_repo, "C: 1.0", "C: 0.5")
    after = fp(example_repo)
    assert after.value != before.value and after.spec_sha256 != before.spec_sha256
    assert after.data == before.data


def test_data_content_changes_it(example_repo: Path) -> None:
    before = fp(example_repo)
    with (example_repo / "data/arrests.csv").open("a") as fh:
        fh.write("No,White,2002,21,Male,Yes,Yes,0\n")
    after = fp(example_repo)
    assert after.value != before.value and after.spec_sha256 == before.spec_sha256
    expected = git(example_repo, "hash-object", "data/arrests.csv")
    assert after.data[0].hash == f"git:{expected}"  # the id the file will have once committed
    git(example_repo, "commit", "-qam", "more data")
    assert fp(example_repo) == after


def test_code_file_changes_it(example_repo: Path) -> None:
    (example_repo / "features.py").write_text("X = 1\n")
    edit(example_repo, "owners:", 'code: ["features.py"]\nowners:')
    before = fp(example_repo)
    assert set(before.code) == {"features.py"}
    (example_repo / "features.py").write_text("X = 2\n")
    assert fp(example_repo).value != before.value


def test_library_version_changes_it(example_repo: Path) -> None:
    before = fp(example_repo)
    after = fp(example_repo, {"scikit-learn": "1.9.2", "numpy": "2.4.6"})
    assert after.value != before.value and after.data == before.data


def test_library_versions_name_the_estimators_distribution() -> None:
    versions = library_versions("sklego.linear_model.DemographicParityClassifier", {"scikit-lego": "0.9"})
    assert versions == {"numpy": "not installed", "scikit-learn": "not installed", "scikit-lego": "0.9"}
    assert set(library_versions("sklearn.linear_model.LogisticRegression")) == {"numpy", "scikit-learn"}


def test_at_commit_equals_worktree_of_a_clean_checkout(example_repo: Path) -> None:
    assert fingerprint_at(example_repo, "HEAD", "arrests", versions=VERSIONS) == fp(example_repo)


def test_at_commit_sees_the_committed_state_not_the_work_tree(example_repo: Path) -> None:
    committed = fp(example_repo)
    edit(example_repo, "C: 1.0", "C: 0.5")
    assert fingerprint_at(example_repo, "HEAD", "arrests", versions=VERSIONS) == committed
    git(example_repo, "commit", "-qam", "C")
    assert fingerprint_at(example_repo, "HEAD~1", "arrests", versions=VERSIONS) == committed
    assert fingerprint_at(example_repo, "HEAD", "arrests", versions=VERSIONS) == fp(example_repo)


def test_at_commit_none_for_absent_model_and_error_for_unknown_rev(example_repo: Path) -> None:
    assert fingerprint_at(example_repo, "HEAD", "nope", versions=VERSIONS) is None
    with pytest.raises(GitError, match="not a commit"):
        fingerprint_at(example_repo, "no-such-branch", "arrests")


def test_unparseable_spec_at_commit_is_reported(example_repo: Path) -> None:
    (example_repo / SPEC).write_text("name: [unclosed\n")
    git(example_repo, "commit", "-qam", "broken")
    snap = snapshots_at(example_repo, "HEAD", versions=VERSIONS)["arrests"]
    assert snap.fingerprint is None and snap.problem
    with pytest.raises(GitError, match=r"model\.yaml at HEAD"):
        fingerprint_at(example_repo, "HEAD", "arrests")


def test_untracked_data_is_hashed_once_then_cached(example_repo: Path) -> None:
    (example_repo / "data/extra.csv").write_bytes(b"a,b\n1,2\n")
    edit(example_repo, "data/arrests.csv", "data/extra.csv")
    first = fp(example_repo)
    expected = git(example_repo, "hash-object", "data/extra.csv")
    assert first.data[0].hash == f"git:{expected}"
    cache = Path(git(example_repo, "rev-parse", "--absolute-git-dir")) / "mlops-actions/cache.json"
    doc = json.loads(cache.read_text())
    assert doc["sections"]["files"]["data/extra.csv"][-1] == f"git:{expected}"
    # Prove the cache is what answers: plant a different value under the same stat key.
    doc["sections"]["files"]["data/extra.csv"][-1] = "git:" + "0" * 40
    cache.write_text(json.dumps(doc))
    assert fp(example_repo).data[0].hash == "git:" + "0" * 40
    os.utime(example_repo / "data/extra.csv", ns=(1, 1))  # a new mtime invalidates the entry
    assert fp(example_repo).data[0].hash == f"git:{expected}"


def test_missing_data_file_is_marked_missing(example_repo: Path) -> None:
    (example_repo / "data/arrests.csv").unlink()
    assert fp(example_repo).data[0].hash == "missing"


def test_url_data_uses_the_pinned_sha256(example_repo: Path) -> None:
    pinned = "ab" * 32
    edit(example_repo, "path: data/arrests.csv", f"url: https://example.org/a.csv\n  sha256: {pinned}")
    f = fp(example_repo)
    assert f.data == (DataHash("https://example.org/a.csv", f"sha256:{pinned}"),)


def test_lfs_pointer_gives_the_lfs_oid(example_repo: Path) -> None:
    oid = "cd" * 32
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{oid}\nsize 12345\n"
    (example_repo / "data/arrests.csv").write_text(pointer)
    git(example_repo, "commit", "-qam", "to lfs")
    assert fp(example_repo).data[0].hash == f"lfs:{oid}"
    assert fingerprint_at(example_repo, "HEAD", "arrests", versions=VERSIONS) == fp(example_repo)
    assert lfs_oid(b"not a pointer") is None


def test_modified_lfs_tracked_file_hashes_to_its_sha256(example_repo: Path) -> None:
    (example_repo / ".gitattributes").write_text("*.csv filter=lfs diff=lfs merge=lfs -text\n")
    (example_repo / "data/arrests.csv").write_bytes(b"a,b\n1,2\n")
    import hashlib

    assert fp(example_repo).data[0].hash == "lfs:" + hashlib.sha256(b"a,b\n1,2\n").hexdigest()


def test_snapshots_of_every_model(example_repo: Path) -> None:
    snaps = snapshots_worktree(example_repo, versions=VERSIONS)
    assert list(snaps) == ["arrests"] and snaps["arrests"].fingerprint == fp(example_repo)
    assert snapshots_at(example_repo, "HEAD", versions=VERSIONS)["arrests"] == snaps["arrests"]


def test_fingerprint_module_imports_no_sklearn_or_pandas() -> None:
    import subprocess
    import sys

    code = ("import sys, mlops_actions.training.fingerprint, mlops_actions.commands.plan; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'pandas')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_export_loader_is_part_of_the_fingerprint(example_repo: Path) -> None:
    shutil.copytree(EXAMPLE / "models/arrests-np", example_repo / "models/arrests-np")
    spec_path = "models/arrests-np/model.yaml"
    data = load_valid(example_repo, spec_path, "model-spec")
    assert data is not None and data["train"]["loader"] == "models/arrests-np/load.py:load"
    spec = ModelSpec.from_dict(data, spec_path)
    before = fingerprint_worktree(example_repo, spec, versions=VERSIONS)
    assert "models/arrests-np/load.py" in before.code
    edit(example_repo, "return np.column_stack", "return 1.0 * np.column_stack", "models/arrests-np/load.py")
    after = fingerprint_worktree(example_repo, spec, versions=VERSIONS)
    assert after.value != before.value and after.code["models/arrests-np/load.py"] != \
        before.code["models/arrests-np/load.py"]
