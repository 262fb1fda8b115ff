"""``mlops-actions deploy``: on push to main touching environments/, deploy what the files now say.

Desired state is ``environments/<env>.yaml`` at HEAD; current state is the newest successful GitHub
Deployment per environment and model. The rules (environments, approvals, ``requires``,
``required_contexts``, CODEOWNERS) are the governance in force before the merge that made each change, never
the merged tree's. Each change needs: a merged PR that made it, the approvals those rules require for that
environment (CODEOWNERS of the environment file only), the environment order, and a version whose tag is
what ``register`` made -- annotated, a valid record, on main's first-parent history, its registration
approvals confirmed on GitHub -- and whose gates passed. Any refusal creates nothing, fails the check and
comments on the PR with exactly what is missing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import ENVIRONMENTS_DIR
from mlops_actions.convention.model import EnvironmentPolicy, Policy
from mlops_actions.convention.schemas import ENVIRONMENT
from mlops_actions.convention.validation import load_valid
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, GitHubError, InputError, Place
from mlops_actions.gitio import Git
from mlops_actions.registry.governance import Step, Timeline
from mlops_actions.registry.owned import model_paths, spec_at
from mlops_actions.registry.people import Approvals
from mlops_actions.registry.policy_history import History, in_force_for, replay, rules_label
from mlops_actions.registry.promotion import (
    Change,
    Deployed,
    changes,
    current_state,
    deployed_from,
    order_problem,
    read_raw,
    under_way,
    unfinished,
)
from mlops_actions.registry.records import parse_record
from mlops_actions.reporting.deploy import refusal

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort
    from mlops_actions.github.values import PullRequest
    from mlops_actions.mlflow_bridge.tracking import Mirror

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
    pr: PullRequest | None
    record: Mapping[str, Any] | None
    problems: tuple[str, ...]
    env: EnvironmentPolicy | None = None


@dataclass(frozen=True)
class Context:
    """What every change is judged with: the repository, GitHub, main's governance timeline, the pushed commit."""

    root: Path
    gh: GitHubPort
    timeline: Timeline
    history: History
    approvals: Approvals
    sha: str

    read: dict[tuple[str, object], Any] = field(default_factory=dict)  # answers of this run, asked once each

    def rules(self, pr: PullRequest | None) -> Step:
        return in_force_for(self.timeline, self.history, pr)

    def once(self, key: tuple[str, object], ask: Callable[[], Any]) -> Any:
        """``ask()``'s answer, asked once per run: a thousand changes of one merge share its PR and its
        version's PR (GitHub's token allows about 1,000 requests an hour per repository)."""
        if key not in self.read:
            self.read[key] = ask()
        return self.read[key]



def deploy(root: Path, gh: GitHubPort, options: DeployOptions, *, runtime: ActionsRuntime,
           mirror: Mirror | None = None) -> int:
    timeline, history = replay(root, gh, options.sha)
    ctx = Context(root, gh, timeline, history, Approvals(gh), options.sha)
    rules = ctx.rules(gh.pr_for_commit(options.sha))
    print("deploy: " + rules_label(gh, timeline, rules))
    policy = rules.policy or Policy()
    desired = desired_state(root, policy)
    raw = read_raw(gh, [env.name for env in policy.environments], {m for state in desired.values() for m in state})
    deployed = {env: deployed_from(env, found) for env, found in raw.items()}
    current = {env: current_state(found) for env, found in deployed.items()}
    todo = _not_under_way(changes(desired, current, [e.name for e in policy.environments]),
                          {env: under_way(found) for env, found in raw.items()})
    if not todo:
        print("deploy: every environment already runs what its file says; nothing to deploy")
        runtime.set_output("deployments", "[]")
        return EXIT_OK
    planned = [_plan(ctx, c, deployed) for c in todo]
    if any(p.problems for p in planned):
        return _refuse(gh, planned, options, runtime)
    stranded = {env: unfinished(found) for env, found in raw.items()}
    made = [_create(gh, policy, p, options, stranded.get(p.change.environment, {}).get(p.change.model))
            for p in planned]
    runtime.set_output("deployments", json.dumps(made, sort_keys=True))
    if mirror is not None and options.status == "success":  # MLflow: alias <environment> -> what runs there
        mirror.move_aliases(made)
    return EXIT_OK


def _not_under_way(todo: Sequence[Change], pending: Mapping[str, Mapping[str, Deployed]]) -> list[Change]:
    """Drop changes a queued or in-progress deployment already makes (a rerun must not deploy twice)."""
    left = []
    for change in todo:
        running = pending.get(change.environment, {}).get(change.model)
        if running is not None and running.version == change.version:
            print(f"deploy: {change.describe()} is already under way (deployment {running.deployment_id} is queued "
                  "or in progress); not deploying it again")
        else:
            left.append(change)
    return left


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


def _plan(ctx: Context, change: Change, history: Mapping[str, Sequence[Deployed]]) -> Planned:
    pr = ctx.once(("environment", change.environment), lambda: _pr_of(ctx.root, ctx.gh, change.environment, ctx.sha))
    problems: list[str] = []
    env = None
    if pr is None or not pr.merged:
        problems.append("no merged pull request made this change; environments change only through reviewed PRs")
    else:
        rules = ctx.rules(pr)
        env = (rules.policy or Policy()).environment(change.environment)
        if env is None:
            problems.append(f"environment {change.environment} is not in the policy in force before PR "
                            f"#{pr.number} (commit {rules.commit[:12]}); a new environment needs an approved "
                            "governance change first")
        else:
            problems += _approval_problems(ctx, env, pr, rules)
    record, version_problems = _version(ctx, change)
    problems += version_problems
    order = order_problem(change, env.requires, history) if env is not None else None
    if order:
        problems.append(order)
    return Planned(change, pr, record, tuple(problems), env)


def _pr_of(root: Path, gh: GitHubPort, environment: str, sha: str) -> PullRequest | None:
    """The PR that last changed ``environments/<env>.yaml`` (the pushed merge's PR when it did)."""
    path = f"{ENVIRONMENTS_DIR}/{environment}.yaml"
    commit = Git(root).text("log", "-1", "--format=%H", sha, "--", path) or sha
    return gh.pr_for_commit(commit) or gh.pr_for_commit(sha)


def _approval_problems(ctx: Context, env: EnvironmentPolicy, pr: PullRequest, rules: Step) -> list[str]:
    path = f"{ctx.history.prefix}{ENVIRONMENTS_DIR}/{env.name}.yaml"
    decision = ctx.approvals.decide(pr, env.approvals, codeowners_text=rules.governance.codeowners_text,
                                    paths=[path])
    if decision.approved:
        return []
    return [f"approvals for {env.name}: {r}" for r in decision.reasons] + \
        [f"not counted: {n}" for n in decision.not_counted]


def _version(ctx: Context, change: Change) -> tuple[Mapping[str, Any] | None, list[str]]:
    """The version's record, once the tag is shown to be what ``register`` made: an annotated tag with a valid
    record, on a commit of main's first-parent history, whose registration approvals GitHub confirms."""
    info = ctx.gh.tag(change.tag)
    if info is None:
        return None, [f"version {change.tag} does not exist (no such tag); register it first"]
    number = int(change.version[1:])
    record, problem = (parse_record(info.message, change.model, number) if info.annotated
                       else (None, "it is a lightweight tag, not a version record"))
    if record is None:
        return None, [f"version {change.tag} has an invalid record and is not trusted: {problem}"]
    problems = _provenance_problems(ctx, change, info.commit_sha, record)
    if (record.get("gates") or {}).get("verdict") == "fail":
        problems.append(f"version {change.tag} failed its gates when registered")
    return record, problems


def _pull(gh: GitHubPort, number: object) -> PullRequest | None:
    """The pull request a record names, or None when there is no such pull request."""
    if not isinstance(number, int) or isinstance(number, bool) or number < 1:
        return None
    try:
        return gh.pull_request(number)
    except GitHubError:
        return None


def _provenance_problems(ctx: Context, change: Change, commit: str, record: Mapping[str, Any]) -> list[str]:
    untrusted = f"version {change.tag} is not trusted (a hand-made tag?): "
    if commit not in ctx.history.positions or record.get("commit") != commit:
        return [untrusted + f"it points to {commit[:12]}, which is not a merge on main's first-parent history "
                            "named by its record"]
    number = record.get("pr")
    pr = ctx.once(("pull", repr(number)), lambda: _pull(ctx.gh, number))
    if pr is None or not pr.merged or pr.merge_commit_sha != commit:
        return [untrusted + f"its record names PR #{number}, which did not merge as {commit[:12]}"]
    rules = ctx.rules(pr)
    git, prefix = ctx.history.git, ctx.history.prefix
    paths = model_paths(git, prefix, commit, change.model, spec_at(git, prefix, commit, change.model))
    decision = ctx.approvals.decide(pr, (rules.policy or Policy()).register,
                                    codeowners_text=rules.governance.codeowners_text, paths=paths)
    named = {str(a.get("login", "")).lower() for a in record.get("approvers") or []}
    real = {a.login.lower() for a in decision.approvers}
    if not decision.approved or not named <= real:
        why = "; ".join(decision.reasons) or f"approvers named but not found: {', '.join(sorted(named - real))}"
        return [untrusted + f"the registration approvals of PR #{number} do not hold on GitHub: {why}"]
    return []


def _create(gh: GitHubPort, policy: Policy, planned: Planned, options: DeployOptions,
            stranded: Deployed | None = None) -> dict[str, Any]:
    """The deployment of a planned change and its status; a deployment of this very version that an earlier,
    cancelled run created but never gave a status is completed instead of made twice."""
    from mlops_actions.github.values import DeploymentRequest

    change = planned.change
    env = planned.env or EnvironmentPolicy(change.environment)
    by = f" (PR #{planned.pr.number})" if planned.pr is not None else ""  # a planned change has its merged PR
    if stranded is not None and stranded.version == change.version:
        deployment_id, done = stranded.deployment_id, "completed the earlier run's deployment of"
    else:
        request = DeploymentRequest(change.tag, change.environment, payload=dict(planned.record or {}),
                                    description=f"mlops-actions: {change.describe()}{by}",
                                    required_contexts=env.required_contexts,
                                    production=change.environment == policy.environments[-1].name)
        deployment_id, done = gh.create_deployment(request).id, "deployed"
    gh.set_deployment_status(deployment_id, options.status, description=f"promoted {change.tag}",
                             log_url=options.run_url or "")
    print(f"{done} {change.tag} to {change.environment} (deployment {deployment_id})")
    return {"environment": change.environment, "model": change.model, "version": change.version,
            "tag": change.tag, "deployment_id": deployment_id, "artifact_url": _artifact_url(gh, change.tag)}


def _artifact_url(gh: GitHubPort, tag: str) -> str:
    release = gh.get_release(tag)
    asset = next((a for a in release.assets if a.name in ("model.skops", "model.zip")), None) if release else None
    return asset.url if asset else ""


def _refuse(gh: GitHubPort, planned: Sequence[Planned], options: DeployOptions, runtime: ActionsRuntime) -> int:
    from mlops_actions.github.values import CheckRun

    lines = [f"{p.change.describe()}: {problem}" for p in planned for problem in p.problems]
    print("deploy refused; no deployment was created:\n" + "\n".join(f"  - {line}" for line in lines))
    body = refusal(lines)
    for number in sorted({p.pr.number for p in planned if p.pr is not None}):
        gh.upsert_comment(number, body, DEPLOY_MARKER)
    gh.check_run(CheckRun(CHECK_NAME, options.sha, conclusion="failure", title="deployment refused",
                          summary=body[:60000]))
    runtime.append_summary(body)
    runtime.set_output("deployments", "[]")
    return EXIT_INVALID
