"""Deployments, their statuses, and the repository's environments."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from github.Deployment import Deployment as GhDeployment
from github.DeploymentStatus import DeploymentStatus as GhDeploymentStatus

from mlops_actions.github.client import Session, raw
from mlops_actions.github.errors import Op
from mlops_actions.github.values import Deployment, DeploymentRequest, DeploymentStatus

STATES = ("error", "failure", "inactive", "in_progress", "queued", "pending", "success")


def status_from_json(data: Mapping[str, Any]) -> DeploymentStatus:
    return DeploymentStatus(id=int(data["id"]), state=str(data.get("state", "")),
                            description=str(data.get("description") or ""),
                            environment_url=str(data.get("environment_url") or ""),
                            log_url=str(data.get("log_url") or ""), created_at=data.get("created_at"),
                            creator=(data.get("creator") or {}).get("login"))


def deployment_from_json(data: Mapping[str, Any], latest: DeploymentStatus | None = None) -> Deployment:
    return Deployment(id=int(data["id"]), ref=str(data.get("ref", "")), sha=str(data.get("sha", "")),
                      environment=str(data.get("environment", "")), payload=data.get("payload") or {},
                      description=str(data.get("description") or ""), created_at=data.get("created_at"),
                      creator=(data.get("creator") or {}).get("login"), latest_status=latest)


def latest_status(session: Session, deployment_id: int) -> DeploymentStatus | None:
    op = Op(f"read the statuses of deployment {deployment_id}", f"deployment {deployment_id}",
            "deployments: read")
    statuses = session.paginate(GhDeploymentStatus, f"/deployments/{deployment_id}/statuses",
                                {"per_page": 1})
    return session.retrier.call(op, lambda: next((status_from_json(raw(s)) for s in itertools.islice(statuses, 1)),
                                                 None))


def deployments(session: Session, environment: str, limit: int = 20,
                more: Callable[[Sequence[Deployment]], bool] | None = None) -> tuple[Deployment, ...]:
    """The ``limit`` newest deployments to ``environment``, newest first, each with its latest status; then,
    page after page, older ones for as long as ``more(found so far)`` says (a thousand models' current state
    lies deeper than any fixed number)."""
    op = Op(f"list the deployments to {environment}", f"environment {environment}", "deployments: read")
    pages = session.paginate(GhDeployment, "/deployments", {"environment": environment})
    listed = iter(pages)
    found: list[Deployment] = []
    while len(found) < limit or (more is not None and more(found)):
        data = session.retrier.call(op, lambda: next((raw(d) for d in listed), None))
        if data is None:
            break
        found.append(deployment_from_json(data, latest_status(session, int(data["id"]))))
    return tuple(found)


def _newest(session: Session, environment: str, limit: int) -> list[dict[str, Any]]:
    pages = session.paginate(GhDeployment, "/deployments", {"environment": environment})
    return [raw(d) for d in itertools.islice(pages, limit)]


def create_deployment(session: Session, request: DeploymentRequest) -> Deployment:
    """Create the deployment ``request`` asks for (never auto-merged); a lost create is found again, not repeated."""
    ref, environment = request.ref, request.environment
    body: dict[str, Any] = {"ref": ref, "environment": environment, "payload": dict(request.payload),
                            "description": request.description, "required_contexts": list(request.required_contexts),
                            "auto_merge": False, "transient_environment": request.transient}
    if request.production is not None:
        body["production_environment"] = request.production
    before = _newest_id(session, environment)
    op = Op(f"create a deployment of {ref} to {environment}", f"environment {environment}",
            "deployments: write", write=True)

    def recover() -> Deployment | None:
        return next((deployment_from_json(d) for d in _newest(session, environment, 10)
                     if int(d["id"]) > before and d.get("ref") == ref and d.get("payload") == body["payload"]),
                    None)

    data = session.retrier.call(op, lambda: session.request("POST", "/deployments", body=body), recover=recover)
    return data if isinstance(data, Deployment) else deployment_from_json(data)


def _newest_id(session: Session, environment: str) -> int:
    op = Op(f"list the deployments to {environment}", f"environment {environment}", "deployments: read")
    newest = session.retrier.call(op, lambda: _newest(session, environment, 1))
    return int(newest[0]["id"]) if newest else 0


def set_deployment_status(session: Session, deployment_id: int, state: str, *, description: str = "",
                          environment_url: str = "", log_url: str = "") -> DeploymentStatus:
    """Add a status to a deployment; a lost write is not repeated when the latest status already says so."""
    if state not in STATES:
        raise ValueError(f"deployment state {state!r} is not one of {', '.join(STATES)}")
    body = {"state": state, "description": description[:140], "auto_inactive": True}
    for key, value in (("environment_url", environment_url), ("log_url", log_url)):
        if value:
            body[key] = value
    op = Op(f"set deployment {deployment_id} to {state}", f"deployment {deployment_id}", "deployments: write",
            write=True)

    def recover() -> DeploymentStatus | None:
        latest = latest_status(session, deployment_id)
        same = latest is not None and latest.state == state and latest.description == body["description"]
        return latest if same else None

    data = session.retrier.call(op, lambda: session.request(
        "POST", f"/deployments/{deployment_id}/statuses", body=body), recover=recover)
    return data if isinstance(data, DeploymentStatus) else status_from_json(data)


def environment_names(session: Session) -> tuple[str, ...]:
    """Names of the repository's environments (GitHub's environment settings, not our files)."""
    op = Op("list the repository's environments", "the repository's environments", "actions: read")
    return session.retrier.call(op, lambda: tuple(str(raw(e)["name"]) for e in session.repo.get_environments()))
