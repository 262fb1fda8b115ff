"""Check runs, releases and deployments through the GitHub layer, against the emulator."""

from __future__ import annotations

import pytest

from mlops_actions.errors import GitHubError
from mlops_actions.github.values import Annotation, AssetFile, CheckRun, DeploymentRequest
from testkit.github_helpers import REPO, calls, client, emulator, payload

HEAD = payload("pull_request.opened.1.json")["pull_request"]["head"]["sha"]


# check runs --------------------------------------------------------------------------------------------


def test_check_run_with_120_annotations_in_batches_of_50() -> None:
    notes = [Annotation("models/churn/model.yaml", i, f"problem {i}", "warning") for i in range(1, 121)]
    with emulator() as gh:
        run = CheckRun("mlops / report", HEAD, conclusion="failure", title="2 gates failed",
                       summary="## Gates\n- auc: failed", annotations=tuple(notes))
        result = client(gh).check_run(run)
        assert result.kind == "check_run" and result.conclusion == "failure"
        writes = [c for c in calls(gh) if not c.startswith("GET")]
        assert writes == [f"POST /repos/{REPO}/check-runs 201",
                          f"PATCH /repos/{REPO}/check-runs/{result.id} 200",
                          f"PATCH /repos/{REPO}/check-runs/{result.id} 200"]
        [run] = gh.state.check_runs.values()
        assert (run.status, run.conclusion, run.output["title"]) == ("completed", "failure", "2 gates failed")
        assert [a["start_line"] for a in run.annotations] == list(range(1, 121))


def test_check_run_update_by_id() -> None:
    with emulator() as gh:
        repo = client(gh)
        made = repo.check_run(CheckRun("mlops", HEAD, conclusion="neutral", title="t", summary="s"))
        again = repo.check_run(CheckRun("mlops", HEAD, conclusion="success", title="t2", summary="s2"),
                               run_id=made.id)
        assert again.id == made.id and len(gh.state.check_runs) == 1
        assert gh.state.check_runs[made.id].conclusion == "success"


def test_check_run_falls_back_to_a_commit_status_when_checks_are_forbidden() -> None:
    fault = {"method": "POST", "path": f"/repos/{REPO}/check-runs", "status": 403,
             "message": "Resource not accessible by integration"}
    with emulator(faults=[fault]) as gh:
        run = CheckRun("mlops / report", HEAD, conclusion="failure", title="auc below 0.8", summary="details")
        result = client(gh).check_run(run)
        assert result.kind == "status"
        [status] = gh.state.statuses.values()
        assert (status.context, status.state, status.description) == ("mlops / report", "failure",
                                                                      "auc below 0.8")


def test_read_only_token_cannot_write_checks_or_statuses() -> None:
    with emulator() as gh, pytest.raises(GitHubError, match=r"lacks `checks: write \(or at least statuses"):
        client(gh, token="reader-token").check_run(CheckRun("mlops", HEAD, conclusion="success", title="t",
                                                            summary="s"))


def test_check_run_summary_over_the_limit_is_never_sent() -> None:
    with emulator() as gh:
        with pytest.raises(GitHubError, match="was not sent"):
            client(gh).check_run(CheckRun("mlops", HEAD, conclusion="success", title="t", summary="x" * 65_536))
        assert gh.requests == []


def test_check_run_text_holds_up_to_its_own_limit_and_is_never_sent_beyond() -> None:
    with emulator() as gh:
        repo = client(gh)
        with pytest.raises(GitHubError, match="check run text is 65,536 characters"):
            repo.check_run(CheckRun("mlops", HEAD, conclusion="success", title="t", summary="s",
                                    text="x" * 65_536))
        assert gh.requests == []
        made = repo.check_run(CheckRun("mlops", HEAD, conclusion="success", title="t", summary="s" * 65_535,
                                       text="x" * 65_535))
        output = gh.state.check_runs[made.id].output
        assert len(output["summary"]) == len(output["text"]) == 65_535


def test_lost_check_run_create_is_found_again_by_its_external_id() -> None:
    with emulator(faults=[{"method": "POST", "path": f"/repos/{REPO}/check-runs", "status": "drop"}]) as gh:
        result = client(gh).check_run(CheckRun("mlops", HEAD, conclusion="success", title="t", summary="s"))
        assert len(gh.state.check_runs) == 1 and result.id in gh.state.check_runs


# releases ----------------------------------------------------------------------------------------------


def _tagged(gh) -> None:  # a tag to release: releases need one
    client(gh).create_annotated_tag("churn@v1", "record\n", HEAD)


def test_release_created_once_and_asset_uploaded_once() -> None:
    with emulator() as gh:
        _tagged(gh)
        repo = client(gh)
        rel = repo.release("churn@v1", name="churn v1", body="model card")
        assert repo.release("churn@v1", name="other", body="other").id == rel.id
        first = repo.upload_asset(rel, AssetFile("model.skops", b"\x00weights" * 100))
        posts_before = sum(c.startswith("POST") for c in calls(gh))
        second = repo.upload_asset(rel, AssetFile("model.skops", b"\x00weights" * 100))
        assert second.id == first.id
        assert sum(c.startswith("POST") for c in calls(gh)) == posts_before  # skipped: same name and size
        assert repo.download_asset(first) == b"\x00weights" * 100
        with pytest.raises(GitHubError, match="never replaced"):
            repo.upload_asset(rel, AssetFile("model.skops", b"different"))


def test_lost_release_create_and_upload_are_not_repeated() -> None:
    faults = [{"method": "POST", "path": f"/repos/{REPO}/releases", "status": "drop"},
              {"method": "POST", "path": "*/assets", "status": "drop"}]
    with emulator(faults=faults) as gh:
        _tagged(gh)
        repo = client(gh)
        rel = repo.release("churn@v1", name="churn v1", body="card")
        repo.upload_asset(rel, AssetFile("metrics.json", b"{}"))
        assert len(gh.state.releases) == 1 and len(gh.state.assets) == 1


# deployments -------------------------------------------------------------------------------------------


def test_deployment_with_statuses_and_listing() -> None:
    with emulator() as gh:
        repo = client(gh)
        made = repo.create_deployment(DeploymentRequest(HEAD, "production",
                                                        payload={"model": "churn", "version": "v4"},
                                                        description="churn@v4"))
        assert (made.environment, made.payload) == ("production", {"model": "churn", "version": "v4"})
        repo.set_deployment_status(made.id, "in_progress")
        repo.set_deployment_status(made.id, "success", description="live")
        [listed] = repo.deployments("production")
        assert listed.id == made.id and listed.latest_status.state == "success"
        assert repo.deployments("staging") == ()
        created = gh.requests[[r.method for r in gh.requests].index("POST")].body
        assert created["auto_merge"] is False and created["required_contexts"] == []


def test_lost_deployment_create_is_found_again() -> None:
    with emulator(faults=[{"method": "POST", "path": f"/repos/{REPO}/deployments", "status": "drop"}]) as gh:
        made = client(gh).create_deployment(DeploymentRequest(HEAD, "production",
                                                                payload={"model": "churn", "version": "v4"}))
        assert list(gh.state.deployments) == [made.id]


def test_read_only_token_cannot_deploy() -> None:
    with emulator() as gh, pytest.raises(GitHubError, match="lacks `deployments: write`"):
        client(gh, token="reader-token").create_deployment(DeploymentRequest(HEAD, "production", payload={}))


def test_environment_names() -> None:
    from mlops_actions.testing.github_emulator.state import Environment

    with emulator() as gh:
        assert client(gh).environments() == ()
        for n, name in enumerate(("staging", "production")):
            gh.state.environments[(REPO, name)] = Environment(REPO, name, 5000 + n)
        assert client(gh).environments() == ("production", "staging")
