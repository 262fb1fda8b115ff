"""The three ways of building a model, end to end through the CLI on real git repositories: a pipeline factory
(import tracing, the fingerprint and plan's reasons, skops trust), a command under the file contract,
LightGBM and nested params on the declarative path, thresholds, scorer and repository metrics, time and
group splits, datetime features, requirements. Bad inputs are data-driven in tests/cases/data."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_actions.cli import main
from mlops_actions.training.artifact import files_identity, load_trusted, refused_types
from testkit import CASES, git

BASE = CASES / "data" / "_base"
SPEC = (BASE / "models" / "m" / "model.yaml").read_text()
ESTIMATOR = """estimator:
  class: sklearn.linear_model.LogisticRegression
  params:
    C: 1.0
"""


def make_repo(tmp_path: Path, spec: str, files: dict[str, str] | None = None, prefixes: str = '"sklearn."') -> Path:
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    (root / "mlops.yaml").write_text(f"estimators:\n  allowed_prefixes: [{prefixes}]\nenvironments:\n"
                                     "  - name: production\n")
    (root / "models/m/model.yaml").write_text(spec)
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def train(root: Path, capsys: pytest.CaptureFixture[str], name: str = "m") -> dict:
    code = main(["-C", str(root), "train", name, "--out", "out"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads((root / "out" / name / "record.json").read_text())


FEATURES = '''
    import numpy as np
    from sklearn.base import BaseEstimator, TransformerMixin


    class AgeBand(BaseEstimator, TransformerMixin):
        def __init__(self, width=10):
            self.width = width

        def fit(self, X, y=None):
            return self

        def transform(self, X):
            out = X.copy()
            out["age_band"] = np.floor(out["age"] / self.width)
            return out.drop(columns=["city", "note"])
    '''
FACTORY = '''
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from .features import AgeBand


    def build(C=1.0):
        return Pipeline([("band", AgeBand()), ("model", LogisticRegression(C=C))])
    '''


def factory_repo(tmp_path: Path) -> Path:
    spec = SPEC.replace(ESTIMATOR, "pipeline:\n  factory: models/m/pipeline.py:build\n  params: {C: 0.5}\n")
    return make_repo(tmp_path, spec, {"models/m/pipeline.py": FACTORY, "models/m/features.py": FEATURES})


def test_factory_trains_with_the_repositorys_own_transformer(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = factory_repo(tmp_path)
    record = train(root, capsys)
    assert record["build"] == {"kind": "pipeline", "target": "models/m/pipeline.py:build",
                               "modules": ["models.m.features", "models.m.pipeline"]}
    assert set(record["code"]) == {"models/m/features.py", "models/m/pipeline.py"}  # traced, not listed by hand
    assert record["params"]["factory"] == "models/m/pipeline.py:build"
    assert record["params"]["class"].endswith("Pipeline")
    data = (root / "out/m/model.skops").read_bytes()
    assert refused_types(["models.m.features.AgeBand"], ("sklearn.",)) == ["models.m.features.AgeBand"]
    assert refused_types(["models.m.features.AgeBand"], ("sklearn.",), ["models.m.features"]) == []
    with pytest.raises(Exception, match=r"not trusted: models\.m\.features\.AgeBand"):
        load_trusted(data, ("sklearn.",))  # without the repository's modules the type is refused by name


def test_factory_import_change_is_a_plan_reason(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = factory_repo(tmp_path)
    features = root / "models/m/features.py"
    features.write_text(features.read_text().replace("width=10", "width=5"))
    git(root, "commit", "-qam", "narrower bands")
    assert main(["-C", str(root), "plan", "--base", "HEAD~1"]) == 0
    out = capsys.readouterr().out
    assert "code changed: models/m/features.py (git:" in out


def test_factory_is_byte_identical_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = factory_repo(tmp_path)
    first = train(root, capsys)["artifact"]["sha256"]
    assert train(root, capsys)["artifact"]["sha256"] == first


TRAINER = '''
    import json
    import os
    from pathlib import Path

    import numpy as np
    import pandas as pd

    params = json.loads(os.environ["MLOPS_PARAMS"])
    train = pd.read_parquet(os.environ["MLOPS_TRAIN"])
    test = pd.read_parquet(os.environ["MLOPS_TEST"])
    assert os.environ["MLOPS_TARGET"] not in test.columns
    assert "GITHUB_TOKEN" not in os.environ
    out = Path(os.environ["MLOPS_OUT"])
    (out / "model" / "sub").mkdir(parents=True)
    rate = float((train[os.environ["MLOPS_TARGET"]] == "Yes").mean())
    (out / "model" / "rate.json").write_text(json.dumps({"rate": rate, "bias": params["bias"]}))
    (out / "model" / "sub" / "notes.txt").write_text("seed " + os.environ["MLOPS_SEED"])
    score = np.clip(test["age"].to_numpy() / 100 + params["bias"], 0, 1)
    pd.DataFrame({"row_id": test["row_id"][::-1], "prediction": np.where(score >= 0.5, "Yes", "No")[::-1],
                  "proba_No": (1 - score)[::-1], "proba_Yes": score[::-1]}).to_parquet(out / "predictions.parquet")
    print("done")
    '''


def test_command_contract_end_to_end(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secret")
    spec = SPEC.replace(ESTIMATOR, "train:\n  command: python models/m/train.py\n  params: {bias: 0.1}\n")
    spec = spec.replace("  roc_auc: higher\n", "  roc_auc: higher\n  neg_log_loss: higher\n")
    root = make_repo(tmp_path, spec, {"models/m/train.py": TRAINER})
    record = train(root, capsys)
    assert record["build"]["kind"] == "command" and record["reproducibility"] == {"rule": "metrics", "tolerance": 0.0}
    assert record["params"]["files"] == ["rate.json", "sub/notes.txt"]
    assert set(record["code"]) == {"models/m/train.py"}
    with zipfile.ZipFile(root / "out/m/model.zip") as archive:
        files = {n: archive.read(n) for n in archive.namelist()}
    assert files["sub/notes.txt"] == b"seed 3"
    listing = "".join(f"{hashlib.sha256(files[n]).hexdigest()}  {n}\n" for n in sorted(files))
    size = (root / "out/m/model.zip").stat().st_size
    assert record["artifact"] == {"file": "model.zip", "format": "files", "size": size,
                                  "sha256": hashlib.sha256(listing.encode()).hexdigest(),
                                  "parts": {n: hashlib.sha256(files[n]).hexdigest() for n in sorted(files)}}
    assert files_identity(files) == record["artifact"]["sha256"]
    preds = pd.read_parquet(root / "out/m/predictions.parquet")
    truth = pd.read_csv(root / "data/m.csv")
    assert set(preds["y_true"]) <= {"Yes", "No"} and "y_score" in preds  # probabilities were used, in test order
    assert record["metrics"]["neg_log_loss"] < 0
    assert len(preds) == record["rows"]["test"] and record["rows"]["train"] + len(preds) == len(truth)
    assert not list(root.glob("**/__pycache__"))


def test_lightgbm_declarative_with_nested_params(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("lightgbm")
    spec = SPEC.replace(ESTIMATOR, """estimator:
  class: lightgbm.LGBMClassifier
  params:
    n_estimators: 20
    min_child_samples: 2
    class_weight: {"Yes": 1, "No": 5}
    verbose: -1
    n_jobs: 1
    deterministic: true
    force_row_wise: true
""")
    root = make_repo(tmp_path, spec, prefixes='"sklearn.", "lightgbm."')
    record = train(root, capsys)
    assert record["params"]["params"]["class_weight"] == {"Yes": 1, "No": 5}
    assert record["libraries"]["lightgbm"] != "not installed"
    bad = root / "models/m/model.yaml"
    bad.write_text(bad.read_text().replace("n_estimators: 20", "n_estimators: -3"))
    assert main(["-C", str(root), "train", "m", "--out", "out2"]) == 1
    err = capsys.readouterr().err
    assert "models/m/model.yaml:" in err and "Traceback" not in err and not (root / "out2").exists()


def test_nested_class_weight_on_sklearn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = make_repo(tmp_path, SPEC.replace("    C: 1.0\n", "    C: 1.0\n    class_weight: {\"Yes\": 1, \"No\": 5}\n"))
    assert train(root, capsys)["params"]["params"]["class_weight"] == {"No": 5, "Yes": 1}


def test_threshold_moves_predictions_and_is_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    low = train(make_repo(tmp_path / "a", SPEC + "threshold: 0.05\n"), capsys)
    high = train(make_repo(tmp_path / "b", SPEC + "threshold: 0.95\n"), capsys)
    assert low["threshold"] == 0.05 and high["threshold"] == 0.95
    assert low["artifact"]["sha256"] == high["artifact"]["sha256"]  # the same model, judged at two thresholds
    a = pd.read_parquet(tmp_path / "a/repo/out/m/predictions.parquet")
    b = pd.read_parquet(tmp_path / "b/repo/out/m/predictions.parquet")
    assert (a["y_pred"] == "Yes").all() and (b["y_pred"] == "No").all()
    assert low["metrics"]["roc_auc"] == high["metrics"]["roc_auc"] and low["metrics"]["f1"] != high["metrics"]["f1"]


def test_scorer_names_match_scikit_learn(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sklearn.metrics import average_precision_score, f1_score, log_loss

    from mlops_actions.training.metrics import Predictions, compute

    extra = "  average_precision: higher\n  f1_macro: higher\n  neg_log_loss: higher\n"
    record = train(make_repo(tmp_path, SPEC.replace("  roc_auc: higher\n", "  roc_auc: higher\n" + extra)), capsys)
    assert all(record["metrics"][n] is not None for n in ("average_precision", "f1_macro", "neg_log_loss"))
    y = np.array(["No", "Yes", "Yes", "No"], dtype=object)
    p = np.array([0.2, 0.7, 0.4, 0.6])
    preds = Predictions(y, np.where(p >= 0.5, "Yes", "No").astype(object), np.column_stack([1 - p, p]),
                        ("No", "Yes"), "Yes")
    got = compute("classification", ["average_precision", "neg_log_loss", "f1_macro"], preds).values
    assert got["average_precision"] == pytest.approx(average_precision_score(y == "Yes", p))
    assert got["neg_log_loss"] == pytest.approx(-log_loss(y == "Yes", p))  # the scorer's sign, as sklearn reports it
    assert got["f1_macro"] == pytest.approx(f1_score(y, preds.y_pred, average="macro"))


def test_repository_metric(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = SPEC.replace("  roc_auc: higher\n", "  roc_auc: higher\n  models/m/metrics.py:share_yes: higher\n")
    root = make_repo(tmp_path, spec, {"models/m/metrics.py": """
        def share_yes(y_true, y_pred, y_score):
            return float((y_pred == "Yes").mean())
        """})
    record = train(root, capsys)
    assert 0 <= record["metrics"]["models/m/metrics.py:share_yes"] <= 1
    assert "models/m/metrics.py" in record["code"]


DATED = "y,when,customer,age\n" + "".join(
    f"{'Yes' if i % 3 else 'No'},2024-{1 + i % 12:02d}-{1 + i % 28:02d},c{i % 7},{20 + i}\n" for i in range(60))


def dated_repo(tmp_path: Path, split: str, features: str = "    age: numeric\n") -> Path:
    spec = f"""name: m
task: classification
data:
  path: data/m.csv
  format: csv
  target: y
  positive_label: "Yes"
  features:
{features}split:
{split}{ESTIMATOR}metrics:
  accuracy: higher
"""
    root = make_repo(tmp_path, spec)
    (root / "data/m.csv").write_text(DATED)
    git(root, "commit", "-qam", "dated data")
    return root


def test_time_split_holds_out_the_rows_after_the_cut(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    record = train(dated_repo(tmp_path, "  by:\n    column: when\n    test_after: 2024-10-31\n"), capsys)
    months = [1 + i % 12 for i in range(60)]
    assert record["rows"] == {"train": sum(m <= 10 for m in months), "test": sum(m > 10 for m in months)}


def test_time_ordered_fraction_and_groups_never_straddle(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from mlops_actions.commands.train import load_model
    from mlops_actions.training.data import load_dataset
    from mlops_actions.training.spec_places import SpecPlaces
    from mlops_actions.training.split import split_rows

    root = dated_repo(tmp_path, "  seed: 1\n  test_fraction: 0.3\n  group: customer\n")
    spec, _ = load_model(root, "m")
    places = SpecPlaces.load(root, spec.spec_path)
    dataset = load_dataset(root, spec, places)
    split = split_rows(dataset, spec, places)
    groups = dataset.split_columns["customer"]
    assert not set(groups.iloc[split.train]) & set(groups.iloc[split.test])
    assert sorted([*split.train, *split.test]) == list(range(60))
    spec2, _ = load_model(dated_repo(tmp_path / "t", "  test_fraction: 0.25\n  by:\n    column: when\n"), "m")
    timed_data = load_dataset(root, spec2, places)
    timed = split_rows(timed_data, spec2, places)
    when = pd.to_datetime(timed_data.split_columns["when"])
    assert when.iloc[timed.train].max() < when.iloc[timed.test].min() and len(timed.test) == 15


def test_datetime_feature_is_expanded_and_random_split_warns(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    root = dated_repo(tmp_path, "  seed: 1\n", features="    age: numeric\n    when: datetime\n")
    assert main(["-C", str(root), "validate"]) == 0
    assert "a random split of time-ordered data" in capsys.readouterr().out
    record = train(root, capsys)
    assert record["data"][0]["columns"]["when"] == "datetime64[ns]"
    from skops.io import get_untrusted_types
    assert not [t for t in get_untrusted_types(data=(root / "out/m/model.skops").read_bytes())
                if not t.startswith(("sklearn.", "numpy."))]


def test_requirements_pins_are_checked_and_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    pins = f"numpy=={version('numpy')}\n"
    root = make_repo(tmp_path, SPEC + "requirements: models/m/requirements.txt\n", {"models/m/requirements.txt": pins})
    record = train(root, capsys)
    assert record["requirements"] == {"numpy": version("numpy")} and "models/m/requirements.txt" in record["code"]
    (root / "models/m/requirements.txt").write_text("numpy==0.0.1\n")
    assert main(["-C", str(root), "train", "m", "--out", "out3"]) == 1
    err = capsys.readouterr().err
    assert "models/m/requirements.txt: installed packages differ from their pins: numpy==0.0.1" in err
    (root / "models/m/requirements.txt").write_text("numpy>=1\n")
    assert main(["-C", str(root), "validate"]) == 1
    assert "is not pinned" in capsys.readouterr().out


def test_exactly_one_way_of_building(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    both = SPEC.replace(ESTIMATOR, ESTIMATOR + "pipeline: models/m/pipeline.py:build\n")
    root = make_repo(tmp_path, both, {"models/m/pipeline.py": FACTORY})
    assert main(["-C", str(root), "validate"]) == 1
    out = capsys.readouterr().out
    assert "give only one of: estimator, or pipeline, or train (found estimator and pipeline)" in out


@pytest.mark.slow
def test_install_requirements_runs_pip_without_a_shell(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import os
    from importlib.metadata import version

    pins = f"numpy=={version('numpy')}  # already here: pip needs no index\n"
    root = make_repo(tmp_path, SPEC + "requirements: models/m/requirements.txt\n", {"models/m/requirements.txt": pins})
    env = {**os.environ, "MLOPS_ACTIONS_PIP_ARGS": "--no-index"}
    assert main(["-C", str(root), "train", "m", "--out", "out", "--install-requirements"], env=env) == 0
    assert "Requirement already satisfied: numpy" in capsys.readouterr().out
    (root / "models/m/requirements.txt").write_text("surely-not-a-package-mlops==1.0\n")
    code = main(["-C", str(root), "train", "m", "--out", "out2", "--install-requirements"], env=env)
    err = capsys.readouterr().err
    assert code == 1 and "models/m/requirements.txt: pip could not install the requirements" in err
    assert not (root / "out2").exists() and "Traceback" not in err


def test_threshold_drives_fairness_and_the_reports_confusion_matrix(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The spec's threshold, not 0.5: the held-out predictions, the rates fairness is measured on, and the
    report's confusion matrix."""
    root = make_repo(tmp_path, SPEC + "threshold: 0.7\n")
    assert main(["-C", str(root), "train", "m", "--out", "mlops-out"]) == 0
    preds = pd.read_parquet(root / "mlops-out/m/predictions.parquet")
    chosen, actual = preds["y_score"] >= 0.7, preds["y_true"] == "Yes"
    assert (chosen == (preds["y_pred"] == "Yes")).all()
    assert 0 < chosen.sum() < (preds["y_score"] >= 0.5).sum()  # 0.7 and 0.5 disagree on these rows
    rows = json.loads((root / "mlops-out/m/fairness.json").read_text())["rows"]
    rates = {row["group"][0]: row["values"]["selection_rate"] for row in rows}
    assert rates == {g: chosen[preds["group"] == g].mean() for g in ("a", "b")}
    capsys.readouterr()
    main(["-C", str(root), "report"])
    out = capsys.readouterr().out
    table = out.split("**Confusion matrix at threshold 0.7, positive class `Yes`** (held-out rows)", 1)[1]
    tp, fn = (chosen & actual).sum(), (~chosen & actual).sum()
    fp, tn = (chosen & ~actual).sum(), (~chosen & ~actual).sum()
    assert f"| actual positive | {tp} (TP)" in table and f"| {fn} (FN)" in table
    assert f"| actual negative | {fp} (FP)" in table and f"| {tn} (TN)" in table


DATED_FACTORY = '''
    import pandas as pd
    from sklearn.base import BaseEstimator, TransformerMixin
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline


    class Quarter(BaseEstimator, TransformerMixin):
        def fit(self, X, y=None):
            assert pd.api.types.is_datetime64_any_dtype(X["when"]), X.dtypes
            return self

        def transform(self, X):
            return pd.DataFrame({"quarter": X["when"].dt.quarter.astype(float), "age": X["age"]})


    def build():
        return Pipeline([("quarter", Quarter()), ("model", LogisticRegression())])
    '''
DATED_TRAINER = '''
    import os
    from pathlib import Path

    import pandas as pd

    train, test = pd.read_parquet(os.environ["MLOPS_TRAIN"]), pd.read_parquet(os.environ["MLOPS_TEST"])
    assert pd.api.types.is_datetime64_any_dtype(train["when"]) and pd.api.types.is_datetime64_any_dtype(test["when"])
    out = Path(os.environ["MLOPS_OUT"])
    (out / "model").mkdir()
    (out / "model" / "dates.txt").write_text(str(train["when"].min().date()))
    pd.DataFrame({"row_id": test["row_id"], "prediction": "Yes"}).to_parquet(out / "predictions.parquet")
    '''


@pytest.mark.parametrize("build", ["declarative", "factory", "command"])
def test_a_datetime_feature_is_expanded_declaratively_and_a_datetime_for_code(
        build: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The declarative path turns a date into year, month and day of week; a factory's transformer and a command's
    parquet files get the datetime column itself (their assertions fail the build otherwise)."""
    features = "    age: numeric\n    when: datetime\n"
    root = dated_repo(tmp_path, "  test_fraction: 0.25\n  by:\n    column: when\n", features)
    spec_file = root / "models/m/model.yaml"
    how = {"factory": ("pipeline:\n  factory: models/m/pipeline.py:build\n", "models/m/pipeline.py", DATED_FACTORY),
           "command": ("train:\n  command: python models/m/train.py\n", "models/m/train.py", DATED_TRAINER)}
    if build in how:
        block, rel, code = how[build]
        spec_file.write_text(spec_file.read_text().replace(ESTIMATOR, block))
        (root / rel).write_text(textwrap.dedent(code).lstrip())
        git(root, "add", "-A")
        git(root, "commit", "-qm", build)
    record = train(root, capsys)
    assert record["data"][0]["columns"]["when"] == "datetime64[ns]"
    if build == "declarative":
        from mlops_actions.training.artifact import load_artifact

        model = load_artifact(root / "out/m/model.skops", ("sklearn.",))
        names = list(model[:-1].get_feature_names_out())
        assert [n for n in names if "when" in n] == ["numeric__when__year", "numeric__when__month",
                                                       "numeric__when__day_of_week"]


def test_a_commands_output_is_shown_folded_in_its_stage(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = SPEC.replace(ESTIMATOR, "train:\n  command: python models/m/train.py\n  params: {bias: 0.1}\n")
    root = make_repo(tmp_path, spec, {"models/m/train.py": TRAINER})
    env = {**os.environ, "GITHUB_ACTIONS": "true"}
    assert main(["-C", str(root), "train", "m", "--out", "out"], env=env) == 0
    out = capsys.readouterr().out
    fit = out.split("::group::m: fit `python models/m/train.py` on ", 1)[1].split("::endgroup::", 1)[0]
    assert fit.splitlines()[1] == "done"  # after the title's row count, the trainer's own output, in the group
