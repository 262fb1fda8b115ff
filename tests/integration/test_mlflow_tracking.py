"""The MLflow mirror without a server: configuration, what it writes (pure parts), and how it fails.

A tracking server that does not answer is a warning (git tags and GitHub Deployments stay the record), or an
error when the policy says ``mlflow.required: true``; so is MLflow missing. The loop against a real server is
in ``test_mlflow_loop.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.errors import InputError
from mlops_actions.mlflow_bridge.serving import free_port
from mlops_actions.mlflow_bridge.tracking import (
    Mirror,
    MirrorConfig,
    RunInfo,
    alias_problem,
    mirror_config,
    run_metrics,
    run_params,
    run_tags,
    version_tags,
)

RECORD = {"model": "m", "version": "v2", "fingerprint": "f" * 64, "commit": "c" * 40, "pr": 7,
          "artifact": {"file": "model.skops", "sha256": "a" * 64, "format": "skops"},
          "approvers": [{"login": "alice", "commit": "c", "submitted_at": "t"},
                        {"login": "carol", "commit": "c", "submitted_at": "t"}],
          "params": {"class": "sklearn.linear_model.LogisticRegression", "params": {"C": 0.5, "class_weight": None}},
          "metrics": {"accuracy": 0.8, "roc_auc": None}, "fairness": {"demographic_parity_difference": 0.04},
          "data": [{"path": "data/m.csv", "hash": "git:" + "b" * 40}]}


def test_the_environment_wins_over_the_policy_and_required_is_the_policys() -> None:
    policy = {"mlflow": {"tracking_uri": "http://policy.example", "required": True}}
    assert mirror_config({"MLFLOW_TRACKING_URI": "http://env.example"}, policy) == \
        MirrorConfig("http://env.example", True)
    assert mirror_config({}, policy) == MirrorConfig("http://policy.example", True, "mlops.yaml mlflow.tracking_uri")
    assert mirror_config({}, None) is None
    assert mirror_config({"MLFLOW_TRACKING_URI": "  "}, {}) is None


def test_required_without_a_server_is_an_error() -> None:
    with pytest.raises(InputError, match="no tracking server is named"):
        mirror_config({}, {"mlflow": {"required": True}})


def test_what_a_run_and_a_version_carry() -> None:
    assert run_params(RECORD) == {"C": "0.5", "class_weight": "null",
                                  "estimator": "sklearn.linear_model.LogisticRegression"}
    assert run_metrics(RECORD) == {"accuracy": 0.8, "fairness.demographic_parity_difference": 0.04}
    tags = run_tags("m", RECORD, RunInfo("d" * 40, 7, None))
    assert tags["mlops.git_sha"] == "d" * 40 and tags["mlops.pr"] == "7" and "mlops.run_url" not in tags
    assert tags["mlops.data"] == '[{"path": "data/m.csv", "hash": "git:' + "b" * 40 + '"}]'
    version = version_tags(RECORD, "m@v2")
    assert version["mlops.approvers"] == "alice,carol" and version["mlops.artifact_sha256"] == "a" * 64
    assert (version["mlops.version"], version["mlops.pr"]) == ("v2", "7")


@pytest.mark.parametrize(("name", "ok"), [("production", True), ("staging-eu", True), ("latest", False),
                                          ("v3", False), ("a b", False)])
def test_environment_names_that_cannot_be_aliases(name: str, ok: bool) -> None:
    assert (alias_problem(name) is None) is ok


def _unreachable() -> str:
    return f"http://127.0.0.1:{free_port()}"  # nothing listens there


def test_an_unreachable_server_is_a_warning(tmp_path: Path) -> None:
    warnings: list[str] = []
    mirror = Mirror(MirrorConfig(_unreachable()), RunInfo(), warnings.append)
    assert mirror.log_training("m", tmp_path, RECORD) is None
    mirror.move_aliases([{"environment": "production", "model": "m", "version": "v2"}])
    assert len(warnings) == 2
    assert "does not answer" in warnings[0] and "stay the record, so this is a warning" in warnings[0]


def test_an_unreachable_server_is_an_error_when_required(tmp_path: Path) -> None:
    mirror = Mirror(MirrorConfig(_unreachable(), required=True), RunInfo(), lambda _: None)
    with pytest.raises(InputError, match=r"could not log the training run of m: the tracking server does not answer"):
        mirror.log_training("m", tmp_path, RECORD)


def test_train_with_an_unreachable_server_warns_and_succeeds(example_repo: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    uri = _unreachable()
    assert main(["-C", str(example_repo), "train", "arrests"], env={"MLFLOW_TRACKING_URI": uri}) == 0
    err = capsys.readouterr().err
    assert f"warning: MLflow ({uri}): could not log the training run of arrests" in err
    assert (example_repo / "mlops-out/arrests/model.skops").is_file()


def test_train_fails_when_the_policy_requires_mlflow(example_repo: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    policy = example_repo / "mlops.yaml"
    policy.write_text(policy.read_text(encoding="utf-8") + f"mlflow:\n  tracking_uri: {_unreachable()}\n"
                      "  required: true\n", encoding="utf-8")
    assert main(["-C", str(example_repo), "validate"], env={}) == 0
    assert main(["-C", str(example_repo), "train", "arrests"], env={}) == 1
    err = capsys.readouterr().err
    assert "(mlops.yaml says mlflow.required: true)" in err and "Traceback" not in err


def test_a_mirror_without_mlflow_installed_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import mlops_actions.mlflow_bridge.tracking as tracking

    monkeypatch.setattr(tracking, "probe", lambda uri: None)
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "mlflow.tracking", None)
    warnings: list[str] = []
    Mirror(MirrorConfig("http://127.0.0.1:9"), RunInfo(), warnings.append).log_training("m", tmp_path, RECORD)
    assert "MLflow is not installed" in warnings[0] and 'pip install "mlops-actions[mlflow]"' in warnings[0]


def test_no_server_configured_means_no_mirror_and_no_mlflow_import(example_repo: Path) -> None:
    from mlops_actions.mlflow_bridge.hooks import mirror_from

    assert mirror_from(example_repo, {}) is None
