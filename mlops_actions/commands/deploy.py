"""``mlops-actions deploy``: on push to main touching environments/, deploy what the files now say.

Desired state is ``environments/<env>.yaml`` at HEAD; current state is the newest successful GitHub
Deployment per environment and model. Each change needs: a merged PR that made it, the approvals the
policy requires for that environment, an existing, valid version whose gates passed, and the environment
order. Any refusal creates nothing, fails the check and comments on the PR with exactly what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import ENVIRONMENTS_DIR
from mlops_actions.convention.model import EnvironmentPolicy, Policy
from mlops_actions.convention.schemas import ENVIRONMENT
from mlops_actions.convention.validation import load_policy, load_valid
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, InputError, Place
from mlops_actions.gitio import Git
from mlops_actions.registry import people
from mlops_actions.registry.approvals import decide
from mlops_actions.registry.promotion import Change, Deployed, changes, current_state, order_problem, read_deployments
from mlops_actions.registry.records import parse_record
from mlops_actions.reporting.markdown import md_cell

DEPLOY_MARKER = "mlops-actions:deploy"
CHECK_NAME = "mlops-actions deploy"


@dataclass(frozen=True)
class DeployOptions:
    sha: str
    run_url: str | None = None
    status: str = "success"


@dataclass(frozen=True)
class Planned:
    change: Change
    pr: Any
    record: Mapping[str, Any] | None
    problems: tuple[str, ...]


def deploy(root: Path, gh: Any, options: DeployOptions, *, runtime: ActionsRuntime, mirror: Any = None) -> int:
    policy = load_policy(root)
    history = read_deployments(gh, [env.name for env in policy.environments])
    current = {env: current_state(found) for env, found in history.items()}
    todo = changes(desired_state(root, policy), current, [e.name for e in policy.environments])
    if not todo:
        print("deploy: every environment already runs what its file says; nothing to deploy")
        runtime.set_output("deployments", "[]")
        return EXIT_OK
    planned = [_plan(root, gh, policy, c, history, options.sha) for c in todo]
    if any(p.problems for p in planned):
        return _refuse(gh, planned, options, runtime)
    made = [_create(gh, policy, p, options) for p in planned]
    runtime.set_output("deployments", json.dumps(made, sort_keys=True))
    if mirror is not None and options.status == "success":  # MLflow: alias <environment> -> what runs there
        mirror.move_aliases(made)
    return EXIT_OK


def desired_state(root: Path, policy: Policy) -> dict[str, dict[str, str]]:
    """environment → model → version, from the environment files at HEAD (each must be valid)."""
    state: dict[str, dict[str, str]] = {}
    for env in policy.environments:
        relpath = f"{ENVIRONMENTS_DIR}/{env.name}.yaml"
        if not (root / relpath).is_file():
            continue
        data = load_valid(root, relpath, ENVIRONMENT)
        if data is None:
            raise InputError("invalid environment file; nothing was deployed", place=Place(relpath),
                             hint=f"run `mlops-actions validate {relpath}` to see the problems")
        state[env.name] = {str(k): str(v) for k, v in data.items()}
    return state


def _plan(root: Path, gh: Any, policy: Policy, change: Change, history: Mapping[str, Sequence[Deployed]],
          sha: str) -> Planned:
    env = policy.environment(change.environment) or EnvironmentPolicy(change.environment)
    pr = _pr_of(root, gh, change.environment, sha)
    problems: list[str] = []
    if pr is None or not pr.merged:
        problems.append("no merged pull request made this change; environments change only through reviewed PRs")
    else:
        problems += _approval_problems(gh, env, pr, change.environment, _before_merge(root, pr))
    record, version_problem = _version(gh, change)
    if version_problem:
        problems.append(version_problem)
    order = order_problem(change, env.requires, history)
    if order:
        problems.append(order)
    return Planned(change, pr, record, tuple(problems))


def _pr_of(root: Path, gh: Any, environment: str, sha: str) -> Any:
    """The PR that last changed ``environments/<env>.yaml`` (the pushed merge's PR when it did)."""
    path = f"{ENVIRONMENTS_DIR}/{environment}.yaml"
    commit = Git(root).text("log", "-1", "--format=%H", sha, "--", path) or sha
    return gh.pr_for_commit(commit) or gh.pr_for_commit(sha)


def _before_merge(root: Path, pr: Any) -> str:
    """The base as it was before the merge (its first parent), so a PR cannot name its own CODEOWNERS."""
    before = Git(root).commit_of(f"{pr.merge_commit_sha}^1") if pr.merge_commit_sha else None
    return before or pr.base_ref


def _approval_problems(gh: Any, env: EnvironmentPolicy, pr: Any, environment: str, codeowners_ref: str) -> list[str]:
    lookups = people.lookups(gh, env.approvals, pr_number=pr.number, codeowners_ref=codeowners_ref,
                             paths=[f"{ENVIRONMENTS_DIR}/{environment}.yaml"])
    decision = decide(people.votes(gh.reviews(pr.number)), env.approvals, author=pr.author,
                      head_sha=pr.head_sha, lookups=lookups, merged_by=pr.merged_by)
    if decision.approved:
        return []
    return [f"approvals for {environment}: {r}" for r in decision.reasons] + \
        [f"not counted: {n}" for n in decision.not_counted]


def _version(gh: Any, change: Change) -> tuple[Mapping[str, Any] | None, str | None]:
    info = gh.tag(change.tag)
    if info is None:
        return None, f"version {change.tag} does not exist (no such tag); register it first"
    number = int(change.version[1:])
    record, problem = (parse_record(info.message, change.model, number) if info.annotated
                       else (None, "it is a lightweight tag, not a version record"))
    if record is None:
        return None, f"version {change.tag} has an invalid record and is not trusted: {problem}"
    if (record.get("gates") or {}).get("verdict") == "fail":
        return record, f"version {change.tag} failed its gates when registered"
    return record, None


def _create(gh: Any, policy: Policy, planned: Planned, options: DeployOptions) -> dict[str, Any]:
    change = planned.change
    env = policy.environment(change.environment) or EnvironmentPolicy(change.environment)
    deployment = gh.create_deployment(
        change.tag, change.environment, payload=dict(planned.record or {}),
        description=f"mlops-actions: {change.describe()} (PR #{planned.pr.number})",
        required_contexts=env.required_contexts, production=change.environment == policy.environments[-1].name)
    gh.set_deployment_status(deployment.id, options.status, description=f"promoted {change.tag}",
                             log_url=options.run_url or "")
    print(f"deployed {change.tag} to {change.environment} (deployment {deployment.id})")
    return {"environment": change.environment, "model": change.model, "version": change.version,
            "tag": change.tag, "deployment_id": deployment.id, "artifact_url": _artifact_url(gh, change.tag)}


def _artifact_url(gh: Any, tag: str) -> str:
    release = gh.get_release(tag)
    asset = next((a for a in release.assets if a.name == "model.skops"), None) if release else None
    return asset.url if asset else ""


def _refuse(gh: Any, planned: Sequence[Planned], options: DeployOptions, runtime: ActionsRuntime) -> int:
    lines = [f"{p.change.describe()}: {problem}" for p in planned for problem in p.problems]
    print("deploy refused; no deployment was created:\n" + "\n".join(f"  - {line}" for line in lines))
    body = ("### mlops-actions: deployment refused\n\nNo deployment was created. What is missing:\n\n"
            + "\n".join(f"- {md_cell(line)}" for line in lines) + "\n")
    for number in sorted({p.pr.number for p in planned if p.pr is not None}):
        gh.upsert_comment(number, body, DEPLOY_MARKER)
    gh.check_run(CHECK_NAME, options.sha, conclusion="failure", title="deployment refused",
                 summary=body[:60000])
    runtime.append_summary(body)
    runtime.set_output("deployments", "[]")
    return EXIT_INVALID
