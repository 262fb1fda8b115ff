"""Deployments, deployment statuses (with auto-inactive), environments."""

from __future__ import annotations

from typing import Any

from ..api import Call, Reply, invalid, not_found, paginate
from ..server import route
from ..state import Deployment, DeploymentStatus, Environment, now_iso

STATUS_STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")


def create_deployment(call: Call) -> Reply:
    ref = call.field("ref", str, resource="Deployment")
    git = call.state.git[call.full_name]
    candidates = (f"refs/heads/{ref}", f"refs/tags/{ref}", ref)
    sha = next((found for name in candidates if (found := git.resolve(name)) is not None), None)
    if sha is None:
        raise invalid("Deployment", "ref", "invalid", f"No ref found for: {ref}")
    environment = call.field("environment", str, "production", "Deployment")
    deployment = Deployment(
        call.full_name, call.state.next_id(), ref, _peel(call, sha), call.login, environment,
        call.field("task", str, "deploy", "Deployment"), call.field("description", (str, type(None)), None),
        call.field("payload", (dict, str), {}, "Deployment"),
        call.field("transient_environment", bool, False, "Deployment"),
        call.field("production_environment", bool, environment == "production", "Deployment"),
    )  # fmt: skip
    call.state.deployments[deployment.id] = deployment
    return Reply(201, call.render.deployment(deployment))


def _peel(call: Call, sha: str) -> str:
    git = call.state.git[call.full_name]
    while (tag := git.tag(sha)) is not None:
        sha = tag.object_sha
    return sha


def list_deployments(call: Call) -> Reply:
    filters = {key: call.query[key] for key in ("sha", "ref", "task", "environment") if key in call.query}
    found = [d for d in call.state.deployments.values() if d.repo == call.full_name
             and all(getattr(d, key) == value for key, value in filters.items())]  # fmt: skip
    found.sort(key=lambda d: -d.id)
    return paginate(call, found, call.render.deployment)


def find_deployment(call: Call) -> Deployment:
    found = call.state.deployments.get(call.int_param("deployment_id"))
    if found is None or found.repo != call.full_name:
        raise not_found()
    return found


def get_deployment(call: Call) -> Reply:
    return Reply(200, call.render.deployment(find_deployment(call)))


def create_status(call: Call) -> Reply:
    deployment = find_deployment(call)
    state = call.field("state", str, resource="DeploymentStatus")
    if state not in STATUS_STATES:
        raise invalid("DeploymentStatus", "state")
    status = DeploymentStatus(
        deployment.repo, deployment.id, call.state.next_id(), state, call.login,
        call.field("description", str, "", "DeploymentStatus")[:140],
        call.field("environment", str, deployment.environment, "DeploymentStatus"),
        call.field("environment_url", str, "", "DeploymentStatus"), call.field("log_url", str, "", "DeploymentStatus"),
        call.field("target_url", str, "", "DeploymentStatus"),
    )  # fmt: skip
    call.state.deployment_statuses[status.id] = status
    deployment.updated_at = status.created_at
    if state == "success" and call.field("auto_inactive", bool, True, "DeploymentStatus"):
        _inactivate_others(call, deployment)
    return Reply(201, call.render.deployment_status(status))


def _inactivate_others(call: Call, current: Deployment) -> None:
    for other in list(call.state.deployments.values()):
        same = other.repo == current.repo and other.environment == current.environment and other.id != current.id
        if same and not other.transient_environment and _latest_state(call, other.id) == "success":
            status = DeploymentStatus(other.repo, other.id, call.state.next_id(), "inactive", call.login,
                                      environment=other.environment)  # fmt: skip
            call.state.deployment_statuses[status.id] = status


def _latest_state(call: Call, deployment_id: int) -> str | None:
    statuses = [s for s in call.state.deployment_statuses.values() if s.deployment_id == deployment_id]
    return max(statuses, key=lambda s: s.id).state if statuses else None


def list_statuses(call: Call) -> Reply:
    deployment = find_deployment(call)
    found = sorted((s for s in call.state.deployment_statuses.values() if s.deployment_id == deployment.id),
                   key=lambda s: -s.id)  # fmt: skip
    return paginate(call, found, call.render.deployment_status)


def list_environments(call: Call) -> Reply:
    found = sorted((e for e in call.state.environments.values() if e.repo == call.full_name), key=lambda e: e.name)
    page = paginate(call, found, call.render.environment)
    page.body = {"total_count": len(found), "environments": page.body}
    return page


def get_environment(call: Call) -> Reply:
    found = call.state.environments.get((call.full_name, call.params["environment_name"]))
    if found is None:
        raise not_found()
    return Reply(200, call.render.environment(found))


def put_environment(call: Call) -> Reply:
    name = call.params["environment_name"]
    body = call.json if isinstance(call.json, dict) else {}
    key = (call.full_name, name)
    environment = call.state.environments.get(key) or Environment(call.full_name, name, call.state.next_id())
    _apply_environment(call, environment, body)
    environment.updated_at = now_iso()
    call.state.environments[key] = environment
    return Reply(200, call.render.environment(environment))


def _apply_environment(call: Call, environment: Environment, body: dict[str, Any]) -> None:
    wait = body.get("wait_timer", environment.wait_timer)
    if not isinstance(wait, int) or not 0 <= wait <= 43200:
        raise invalid("Environment", "wait_timer")
    reviewers = body.get("reviewers", environment.reviewers) or []
    if len(reviewers) > 6 or any(not isinstance(r, dict) or r.get("type") not in ("User", "Team") for r in reviewers):
        raise invalid("Environment", "reviewers")
    environment.wait_timer, environment.reviewers = wait, list(reviewers)
    if "deployment_branch_policy" in body:
        environment.deployment_branch_policy = body["deployment_branch_policy"]


ROUTES = [
    route("POST", "/repos/{owner}/{repo}/deployments", create_deployment),
    route("GET", "/repos/{owner}/{repo}/deployments", list_deployments),
    route("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}", get_deployment),
    route("POST", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", create_status),
    route("GET", "/repos/{owner}/{repo}/deployments/{deployment_id}/statuses", list_statuses),
    route("GET", "/repos/{owner}/{repo}/environments", list_environments),
    route("GET", "/repos/{owner}/{repo}/environments/{environment_name}", get_environment),
    route("PUT", "/repos/{owner}/{repo}/environments/{environment_name}", put_environment, "admin"),
]


WEBHOOK = "deployment.created.1.json"


def deployment_event(state: Any, base_url: str, deployment_id: int) -> dict[str, Any]:
    """The ``deployment`` webhook payload GitHub sends for deployment ``deployment_id``: GitHub's own example
    payload (``reference/webhooks``), with its ``deployment`` and repository names from the emulator."""
    import json
    from pathlib import Path

    from ..render import Renderer

    payload = json.loads((Path(__file__).parents[1] / "reference" / "webhooks" / WEBHOOK).read_text("utf-8"))
    with state.lock:
        deployment = state.deployments[deployment_id]
        payload["deployment"] = Renderer(state, base_url).deployment(deployment)
    owner, name = deployment.repo.split("/", 1)
    payload["repository"].update(name=name, full_name=deployment.repo)
    payload["repository"]["owner"]["login"] = owner
    return payload
