"""Every preprocessing option and every allowed estimator family, trained in this process: prints
``{model: artifact sha256}`` as JSON. ``test_reproducible_bytes`` runs it in two separate processes and
compares (memory addresses, hash seeds and thread scheduling differ between processes, not within one).

``python tests/testkit/repro_matrix.py make ROOT`` writes the repository (one model per configuration);
``python tests/testkit/repro_matrix.py train ROOT`` trains each model and prints the hashes.
"""

from __future__ import annotations

import json
import subprocess
import sys
from importlib.util import find_spec
from pathlib import Path

ROWS = 160
HEAD = """name: {name}
task: {task}
data:
  path: data/all.csv
  format: csv
  target: {target}
  features:
    num: numeric
    num2: numeric
    cat: categorical
    flag: boolean
    words: text
    when: datetime
split:
  seed: 7
  test_fraction: 0.25
  by:
    column: when
metrics:
  {metric}: higher
"""

PREPROCESSING = {
    **{f"num-impute-{v}": {"numeric": {"impute": v}} for v in ("mean", "median", "most_frequent")},
    **{f"num-scale-{v}": {"numeric": {"scale": v}} for v in ("standard", "minmax", "robust", "none")},
    **{f"cat-{i}-{e}": {"categorical": {"impute": i, "encode": e}} for i in ("most_frequent", "constant")
       for e in ("onehot", "ordinal")},
    **{f"bool-impute-{v}": {"boolean": {"impute": v}} for v in ("most_frequent", "constant")},
    "text-max-features": {"text": {"max_features": 5}},
}
CLASSIFIERS = {
    "logistic": ("sklearn.linear_model.LogisticRegression", {}),
    "sgd": ("sklearn.linear_model.SGDClassifier", {"loss": "log_loss", "max_iter": 50}),
    "ridge": ("sklearn.linear_model.RidgeClassifier", {}),
    "tree": ("sklearn.tree.DecisionTreeClassifier", {"max_depth": 4}),
    "forest": ("sklearn.ensemble.RandomForestClassifier", {"n_estimators": 10, "n_jobs": 2}),
    "extra-trees": ("sklearn.ensemble.ExtraTreesClassifier", {"n_estimators": 10}),
    "gbm": ("sklearn.ensemble.GradientBoostingClassifier", {"n_estimators": 10}),
    "hist-gbm": ("sklearn.ensemble.HistGradientBoostingClassifier", {"max_iter": 10}),
    "adaboost": ("sklearn.ensemble.AdaBoostClassifier", {"n_estimators": 10}),
    "naive-bayes": ("sklearn.naive_bayes.GaussianNB", {}),
    "knn": ("sklearn.neighbors.KNeighborsClassifier", {"n_neighbors": 5}),
    "svc": ("sklearn.svm.SVC", {"probability": True}),
    "linear-svc": ("sklearn.svm.LinearSVC", {}),
    "mlp": ("sklearn.neural_network.MLPClassifier", {"hidden_layer_sizes": [8], "max_iter": 30}),
    "lda": ("sklearn.discriminant_analysis.LinearDiscriminantAnalysis", {}),
    "lightgbm": ("lightgbm.LGBMClassifier", {"n_estimators": 10, "verbose": -1, "min_child_samples": 5}),
    "xgboost": ("xgboost.XGBClassifier", {"n_estimators": 10, "max_depth": 3}),
}
REGRESSORS = {
    "ridge-reg": ("sklearn.linear_model.Ridge", {}),
    "forest-reg": ("sklearn.ensemble.RandomForestRegressor", {"n_estimators": 10}),
    "hist-gbm-reg": ("sklearn.ensemble.HistGradientBoostingRegressor", {"max_iter": 10}),
    "lightgbm-reg": ("lightgbm.LGBMRegressor", {"n_estimators": 10, "verbose": -1}),
    "xgboost-reg": ("xgboost.XGBRegressor", {"n_estimators": 10}),
    "sklego-lad": ("sklego.linear_model.LADRegression", {}),
}
FACTORY = """
from sklearn.ensemble import RandomForestClassifier
from sklearn.pipeline import Pipeline

from .features import Numbers


def build():
    return Pipeline([("numbers", Numbers()), ("model", RandomForestClassifier(n_estimators=10))])
"""
FEATURES = """
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin


class Numbers(BaseEstimator, TransformerMixin):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.column_stack([X["num"].fillna(0), X["num2"].fillna(0), X["when"].dt.month])
"""


def installed(class_path: str) -> bool:
    return find_spec(class_path.split(".", 1)[0]) is not None


def data() -> str:
    lines = ["label,value,num,num2,cat,flag,words,when"]
    for i in range(ROWS):
        num = "" if i % 11 == 0 else f"{(i * 37) % 100 / 7:.3f}"
        cat = "" if i % 13 == 0 else "abcd"[(i * 7) % 4]
        flag = "" if i % 17 == 0 else ("yes" if (i * 5) % 3 else "no")
        words = " ".join(("red", "green", "blue", "cyan", "pink", "gold")[(i * j) % 6] for j in range(1, 4))
        label = "pos" if ((i * 37) % 100 + (i % 5) * 9) % 2 else "neg"
        lines.append(f"{label},{(i * 37) % 100 / 3:.3f},{num},{(i * 13) % 50},{cat},{flag},{words},"
                     f"2024-{1 + i % 12:02d}-{1 + (i * 3) % 28:02d}")
    return "\n".join(lines) + "\n"


def spec(name: str, class_path: str, params: dict, task: str = "classification", pre: dict | None = None) -> str:
    target, metric = ("label", "accuracy") if task == "classification" else ("value", "r2")
    text = HEAD.format(name=name, task=task, target=target, metric=metric)
    text += "estimator: " + json.dumps({"class": class_path, "params": params}) + "\n"
    if pre:
        text += "preprocessing: " + json.dumps(pre) + "\n"
    return text


def make(root: Path) -> list[str]:
    prefixes = ["sklearn.", "lightgbm.", "xgboost.", "sklego."]
    (root / "data").mkdir(parents=True)
    (root / "data/all.csv").write_text(data())
    (root / "mlops.yaml").write_text(f"estimators:\n  allowed_prefixes: {json.dumps(prefixes)}\n"
                                     "environments:\n  - name: production\n")
    models: dict[str, str] = {}
    for name, options in PREPROCESSING.items():
        models[name] = spec(name, "sklearn.linear_model.LogisticRegression", {}, pre=options)
    models.update({n: spec(n, c, p) for n, (c, p) in CLASSIFIERS.items() if installed(c)})
    models.update({n: spec(n, c, p, "regression") for n, (c, p) in REGRESSORS.items() if installed(c)})
    factory = HEAD.format(name="factory", task="classification", target="label", metric="accuracy")
    models["factory"] = factory + "pipeline: models/factory/pipeline.py:build\n"
    for name, text in models.items():
        (root / "models" / name).mkdir(parents=True)
        (root / "models" / name / "model.yaml").write_text(text)
    (root / "models/factory/pipeline.py").write_text(FACTORY)
    (root / "models/factory/features.py").write_text(FEATURES)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "matrix"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    return sorted(models)


def train(root: Path) -> dict[str, str]:
    import tempfile

    from mlops_actions.commands.train import load_model
    from mlops_actions.convention.discovery import model_names
    from mlops_actions.training.train import train_model

    hashes = {}
    with tempfile.TemporaryDirectory() as out:
        for name in model_names(root):
            spec_, policy = load_model(root, name)
            hashes[name] = train_model(root, spec_, policy, Path(out)).artifact_sha256
    return hashes


if __name__ == "__main__":
    if sys.argv[1] == "make":
        print(json.dumps(make(Path(sys.argv[2]))))
    else:
        print(json.dumps(train(Path(sys.argv[2])), sort_keys=True))
