"""``train``: the example trains end to end, byte-identically across processes; the outputs follow their
contract; the allow-list is checked before any import; failures leave nothing behind."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_actions.cli import main
from mlops_actions.commands.train import load_model
from mlops_actions.convention.schemas import VERSION_RECORD, validator
from mlops_actions.errors import InputError
from mlops_actions.training.artifact import artifact_parts, canonical_skops, load_artifact, refused_types
from mlops_actions.training.train import train_model, write_atomically
from testkit import CASES as ALL_CASES
from testkit import REPO, git

OUTPUTS = ["evaluation.json", "fairness.json", "metrics.json", "model.skops", "predictions.parquet", "record.json"]
CASES = ALL_CASES / "data"


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _commit(root: Path) -> Path:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


def _base_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(CASES / "_base", root)
    return root


def _edit_spec(root: Path, old: str, new: str) -> None:
    path = root / "models" / "m" / "model.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def example_trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repository trained once, in-process, into ``<repo>/mlops-out``."""
    root = tmp_path_factory.mktemp("example") / "repo"
    shutil.copytree(REPO / "examples" / "arrests", root)
    _commit(root)
    assert main(["-C", str(root), "train", "arrests"]) == 0
    return root


def test_example_trains_end_to_end(example_trained: Path) -> None:
    folder = example_trained / "mlops-out" / "arrests"
    assert sorted(p.name for p in folder.iterdir()) == OUTPUTS
    metrics = json.loads((folder / "metrics.json").read_text())
    assert metrics["model"] == "arrests" and metrics["task"] == "classification"
    assert set(metrics["metrics"]) == {"accuracy", "balanced_accuracy", "roc_auc", "log_loss"}
    assert metrics["directions"]["log_loss"] == "lower"
    assert metrics["metrics"]["balanced_accuracy"] > 0.65
    assert metrics["rows"] == {"train": 3919, "test": 1307}
    text = (folder / "metrics.json").read_text()
    assert text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"


def test_fairness_json_holds_aggregates_the_report_can_use(example_trained: Path) -> None:
    from mlops_actions.evaluation.fairness_view import view_from_dict

    folder = example_trained / "mlops-out" / "arrests"
    data = json.loads((folder / "fairness.json").read_text())
    assert data["rows"] and all("n" in g for g in data["rows"])
    rows = len(pd.read_parquet(folder / "predictions.parquet"))
    assert max(g["n"] for g in data["rows"]) < rows  # per-group counts, never rows
    assert view_from_dict(data) is not None
    record = json.loads((folder / "record.json").read_text())
    assert record["fairness"]["demographic_parity_difference"] == pytest.approx(
        data["summary"]["demographic_parity_difference"])


def test_record_follows_the_schema_and_the_artifact(example_trained: Path) -> None:
    folder = example_trained / "mlops-out" / "arrests"
    record = json.loads((folder / "record.json").read_text())
    assert list(validator(VERSION_RECORD).iter_errors(record)) == []
    parts = record["artifact"].pop("parts")
    assert record["artifact"] == {"file": "model.skops", "format": "skops", "sha256": _sha(folder / "model.skops"),
                                  "size": (folder / "model.skops").stat().st_size}
    assert parts == artifact_parts((folder / "model.skops").read_bytes(), "skops")
    assert {"(pipeline)", "preprocess", "preprocess/numeric/impute", "estimator"} <= set(parts)
    assert record["data"][0]["path"] == "data/arrests.csv" and record["data"][0]["rows"] == 5226
    assert record["data"][0]["hash"].startswith("git:")
    assert record["params"]["params"]["random_state"] == 42  # from split.seed
    assert 0 <= record["fairness"]["demographic_parity_difference"] <= 1
    assert set(record["timings"]) >= {"prepare", "data", "fit", "evaluate", "artifact"}
    assert record["rows"] == {"train": 3919, "test": 1307}


def test_predictions_hold_the_held_out_rows_with_groups(example_trained: Path) -> None:
    frame = pd.read_parquet(example_trained / "mlops-out" / "arrests" / "predictions.parquet")
    assert list(frame.columns) == ["y_true", "y_pred", "y_score", "colour", "sex"]
    assert len(frame) == 1307
    assert set(frame["y_true"]) == {"Yes", "No"}
    assert frame["y_score"].between(0, 1).all()
    assert set(frame["sex"]) == {"Male", "Female"}


def test_the_artifact_loads_with_trusted_types_only(example_trained: Path) -> None:
    model = load_artifact(example_trained / "mlops-out" / "arrests" / "model.skops", ("sklearn.",))
    row = pd.DataFrame({"year": [2000.0], "age": [30.0], "checks": [1.0], "employed": [1.0], "citizen": [1.0]})
    assert model.predict(row)[0] in ("Yes", "No")
    assert refused_types(["numpy.dtype", "sklearn.tree._tree.Tree"], ("sklearn.",)) == []
    assert refused_types(["evil.Payload"], ("sklearn.",)) == ["evil.Payload"]


_TRAIN_AND_HASH = """
import hashlib, sys
from pathlib import Path
from mlops_actions.cli import main
root, out = Path(sys.argv[1]), sys.argv[2]
assert main(["-C", str(root), "train", "arrests", "--out", out]) == 0
for name in ("model.skops", "metrics.json", "predictions.parquet", "fairness.json"):
    print("hash", name, hashlib.sha256((root / out / "arrests" / name).read_bytes()).hexdigest())
"""


@pytest.mark.slow
def test_byte_identical_across_two_processes(example_repo: Path) -> None:
    """Same fingerprint, two separate processes (different hash seeds) → the same bytes."""
    procs = [subprocess.Popen([sys.executable, "-c", _TRAIN_AND_HASH, str(example_repo), f"out{seed}"],
                              env={**os.environ, "PYTHONHASHSEED": str(seed)}, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for seed in (1, 2)]
    results = [p.communicate(timeout=120) for p in procs]
    assert all(p.returncode == 0 for p in procs), results
    hashes = [[line for line in out.splitlines() if line.startswith("hash ")] for out, _ in results]
    assert hashes[0] == hashes[1] and len(hashes[0]) == 4
    records = [json.loads((example_repo / f"out{s}" / "arrests" / "record.json").read_text()) for s in (1, 2)]
    for record in records:
        record.pop("timings")
    assert records[0] == records[1]


def test_canonical_skops_is_stable_and_loads() -> None:
    import skops.io as sio
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(np.array([[0.0], [1.0], [2.0]]), np.array([1.0, 3.0, 5.0]))
    first, second = canonical_skops(sio.dumps(model)), canonical_skops(sio.dumps(model))
    assert first == second
    assert canonical_skops(first) == first
    assert sio.loads(first, trusted=sio.get_untrusted_types(data=first)).predict([[3.0]])[0] == pytest.approx(7.0)


def test_regression_on_synthetic_parquet_data(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    (root / "models" / "price").mkdir(parents=True)
    (root / "data").mkdir()
    rng = np.random.default_rng(0)
    size = rng.uniform(20, 200, 120)
    kind = rng.choice(["flat", "house"], 120)
    region = rng.choice(["n", "s"], 120)
    price = 3 * size + np.where(kind == "house", 50, 0) + rng.normal(0, 5, 120)
    pd.DataFrame({"size": size, "kind": kind, "region": region, "price": price}).to_parquet(
        root / "data" / "prices.parquet", index=False)
    (root / "models" / "price" / "model.yaml").write_text(
        "name: price\ntask: regression\ndata:\n  path: data/prices.parquet\n  format: parquet\n  target: price\n"
        "  features:\n    size: numeric\n    kind: categorical\n  sensitive: [region]\n"
        "split:\n  seed: 1\n  test_fraction: 0.2\n"
        "estimator:\n  class: sklearn.ensemble.RandomForestRegressor\n  params:\n    n_estimators: 5\n"
        "metrics:\n  mae: lower\n  rmse: lower\n  r2: higher\n  mape: lower\n", encoding="utf-8")
    _commit(root)
    spec, policy = load_model(root, "price")
    result = train_model(root, spec, policy, root / "out")
    assert set(result.metrics) == {"mae", "rmse", "r2", "mape"}
    assert result.metrics["r2"] is not None and result.metrics["r2"] > 0.9
    assert result.record["params"]["params"]["random_state"] == 1
    assert set(result.record["fairness"]) >= {"mae_difference", "rmse_difference"}
    frame = pd.read_parquet(root / "out" / "price" / "predictions.parquet")
    assert list(frame.columns) == ["y_true", "y_pred", "region"] and len(frame) == 24
    load_artifact(root / "out" / "price" / "model.skops", policy.allowed_prefixes)  # a Tree is under sklearn.


def _multiclass_repo(tmp_path: Path) -> Path:
    """The base repository with a third class, no positive label, and more metrics."""
    root = _base_repo(tmp_path)
    csv = root / "data" / "m.csv"
    lines = csv.read_text().splitlines()
    relabelled = [lines[0]] + [("Maybe" + line[line.index(","):]) if i % 3 == 0 else line
                               for i, line in enumerate(lines[1:])]
    csv.write_text("\n".join(relabelled) + "\n")
    _edit_spec(root, '  positive_label: "Yes"\n', "")
    _edit_spec(root, "  roc_auc: higher", "  roc_auc: higher\n  log_loss: lower\n  precision: higher")
    return root


def test_multiclass_metrics_with_predict_proba(tmp_path: Path) -> None:
    root = _commit(_multiclass_repo(tmp_path))
    spec, policy = load_model(root, "m")
    result = train_model(root, spec, policy, root / "out")
    assert all(result.metrics[name] is not None for name in ("accuracy", "f1", "precision", "roc_auc", "log_loss"))


def test_multiclass_without_predict_proba_reports_null_with_a_note(tmp_path: Path) -> None:
    root = _multiclass_repo(tmp_path)
    _edit_spec(root, "sklearn.linear_model.LogisticRegression", "sklearn.svm.LinearSVC")
    _commit(root)
    spec, policy = load_model(root, "m")
    result = train_model(root, spec, policy, root / "out")
    assert result.metrics["roc_auc"] is None and result.metrics["log_loss"] is None
    assert result.metrics["f1"] is not None and result.metrics["precision"] is not None
    assert any("roc_auc: the estimator has no predict_proba" in n for n in result.notes)
    assert "fairness" not in result.record
    assert any("fairness: not measured: the target has 3 classes" in n for n in result.notes)
    frame = pd.read_parquet(root / "out" / "m" / "predictions.parquet")
    assert "y_score" not in frame.columns and set(frame["y_true"]) == {"Yes", "No", "Maybe"}


def test_positive_label_given_as_a_number_matches_numeric_labels(tmp_path: Path) -> None:
    root = _base_repo(tmp_path)
    csv = root / "data" / "m.csv"
    csv.write_text(csv.read_text().replace("\nYes,", "\n1,").replace("\nNo,", "\n0,"))
    _edit_spec(root, 'positive_label: "Yes"', "positive_label: 1")
    _commit(root)
    spec, policy = load_model(root, "m")
    result = train_model(root, spec, policy, root / "out")
    assert any("compared as text" in n for n in result.notes)
    frame = pd.read_parquet(root / "out" / "m" / "predictions.parquet")
    assert set(frame["y_true"]) == {"0", "1"} and "y_score" in frame.columns


def test_missing_sensitive_values_become_a_group_when_the_spec_says_so(tmp_path: Path) -> None:
    root = _base_repo(tmp_path)
    csv = root / "data" / "m.csv"
    lines = csv.read_text().splitlines()
    csv.write_text("\n".join([lines[0]] + [line.rsplit(",", 1)[0] + "," if i % 4 == 0 else line
                                          for i, line in enumerate(lines[1:])]) + "\n")
    _edit_spec(root, "  sensitive: [group]", "  sensitive: [group]\n  missing:\n    sensitive: group")
    _commit(root)
    spec, policy = load_model(root, "m")
    train_model(root, spec, policy, root / "out")
    frame = pd.read_parquet(root / "out" / "m" / "predictions.parquet")
    assert "missing" in set(frame["group"])


def test_preprocessing_overrides_reach_the_pipeline(tmp_path: Path) -> None:
    root = _base_repo(tmp_path)
    _edit_spec(root, "split:", "preprocessing:\n  numeric: {impute: mean, scale: minmax}\n"
                               "  categorical: {encode: ordinal}\n  text: {max_features: 3}\nsplit:")
    _commit(root)
    spec, policy = load_model(root, "m")
    result = train_model(root, spec, policy, root / "out")
    model = load_artifact(result.folder / "model.skops", policy.allowed_prefixes)
    pre = model.named_steps["preprocess"]
    assert type(pre.named_transformers_["numeric"].named_steps["scale"]).__name__ == "MinMaxScaler"
    assert type(pre.named_transformers_["categorical"].named_steps["encode"]).__name__ == "OrdinalEncoder"
    assert len(pre.named_transformers_["text_note"].vocabulary_) == 3


def test_random_state_in_the_spec_wins(tmp_path: Path) -> None:
    root = _base_repo(tmp_path)
    _edit_spec(root, "    C: 1.0", "    C: 1.0\n    random_state: 7")
    _commit(root)
    spec, policy = load_model(root, "m")
    assert train_model(root, spec, policy, root / "out").record["params"]["params"]["random_state"] == 7


_REFUSE_WITHOUT_IMPORT = """
import sys
from mlops_actions.cli import main
code = main(["-C", sys.argv[1], "train", "m", "--out", "out"])
print("exit", code, "imported" if "tripwire" in sys.modules else "not-imported")
"""


def test_allow_list_refuses_before_importing(tmp_path: Path) -> None:
    """The spec names a module that is importable but not allowed; importing it would fail loudly."""
    root = _commit(_edit_base(tmp_path))
    pkgs = tmp_path / "pkgs"
    pkgs.mkdir()
    (pkgs / "tripwire.py").write_text("raise SystemExit('tripwire was imported')\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(pkgs), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-c", _REFUSE_WITHOUT_IMPORT, str(root)], env=env,
                          capture_output=True, text=True, timeout=120)
    assert "exit 1 not-imported" in proc.stdout, proc.stdout + proc.stderr
    assert "estimator 'tripwire.Model' is not allowed" in proc.stderr
    assert "models/m/model.yaml:18:10" in proc.stderr
    assert not (root / "out").exists()


def _edit_base(tmp_path: Path) -> Path:
    root = _base_repo(tmp_path)
    _edit_spec(root, "sklearn.linear_model.LogisticRegression", "tripwire.Model")
    return root


def test_training_library_refuses_before_importing_too(tmp_path: Path) -> None:
    """train_model itself checks the allow-list (callers that skip validation are protected)."""
    from mlops_actions.convention.model import ModelSpec, Policy
    from mlops_actions.convention.validation import load_valid

    root = _commit(_edit_base(tmp_path))
    spec = ModelSpec.from_dict(load_valid(root, "models/m/model.yaml", "model-spec") or {}, "models/m/model.yaml")
    with pytest.raises(InputError, match="is not allowed"):
        train_model(root, spec, Policy(), root / "out")
    assert "tripwire" not in sys.modules and not (root / "out").exists()


def test_failed_training_keeps_previous_results_and_leaves_no_temp(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    root = _commit(_base_repo(tmp_path))
    assert main(["-C", str(root), "train", "m", "--out", "out"]) == 0
    before = {p.name: _sha(p) for p in (root / "out" / "m").iterdir()}
    _edit_spec(root, "C: 1.0", "C: -1.0")
    assert main(["-C", str(root), "train", "m", "--out", "out"]) == 1
    assert [p.name for p in (root / "out").iterdir()] == ["m"]
    assert {p.name: _sha(p) for p in (root / "out" / "m").iterdir()} == before
    _edit_spec(root, "C: -1.0", "C: 0.5")
    assert main(["-C", str(root), "train", "m", "--out", "out"]) == 0  # replaces the previous results
    assert [p.name for p in (root / "out").iterdir()] == ["m"]
    assert _sha(root / "out" / "m" / "model.skops") != before["model.skops"]


def test_a_failing_write_leaves_nothing_behind(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with pytest.raises(InputError, match="cannot write the training outputs of m"):
        write_atomically(out, "m", {"metrics.json": b"{}", "missing-folder/x": b"boom"})
    assert not out.exists()
    out.mkdir()
    with pytest.raises(InputError, match="cannot write the training outputs of m"):
        write_atomically(out, "m", {"metrics.json": b"{}", "missing-folder/x": b"boom"})
    assert list(out.iterdir()) == []


def test_progress_lines_and_groups_under_actions(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    root = _commit(_base_repo(tmp_path))
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    assert main(["-C", str(root), "train", "m", "--out", "out"]) == 0
    out = capsys.readouterr().out
    assert "::group::m: fit sklearn.linear_model.LogisticRegression on 45 rows" in out
    assert out.count("::endgroup::") == out.count("::group::") >= 5
    assert "| accuracy |" in summary.read_text()
    assert "sha256<<" in output.read_text()


def test_unknown_model_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _commit(_base_repo(tmp_path))
    assert main(["-C", str(root), "train", "nope"]) == 1
    assert "there is no model 'nope'" in capsys.readouterr().err


def test_url_pinned_data_trains_from_the_local_cache(tmp_path: Path) -> None:
    root = _base_repo(tmp_path)
    data = (root / "data" / "m.csv").read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    cache = root / ".mlops" / "cache" / "data" / sha
    cache.parent.mkdir(parents=True)
    cache.write_bytes(data)
    _edit_spec(root, "  path: data/m.csv", f"  url: https://example.org/m.csv\n  sha256: {sha}")
    _commit(root)
    spec, policy = load_model(root, "m")
    record = train_model(root, spec, policy, root / "out").record
    assert record["data"] == [{"path": "https://example.org/m.csv", "hash": f"sha256:{sha}", "rows": 60,
                               "columns": record["data"][0]["columns"]}]


def test_model_inputs_coerce_new_rows_like_training(example_trained: Path) -> None:
    from mlops_actions.training.data import model_inputs

    spec, policy = load_model(example_trained, "arrests")
    rows = pd.DataFrame({"year": ["2001"], "age": [30], "checks": [0], "employed": ["yes"], "citizen": ["No"],
                         "released": ["?"]})
    inputs = model_inputs(rows, spec)
    assert inputs.iloc[0].to_dict() == {"year": 2001.0, "age": 30.0, "checks": 0.0, "employed": 1.0, "citizen": 0.0}
    model = load_artifact(example_trained / "mlops-out" / "arrests" / "model.skops", policy.allowed_prefixes)
    assert model.predict(inputs)[0] in ("Yes", "No")
    with pytest.raises(InputError, match="declared boolean but holds 'perhaps' at row 1"):
        model_inputs(rows.assign(citizen=["perhaps"]), spec)


def test_blas_kernels_are_pinned_on_x86_64_with_avx2(tmp_path: Path) -> None:
    from mlops_actions.training.determinism import cpu_flags, reproducible_env

    avx2 = frozenset({"sse2", "avx2", "fma"})
    assert reproducible_env({}, machine="x86_64", cpu_flags=avx2) == {"OPENBLAS_CORETYPE": "Haswell",
                                                                        "MKL_CBWR": "AVX2"}
    assert reproducible_env({"OPENBLAS_CORETYPE": "Zen"}, machine="x86_64", cpu_flags=avx2) == {"MKL_CBWR": "AVX2"}
    assert reproducible_env({}, machine="x86_64", cpu_flags=frozenset({"sse2"})) == {}
    assert reproducible_env({}, machine="arm64", cpu_flags=avx2) == {}
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx2 fma\n\nprocessor\t: 1\nflags\t\t: fpu\n")
    assert cpu_flags(info) == frozenset({"fpu", "sse2", "avx2", "fma"})
    assert cpu_flags(tmp_path / "missing") == frozenset()


def test_train_says_whether_the_policy_lets_predictions_leave_the_job(example_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "github_output"
    env = {**os.environ, "GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(out)}
    assert main(["-C", str(example_repo), "train", "arrests", "--out", str(tmp_path / "o1")], env=env) == 0
    assert "upload-predictions<<" in out.read_text() and "\nfalse\n" in out.read_text()
    policy = example_repo / "mlops.yaml"
    policy.write_text(policy.read_text() + "artifacts:\n  upload_predictions: true\n")
    out.write_text("")
    assert main(["-C", str(example_repo), "train", "arrests", "--out", str(tmp_path / "o2")], env=env) == 0
    assert "\ntrue\n" in out.read_text()
