"""plan's per-process memos (what a spec names, by its sha256; one Fingerprint per distinct set of inputs) and
its fast paths (issue 15) never hide a change: in one process, a changed spec, data file, DVC record, code
file or library version is planned again, and undoing the change is seen too."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.gitio import Git
from mlops_actions.registry.planning import compute_plan, resolve_base
from testkit import EXAMPLE, git
from testkit.registrykit import register

V1 = {"scikit-learn": "1.5.0", "numpy": "2.0.0", "lightgbm": "4.0.0"}


def planned(root: Path, versions: dict[str, str] = V1) -> dict[str, tuple[str, ...]]:
    """model -> reasons, for the models the plan trains."""
    plans = compute_plan(root, resolve_base(Git(root), "HEAD"), versions=versions)
    return {p.model: p.reasons for p in plans if p.train}


@pytest.fixture
def two_models(example_repo: Path) -> Path:
    """arrests (declarative) and arrests-gbm (a factory importing features.py), both registered."""
    shutil.copytree(EXAMPLE / "models/arrests-gbm", example_repo / "models/arrests-gbm")
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "gbm")
    register(example_repo, versions=V1)
    register(example_repo, versions=V1, model="arrests-gbm")
    assert planned(example_repo) == {}
    return example_repo


def test_spec_data_code_and_library_changes_are_each_replanned_in_one_process(two_models: Path) -> None:
    root = two_models
    spec = root / "models/arrests/model.yaml"
    original = spec.read_text()
    spec.write_text(original.replace("C: 1.0", "C: 0.5"))
    assert list(planned(root)) == ["arrests"]
    assert "spec changed: estimator.params.C: 1.0 → 0.5" in planned(root)["arrests"]
    spec.write_text(original)
    assert planned(root) == {}

    data = root / "data/arrests.csv"
    before = data.read_bytes()
    data.write_bytes(before + b"No,White,2002,21,Male,Yes,Yes,0\n")
    assert sorted(planned(root)) == ["arrests", "arrests-gbm"]
    data.write_bytes(before)
    assert planned(root) == {}

    features = root / "models/arrests-gbm/features.py"
    code = features.read_text()
    features.write_text(code + "\n# a comment is a change of the file\n")
    found = planned(root)
    assert list(found) == ["arrests-gbm"] and any("models/arrests-gbm/features.py" in r for r in found["arrests-gbm"])
    features.write_text(code)
    assert planned(root) == {}

    upgraded = {**V1, "scikit-learn": "1.6.0"}
    found = planned(root, upgraded)
    assert sorted(found) == ["arrests", "arrests-gbm"]
    assert any("scikit-learn 1.5.0 → 1.6.0" in r for r in found["arrests"])
    assert planned(root) == {}


def test_a_changed_dvc_record_is_replanned_and_its_undo_seen(example_repo: Path) -> None:
    root = example_repo
    meta = root / "data/arrests.csv.dvc"
    meta.write_text("outs:\n- md5: " + "a" * 32 + "\n  size: 10\n  hash: md5\n  path: arrests.csv\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "dvc")
    register(root, versions=V1)
    assert planned(root) == {}
    meta.write_text(meta.read_text().replace("a" * 32, "b" * 32))
    reasons = planned(root)["arrests"]
    assert any("data/arrests.csv" in r for r in reasons), reasons
    git(root, "checkout", "-q", "--", "data/arrests.csv.dvc")
    assert planned(root) == {}
    git(root, "commit", "-qam", "no change", "--allow-empty")
    meta.write_text(meta.read_text().replace("a" * 32, "c" * 32))
    git(root, "commit", "-qam", "new data recorded")  # the base (HEAD~1 here: HEAD) and the work tree agree
    reasons = planned(root)["arrests"]
    assert any("data/arrests.csv" in r for r in reasons), reasons


def test_the_cli_plans_again_in_the_same_process(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register(example_repo)  # with the installed library versions, as the CLI plans
    spec = example_repo / "models/arrests/model.yaml"
    original = spec.read_text()
    edited, again = original.replace("C: 1.0", "C: 0.25"), "1 of 1 model(s) need training"
    for text, expected in ((edited, again), (original, "plan is empty"), (edited, again)):
        spec.write_text(text)
        assert main(["-C", str(example_repo), "plan", "--base", "HEAD"]) == 0
        assert expected in capsys.readouterr().out


def test_plan_of_a_changed_valid_spec_loads_no_validator_library(example_repo: Path) -> None:
    """The edited spec is checked by the compiled fast check: jsonschema and referencing (and attrs) load only
    to explain an invalid file; pandas, scikit-learn and PyGithub never."""
    spec = example_repo / "models/arrests/model.yaml"
    spec.write_text(spec.read_text().replace("C: 1.0", "C: 0.5"))
    code = ("import sys; from mlops_actions.cli import main; rc = main(['-C', sys.argv[1], 'plan', '--base', 'HEAD', "
            "'--format', 'json']); print(rc, sorted(m for m in ('jsonschema', 'referencing', 'attrs', 'pandas', "
            "'sklearn', 'github') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(example_repo)], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip().endswith("0 []"), out[-500:]
