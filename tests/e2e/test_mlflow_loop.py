"""The example's whole loop with MLflow: a real ``mlflow server`` (SQLite, local artifacts, 127.0.0.1) and
the GitHub emulator in strict mode (every answer checked against GitHub's OpenAPI description).

One scenario per module (MLflow is slow to start): a pull request trains (a run is logged), the merge
registers ``arrests@v1`` (mirrored into the Model Registry), staging is promoted with a queued deployment
that ``ship`` carries out from the real ``deployment`` webhook payload, a second version is registered and
promoted, staging is rolled back, register and deploy are rerun, and a production deployment whose command
fails. The tests then read the registry back through ``MlflowClient`` and GitHub's deployments back through
the emulator, export versions from their releases, and serve one for real.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from mlops_actions.cli import main
from mlops_actions.commands import demo as d
from mlops_actions.errors import EXIT_INVALID, EXIT_OK
from mlops_actions.mlflow_bridge.heldout import held_out
from mlops_actions.mlflow_bridge.serving import free_port
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.handlers.deployments import deployment_event
from mlops_actions.testing.serving import served

pytestmark = pytest.mark.slow  # one real MLflow server for the module; its start and stop are most of the time

pytest.importorskip("mlflow")

SHIP_OK = ('test -f "$MLOPS_MODEL_DIR/MLmodel" && echo "building $MLOPS_TAG for $MLOPS_ENVIRONMENT" && '
           'echo "https://models.example/$MLOPS_MODEL/$MLOPS_VERSION" > "$MLOPS_ENVIRONMENT_URL_FILE"')
SHIP_FAIL = 'echo "pushing image"; echo "error: no credentials for registry.example" >&2; exit 3'


def _bin_path() -> str:
    return os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])


@pytest.fixture(scope="module")
def mlflow_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``mlflow server`` on a free loopback port, SQLite backend, local artifact store; stopped afterwards."""
    folder = tmp_path_factory.mktemp("mlflow-server")
    port = free_port()
    log = (folder / "server.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", f"sqlite:///{folder}/mlflow.db",
         "--artifacts-destination", str(folder / "artifacts"), "--host", "127.0.0.1", "--port", str(port),
         "--workers", "1"],
        cwd=folder, stdout=log, stderr=subprocess.STDOUT,
        env={**os.environ, "HOME": str(folder), "PATH": _bin_path(), "MLFLOW_TRACKING_URI": "",
             "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false"})  # no job runner processes: faster start
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_for(f"{url}/health", process, timeout=300)  # a loaded shared machine starts it slowly
        yield url
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(20)
        if process.poll() is None:
            process.kill()
        log.close()


def _wait_for(url: str, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, f"the server exited with {process.returncode}"
        with contextlib.suppress(urllib.error.URLError, OSError), urllib.request.urlopen(url, timeout=2) as answer:
            if answer.status == 200:
                return
        time.sleep(0.3)
    raise AssertionError(f"{url} did not answer within {timeout} s")


@dataclass
class Loop:
    story: Any
    gh: Any
    server: str
    scratch: Path
    predictions_v1: Path = Path()
    aliases: dict[str, dict[str, str]] = field(default_factory=dict)
    deployments: dict[str, int] = field(default_factory=dict)
    ship_codes: dict[str, int] = field(default_factory=dict)
    registry_before_rerun: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    registry_after_rerun: list[tuple[str, dict[str, str]]] = field(default_factory=list)

    @property
    def root(self) -> Path:
        return Path(self.story.root)

    def client(self) -> Any:
        from mlflow.tracking import MlflowClient

        return MlflowClient(tracking_uri=self.server, registry_uri=self.server)

    def env(self, **extra: str) -> dict[str, str]:
        return {**self.story.env(self.story.git("rev-parse", "HEAD")), **extra}

    def registry(self) -> list[tuple[str, dict[str, str]]]:
        versions = self.client().search_model_versions("name='arrests'")
        return sorted((str(v.version), dict(v.tags)) for v in versions)

    def snapshot(self, name: str) -> None:
        self.aliases[name] = dict(self.client().get_registered_model("arrests").aliases)


def _start(root: Path, stack: contextlib.ExitStack) -> Any:
    assert main(["init", str(root), "--example", "arrests"], env=dict(os.environ)) == EXIT_OK
    story = d.Story(root, None, main)
    story.git("init", "-q", "-b", "main")
    story.git("add", "-A")
    story.git("commit", "-q", "-m", "scaffold")
    story.gh = stack.enter_context(GitHubEmulator(users=d.USERS, repo_dir=root, repos=[d.REPO], strict=True))
    for team, member in (("ml-team", d.LEAD_A), ("ml-leads", d.LEAD_A), ("ml-leads", d.LEAD_B)):
        story.gh.add_team_member("your-org", team, member)
    return story


def _retrain(story: Any, branch: str, old: str, new: str) -> str:
    """A pull request that changes C, reviewed and merged; main trains and registers. The merge commit."""
    story.git("checkout", "-q", "-b", branch, "main")
    d._edit_spec(story, old, new)
    story.git("commit", "-q", "-am", f"arrests: {new}")
    number = d._open_pr(story, branch, f"Retrain arrests ({new})", ["models/arrests/model.yaml"])
    story.run("train", "arrests")
    story.run("report", "--base", "main", "--publish")
    story.gh.add_review(d.REPO, number, d.LEAD_A, "APPROVED", commit_id=story.git("rev-parse", branch))
    merge = d._merge(story, branch, number)
    shutil.rmtree(story.root / "mlops-out", ignore_errors=True)
    story.run("train", "arrests", sha=merge)
    story.run("register", sha=merge)
    return merge


def _promote(story: Any, env: str, version: str, approvals: tuple[str, ...], status: str = "success") -> None:
    branch = f"promote-{env}-{version}-{len(story.pulls)}"
    story.git("checkout", "-q", "-b", branch, "main")
    (story.root / f"environments/{env}.yaml").write_text(f"arrests: {version}\n", encoding="utf-8")
    story.git("commit", "-q", "-am", f"{env}: arrests {version}")
    number = d._open_pr(story, branch, f"arrests {version} to {env}", [f"environments/{env}.yaml"])
    for login in approvals:
        story.gh.add_review(d.REPO, number, login, "APPROVED", commit_id=story.git("rev-parse", branch))
    d._merge(story, branch, number)
    story.run("deploy", "--status", status)


def _newest_deployment(gh: Any, env: str) -> int:
    return max(x.id for x in gh.state.deployments.values() if x.environment == env)


def _ship(loop: Loop, env: str, command: str) -> int:
    deployment = _newest_deployment(loop.gh, env)
    event = loop.scratch / f"deployment-{deployment}.json"
    event.write_text(json.dumps(deployment_event(loop.gh.state, loop.gh.url, deployment)), encoding="utf-8")
    out = loop.scratch / f"ship-{deployment}" / "model"
    loop.deployments[env] = deployment
    return main(["-C", str(loop.root), "ship", "--run", command, "--out", str(out),
                 "--environment-url", "https://fallback.example"],
                env=loop.env(GITHUB_EVENT_PATH=str(event), GITHUB_EVENT_NAME="deployment"))


@pytest.fixture(scope="module")
def loop(mlflow_server: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Loop]:
    scratch = tmp_path_factory.mktemp("loop")
    with contextlib.ExitStack() as stack, pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", mlflow_server)
        patch.setenv("HOME", str(scratch))
        story = _start(scratch / "repo", stack)
        run = Loop(story, story.gh, mlflow_server, scratch)
        d._pull_request(story)  # PR #1: colour as a feature, trained (a run), reported
        d._second_push(story)  # balanced weights back, C 1.0 -> 0.25: the report passes
        d._approve_and_merge(story)  # main trains (a run) and registers arrests@v1 (registry version 1)
        run.predictions_v1 = scratch / "predictions-v1.parquet"
        shutil.copy(story.root / "mlops-out/arrests/predictions.parquet", run.predictions_v1)
        _promote(story, "staging", "v1", (d.LEAD_A,), status="queued")
        run.ship_codes["staging-v1"] = _ship(run, "staging", SHIP_OK)
        run.snapshot("staging v1")
        _retrain(story, "retrain-2", "C: 0.25", "C: 0.1")  # arrests@v2
        _promote(story, "staging", "v2", (d.LEAD_A,))
        run.snapshot("staging v2")
        _promote(story, "staging", "v1", (d.LEAD_A,))  # the rollback
        run.snapshot("rollback")
        run.registry_before_rerun = run.registry()
        story.run("register", sha=story.git("log", "-1", "--format=%H", "--grep", "retrain-2"))
        story.run("deploy")
        run.registry_after_rerun = run.registry()
        _promote(story, "production", "v1", (d.LEAD_A, d.LEAD_B), status="queued")
        run.ship_codes["production-v1"] = _ship(run, "production", SHIP_FAIL)
        yield run


# -- MLflow tracking and registry ----------------------------------------------------------------------


def test_train_logs_a_run_per_training(loop: Loop) -> None:
    client = loop.client()
    experiment = client.get_experiment_by_name("arrests")
    runs = client.search_runs([experiment.experiment_id])
    record = json.loads(loop.story.git("tag", "-l", "--format=%(contents)", "arrests@v1"))
    ours = [r for r in runs if r.data.tags.get("mlops.fingerprint") == record["fingerprint"]]
    assert ours, "the training of v1 on main logged no run"
    run = next(r for r in ours if r.data.tags.get("mlops.git_sha") == record["commit"])
    assert run.data.params["C"] == "0.25" and run.data.params["estimator"] == "sklearn.linear_model.LogisticRegression"
    assert run.data.metrics["accuracy"] == pytest.approx(record["metrics"]["accuracy"])
    assert run.data.metrics["fairness.demographic_parity_difference"] == pytest.approx(
        record["fairness"]["demographic_parity_difference"])
    assert json.loads(run.data.tags["mlops.data"]) == [{"path": e["path"], "hash": e["hash"]} for e in record["data"]]
    assert run.data.tags["mlops.artifact_sha256"] == record["artifact"]["sha256"]


def test_register_mirrors_each_version_with_its_tags(loop: Loop) -> None:
    versions = dict(loop.registry())
    assert sorted(versions) == ["1", "2"]
    for number, tags in versions.items():
        record = json.loads(loop.story.git("tag", "-l", "--format=%(contents)", f"arrests@v{number}"))
        assert tags["mlops.version"] == f"v{number}" and tags["mlops.tag"] == f"arrests@v{number}"
        assert tags["mlops.artifact_sha256"] == record["artifact"]["sha256"]
        assert tags["mlops.approvers"] == ",".join(a["login"] for a in record["approvers"])
        assert tags["mlops.pr"] == str(record["pr"]) and tags["mlops.commit"] == record["commit"]


def test_aliases_follow_promotion_and_rollback(loop: Loop) -> None:
    assert loop.aliases["staging v1"] == {"staging": "1"}
    assert loop.aliases["staging v2"] == {"staging": "2"}
    assert loop.aliases["rollback"] == {"staging": "1"}


def test_a_failed_deployment_moves_no_alias(loop: Loop) -> None:
    assert loop.client().get_registered_model("arrests").aliases == {"staging": "1"}


def test_a_rerun_of_register_and_deploy_changes_nothing(loop: Loop) -> None:
    assert loop.registry_after_rerun == loop.registry_before_rerun


def test_the_registry_version_loads_and_predicts_like_training(loop: Loop) -> None:
    import mlflow.pyfunc

    record = json.loads(loop.story.git("tag", "-l", "--format=%(contents)", "arrests@v1"))
    rows = held_out(loop.root, "arrests", record).frame
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_TRACKING_URI", loop.server)
        model = mlflow.pyfunc.load_model("models:/arrests@staging")
    assert list(model.predict(rows)) == list(pd.read_parquet(loop.predictions_v1)["y_pred"])
    assert model.metadata.saved_input_example_info is not None  # held-out rows, rebuilt at register
    assert model.metadata.metadata["mlops_actions"]["version"] == "v1"


# -- GitHub deployment statuses --------------------------------------------------------------------------


def _states(gh: Any, deployment: int) -> list[Any]:
    return sorted((s for s in gh.state.deployment_statuses.values() if s.deployment_id == deployment),
                  key=lambda s: s.id)


def test_ship_walks_the_status_machine_to_success(loop: Loop) -> None:
    assert loop.ship_codes["staging-v1"] == EXIT_OK
    statuses = _states(loop.gh, loop.deployments["staging"])
    assert [s.state for s in statuses][:3] == ["queued", "in_progress", "success"]
    success = statuses[2]
    assert success.environment_url == "https://models.example/arrests/v1"  # written by the command
    assert success.log_url.startswith("https://github.example/your-org/arrests/actions/runs/")


def test_a_newer_success_makes_the_earlier_deployment_inactive(loop: Loop) -> None:
    assert _states(loop.gh, loop.deployments["staging"])[-1].state == "inactive"


def test_a_failing_command_ends_in_failure_with_its_last_line(loop: Loop) -> None:
    assert loop.ship_codes["production-v1"] == EXIT_INVALID
    statuses = _states(loop.gh, loop.deployments["production"])
    assert [s.state for s in statuses] == ["queued", "in_progress", "failure"]
    assert "exited 3" in statuses[-1].description
    assert "no credentials for registry.example" in statuses[-1].description
    assert len(statuses[-1].description) <= 140


def test_history_shows_each_environments_last_deployment(loop: Loop, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["-C", str(loop.root), "history", "--format", "json"], env=loop.env()) == EXIT_OK
    last = {x["environment"]: x for x in json.loads(capsys.readouterr().out)["last_deployments"]}
    assert (last["staging"]["version"], last["staging"]["status"]) == ("v1", "active")
    assert (last["production"]["version"], last["production"]["status"]) == ("v1", "failed")
    assert main(["-C", str(loop.root), "history"], env=loop.env()) == EXIT_OK
    text = capsys.readouterr().out
    assert "last deployment per environment" in text and "failed" in text


def test_ship_ignores_a_deployment_that_is_not_a_version(loop: Loop, capsys: pytest.CaptureFixture[str]) -> None:
    event = json.loads((loop.scratch / f"deployment-{loop.deployments['staging']}.json").read_text())
    event["deployment"]["ref"] = "main"
    path = loop.scratch / "not-ours.json"
    path.write_text(json.dumps(event), encoding="utf-8")
    before = len(loop.gh.state.deployment_statuses)
    code = main(["-C", str(loop.root), "ship", "--run", "exit 1"],
                env=loop.env(GITHUB_EVENT_PATH=str(path), GITHUB_EVENT_NAME="deployment"))
    assert code == EXIT_OK and len(loop.gh.state.deployment_statuses) == before
    assert "not an mlops-actions deployment" in capsys.readouterr().out


# -- export and serve a version ----------------------------------------------------------------------------


def test_export_a_version_from_its_release(loop: Loop, tmp_path: Path) -> None:
    record = json.loads(loop.story.git("tag", "-l", "--format=%(contents)", "arrests@v2"))
    assert main(["-C", str(loop.root), "export", "arrests@v2", "--out", str(tmp_path / "v2")], env=loop.env()) == 0
    assert json.loads((tmp_path / "v2/record.json").read_text()) == record
    assert (tmp_path / "v2/model-card.md").read_text().startswith("#")
    assert main(["-C", str(loop.root), "export", "arrests@staging", "--out", str(tmp_path / "s")], env=loop.env()) == 0
    assert json.loads((tmp_path / "s/record.json").read_text())["version"] == "v1"  # after the rollback


def _asset(gh: Any, tag: str, name: str) -> Any:
    release = next(r for r in gh.state.releases.values() if r.tag_name == tag)
    return next(a for a in gh.state.assets.values() if a.release_id == release.id and a.name == name)


def test_an_asset_whose_bytes_differ_is_refused(loop: Loop, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    import base64
    import hashlib

    asset = _asset(loop.gh, "arrests@v2", "model.skops")
    original = asset.data
    changed = bytearray(base64.b64decode(original))
    changed[len(changed) // 2] ^= 0xFF
    changed = bytes(changed)
    asset.data = base64.b64encode(changed).decode()
    try:
        code = main(["-C", str(loop.root), "export", "arrests@v2", "--out", str(tmp_path / "m")], env=loop.env())
    finally:
        asset.data = original
    err = capsys.readouterr().err
    record = json.loads(loop.story.git("tag", "-l", "--format=%(contents)", "arrests@v2"))
    assert code == EXIT_INVALID and not (tmp_path / "m").exists()
    assert hashlib.sha256(changed).hexdigest() in err and record["artifact"]["sha256"] in err


def test_a_deleted_asset_is_refused(loop: Loop, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    asset = _asset(loop.gh, "arrests@v2", "model.skops")
    del loop.gh.state.assets[asset.id]
    try:
        code = main(["-C", str(loop.root), "export", "arrests@v2", "--out", str(tmp_path / "m")], env=loop.env())
    finally:
        loop.gh.state.assets[asset.id] = asset
    assert code == EXIT_INVALID
    assert "has no asset model.skops (deleted?)" in capsys.readouterr().err


def test_serve_answers_with_exactly_the_training_predictions(loop: Loop) -> None:
    with served("arrests@v1", root=loop.root, env=loop.env()) as server:
        assert server.get("/health") == 200 and server.get("/ping") == 200
        record = json.loads(loop.story.git("tag", "-l", "--format=%(contents)", "arrests@v1"))
        rows = held_out(loop.root, "arrests", record).frame
        status, answer = server.invoke({"dataframe_split": rows.to_dict(orient="split", index=False)})
        assert status == 200
        assert answer["predictions"] == list(pd.read_parquet(loop.predictions_v1)["y_pred"])
        status, answer = server.invoke(b'{"rows": [1, 2]}')
        assert status == 400 and answer["error_code"] == "BAD_REQUEST"
        busy = subprocess.run([sys.executable, "-m", "mlops_actions", "-C", str(loop.root), "serve", "arrests@v1",
                               "--port", str(server.port)], env=loop.env(), capture_output=True, text=True,
                              timeout=120)
        assert busy.returncode == EXIT_INVALID and f"port {server.port} on 127.0.0.1 is in use" in busy.stderr


def test_ship_ends_in_error_when_the_version_cannot_be_prepared(loop: Loop,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    from mlops_actions.github import ClientConfig, GitHubRepo
    from mlops_actions.github.values import DeploymentRequest

    gh = GitHubRepo.open(ClientConfig(api_url=loop.gh.url, token="demo-bot-token", repository=d.REPO,
                                      seconds_between_writes=None))
    record = json.loads(loop.story.git("tag", "-l", "--format=%(contents)", "arrests@v2"))
    made = gh.create_deployment(DeploymentRequest("arrests@v2", "qa", payload=record))
    gh.set_deployment_status(made.id, "queued")
    asset = _asset(loop.gh, "arrests@v2", "model.skops")
    del loop.gh.state.assets[asset.id]
    try:
        code = _ship(loop, "qa", SHIP_OK)
    finally:
        loop.gh.state.assets[asset.id] = asset
    statuses = _states(loop.gh, made.id)
    assert code == EXIT_INVALID and "Traceback" not in capsys.readouterr().err
    assert [s.state for s in statuses] == ["queued", "in_progress", "error"]
    assert statuses[-1].description.startswith("not deployed: the release of arrests@v2 has no asset model.skops")
