"""``mlops-actions ship --run COMMAND``: carry out the GitHub Deployment this run was started for.

On the ``deployment`` event (the reusable workflow ``mlops-deploy.yml``): the deployment's status becomes
``in_progress``; the version's artifact is downloaded from its release and verified against the version
record of its tag (not the deployment's payload, which anyone with deployments: write could set); it is
exported as an MLflow model; the team's deploy command runs on it; then the status is ``success`` with
``environment_url`` and ``log_url``, or ``failure`` with the command's last line (the last lines are in the
log and the job summary), or ``error`` when the version could not even be prepared. GitHub then marks the
environment's earlier successful deployments ``inactive``.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, InputError, MlopsError, UsageError
from mlops_actions.registry.tag import parse_tag
from mlops_actions.reporting.deploy import deployed_summary, failure_summary

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort
    from mlops_actions.mlflow_bridge.exporting import ExportRun
    from mlops_actions.mlflow_bridge.tracking import Mirror

DESCRIPTION_LIMIT = 140
DONE = ("success", "inactive")  # a deployment already live: nothing to carry out (failure and error are retried)


@dataclass(frozen=True)
class ShipOptions:
    command: str
    out: Path  # a new or empty folder for the exported model
    environment_url: str = ""
    run_url: str | None = None
    mirror: Mirror | None = None  # the MLflow mirror, when configured: the alias <environment> follows a success


@dataclass(frozen=True)
class Requested:
    """What the deployment event asks for."""

    deployment_id: int
    tag: str
    model: str
    version: str
    environment: str
    payload: Mapping[str, Any]


def requested(event: Mapping[str, Any]) -> Requested | None:
    """The deployment of the event; None when its ref is not a version tag (not ours to carry out)."""
    deployment = event.get("deployment")
    if not isinstance(deployment, Mapping) or not isinstance(deployment.get("id"), int):
        raise UsageError("ship runs on the `deployment` event: GITHUB_EVENT_PATH holds no deployment",
                         hint="call it from a workflow `on: deployment` (the reusable mlops-deploy.yml)")
    ref = str(deployment.get("ref") or "")
    parsed = parse_tag(ref)
    if parsed is None:
        return None
    given = deployment.get("payload")
    payload = given if isinstance(given, Mapping) else {}
    return Requested(int(deployment["id"]), ref, parsed[0], f"v{parsed[1]}", str(deployment.get("environment")),
                     payload)


def ship(root: Path, gh: GitHubPort, options: ShipOptions, *, runtime: ActionsRuntime) -> int:
    wanted = requested(gh.context.event)
    if wanted is None:
        print(f"ship: the deployment's ref {gh.context.event['deployment'].get('ref')!r} is not a version tag "
              "<model>@v<N>; not an mlops-actions deployment, nothing to do")
        return EXIT_OK
    latest = gh.latest_deployment_status(wanted.deployment_id)
    if latest is not None and latest.state in DONE:
        print(f"ship: deployment {wanted.deployment_id} of {wanted.tag} is already {latest.state}; nothing to do "
              "(create deployments with `deploy --status queued` for this workflow to carry them out)")
        return EXIT_OK
    _status(gh, wanted, "in_progress", f"preparing {wanted.tag}", options)
    try:
        run = _prepare(root, gh, wanted, options)
    except MlopsError as exc:
        _status(gh, wanted, "error", f"not deployed: {exc.message}", options)
        raise
    return _carry_out(root, gh, wanted, run, options, runtime)


def _prepare(root: Path, gh: GitHubPort, wanted: Requested, options: ShipOptions) -> ExportRun:
    from mlops_actions.mlflow_bridge.exporting import export_to

    run = export_to(root, wanted.tag, out=options.out, gh=gh, cwd=root)
    shown = (wanted.payload.get("artifact") or {}).get("sha256") if isinstance(wanted.payload, Mapping) else None
    if shown and shown != run.source.sha256:
        raise InputError(f"the deployment's payload names artifact sha256 {shown}, but the record of {wanted.tag} "
                         f"names {run.source.sha256}; refusing to deploy",
                         hint="deployments are created by `mlops-actions deploy`, whose payload is the version record")
    print(f"ship: {wanted.tag} exported to {run.result.path} (artifact sha256 {run.source.sha256})", flush=True)
    return run


def _carry_out(root: Path, gh: GitHubPort, wanted: Requested, run: ExportRun, options: ShipOptions,
               runtime: ActionsRuntime) -> int:
    from mlops_actions.mlflow_bridge.shipping import command_env, inherited_env, run_command, url_file

    url_path = url_file(options.out.parent)
    values = {"model_dir": str(run.result.path), "model": wanted.model, "version": wanted.version,
              "tag": wanted.tag, "environment": wanted.environment, "deployment_id": str(wanted.deployment_id),
              "artifact_sha256": run.source.sha256, "environment_url_file": str(url_path),
              "python": sys.executable}
    print(f"ship: running the deploy command for {wanted.tag} -> {wanted.environment}", flush=True)
    outcome = run_command(options.command, cwd=root, env=command_env(inherited_env(), values), url_file=url_path)
    if outcome.code == 0:
        url = outcome.environment_url or options.environment_url
        _status(gh, wanted, "success", f"{wanted.tag} deployed to {wanted.environment}", options, url)
        print(f"ship: {wanted.tag} is live in {wanted.environment}" + (f" at {url}" if url else ""))
        if options.mirror is not None:
            options.mirror.move_aliases([{"environment": wanted.environment, "model": wanted.model,
                                          "version": wanted.version}])
        runtime.append_summary(deployed_summary(wanted.tag, wanted.environment, url))
        return EXIT_OK
    _status(gh, wanted, "failure", f"deploy command exited {outcome.code}: {outcome.last_line}", options)
    print(f"ship: the deploy command exited {outcome.code}; its last lines:", file=sys.stderr)
    for line in outcome.tail:
        print(f"  {line}", file=sys.stderr)
    runtime.append_summary(failure_summary(wanted.tag, wanted.environment, outcome.code, outcome.tail))
    return EXIT_INVALID


def _status(gh: GitHubPort, wanted: Requested, state: str, description: str, options: ShipOptions,
            url: str = "") -> None:
    text = " ".join(description.split())
    if len(text) > DESCRIPTION_LIMIT:
        text = text[:DESCRIPTION_LIMIT - 1] + "…"
    gh.set_deployment_status(wanted.deployment_id, state, description=text, environment_url=url,
                             log_url=options.run_url or "")
