"""``mlops-actions register``: on push to main, each model the merge retrained becomes ``<name>@v<N>``.

The rules are the governance in force *before* the merge (``registry.policy_history``), never the merged
tree's mlops.yaml or CODEOWNERS. Every model is checked before the first write: the merged PR's approvals
(``approvals.register``; CODEOWNERS count for the model's own paths only), the gates, the estimator against the
allowed prefixes in force, and what was reviewed (the artifact and every number the PR's report showed must
equal main's rebuild). Then each model that passed gets the annotated tag whose message is the version
record, a GitHub Release with ``model.skops``, ``metrics.json`` and the model card; the refused ones are
reported with their reasons (exit 1) and nothing of theirs is written. One comment on the merged PR lists
both. Concurrency-safe (a lost race for N takes N+1; tags never move; a concurrent run of the same merge
finds its work done) and idempotent (a rerun finishes a half-made release and creates no second tag).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.model import Policy, estimator_allowed, estimator_refusal
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, GitHubError
from mlops_actions.evaluation.assess import ModelReport
from mlops_actions.evaluation.gates import FAIL
from mlops_actions.registry import evidence as ev
from mlops_actions.registry.approvals import Approver
from mlops_actions.registry.assessment import ReportFindings, ReportOptions, build_reports
from mlops_actions.registry.governance import Step
from mlops_actions.registry.owned import model_paths
from mlops_actions.registry.people import Approvals
from mlops_actions.registry.policy_history import History, in_force_for, replay, rules_label
from mlops_actions.registry.promotion import current_state, read_deployments
from mlops_actions.registry.records import parse_record
from mlops_actions.registry.versioning import (
    ExistingVersion,
    Provenance,
    already_registered,
    existing_from_tags,
    next_number,
    tag_message,
    version_record,
)
from mlops_actions.reporting.modelcard import model_card
from mlops_actions.reporting.release import (
    ANNOUNCEMENT_LIMIT,
    announcement,
    refusal_comment,
    refusal_summary,
    release_body,
)
from mlops_actions.training import reproducibility as repro

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort
    from mlops_actions.github.values import PullRequest
    from mlops_actions.mlflow_bridge.tracking import Mirror

REPORT_MARKER = "mlops-actions:report"
REGISTER_MARKER = "mlops-actions:register"
ASSETS = ("model.skops", "metrics.json", "model-card.md")
MAX_RACE_RETRIES = 5


@dataclass(frozen=True)
class RegisterOptions:
    results: Path
    sha: str
    run_url: str | None
    now: str


@dataclass(frozen=True)
class Merge:
    """The merge being registered: its pull request, the governance in force for it, and main's history as
    git sees it (where the models' own paths are read at the merge commit)."""

    pr: PullRequest
    rules: Step
    history: History


@dataclass(frozen=True)
class Registered:
    model: str
    version: str
    tag: str
    release_url: str
    created: bool


@dataclass(frozen=True)
class Verdict:
    """One model's checks: what stops it from being registered (empty: it registers)."""

    model: ModelReport
    problems: tuple[str, ...]
    approvers: tuple[Approver, ...] = ()


def register(root: Path, gh: GitHubPort, options: RegisterOptions, *, runtime: ActionsRuntime,
             mirror: Mirror | None = None) -> int:
    from mlops_actions.evaluation.results import result_folders

    if not result_folders(options.results, missing_ok=True):
        print("register: no trained model in the results folder; nothing to register")
        runtime.set_output("versions", "[]")
        return EXIT_OK
    pr = gh.pr_for_commit(options.sha)
    if pr is None or not pr.merged:
        return _refuse(gh, None, [f"commit {options.sha[:12]} is not the merge of a pull request; versions are "
                                  "registered only from reviewed, merged pull requests"], runtime)
    timeline, history = replay(root, gh, options.sha)
    rules = in_force_for(timeline, history, pr)
    print("register: " + rules_label(gh, timeline, rules))
    tags = Tags(gh)
    verdicts = check_all(root, gh, Merge(pr, rules, history), options, tags.first)
    provenance = {v.model.name: Provenance(options.sha, pr.number, v.approvers, pr.merged_by, options.run_url,
                                           options.now) for v in verdicts}
    shown = _evidence(gh, pr.number)
    done = [_register_one(gh, v.model, options.results / v.model.name, provenance[v.model.name],
                          _rebuild_fields(v.model, shown), tags.first) for v in verdicts if not v.problems]
    refused = [v for v in verdicts if v.problems]
    _announce(gh, pr.number, done, refused, runtime)
    if mirror is not None:  # MLflow's Model Registry, when configured: a mirror of the tags, never the record
        mirror.register_versions([(d.model, d.tag, _record_of(gh, d.tag), options.results / d.model) for d in done])
    runtime.set_output("versions", json.dumps([d.__dict__ for d in done], sort_keys=True))
    return EXIT_INVALID if refused else EXIT_OK


def _record_of(gh: GitHubPort, tag: str) -> Any:
    info, (model, number) = gh.tag(tag), tag.rsplit("@v", 1)
    return parse_record(info.message, model, int(number))[0] if info is not None else None


def check_all(root: Path, gh: GitHubPort, merge: Merge, options: RegisterOptions,
              existing: Callable[[str], list[ExistingVersion]] | None = None) -> list[Verdict]:
    """Every model's verdict, before anything is written (``existing``: the model's versions, read once)."""
    from mlops_actions.evaluation.results import result_folders

    pr, rules, history = merge.pr, merge.rules, merge.history
    existing = existing or (lambda model: _existing(gh, model))
    policy = rules.policy or Policy()
    deployments = read_deployments(gh, [env.name for env in policy.environments],
                                   [f.name for f in result_folders(options.results, missing_ok=True)])
    found = ReportFindings(deployed=current_state(deployments.get(policy.baseline, ())), deployments=deployments,
                           policy=policy)
    reports = build_reports(root, ReportOptions(results=options.results, disparity_intervals=False), found)
    shown = _evidence(gh, pr.number)
    edited = edited_metrics(options.results, reports)
    approvals = Approvals(gh)
    verdicts = []
    for m in reports:
        # A rerun (this merge's tag exists): every check again, but the numbers now meet a baseline that holds
        # this very version, so they are not compared; the artifact still is.
        rerun = already_registered(existing(m.name), m.fingerprint, options.sha) is not None
        decision = approvals.decide(pr, policy.register, codeowners_text=rules.governance.codeowners_text,
                                    paths=model_paths(history.git, history.prefix, options.sha, m.name, m.spec))
        problems = [f"approvals: {r}" for r in decision.reasons]
        problems += [f"not counted: {n}" for n in decision.not_counted if problems]
        problems += _check_model(m, shown, pr.head_sha, policy, rerun=rerun)
        problems += [p.split(": ", 1)[1] for p in edited if p.startswith(f"{m.name}: ")]
        verdicts.append(Verdict(m, tuple(problems), decision.approvers))
    return verdicts


def _evidence(gh: GitHubPort, pr_number: int) -> ev.Evidence | None:
    """What the PR's report showed: its evidence line, and the continuation comments it names (a report of
    more models than one comment holds); None when any of them is missing or malformed."""
    comment = gh.find_comment(pr_number, REPORT_MARKER)
    first = ev.parse(comment.body) if comment is not None else None
    if first is None or not first.parts:
        return first
    parts = []
    for index in range(1, first.parts + 1):
        part = gh.find_comment(pr_number, ev.part_marker(index))
        parts.append(ev.parse(part.body) if part is not None else None)
    return ev.merge(first, parts)


def _check_model(m: ModelReport, shown: ev.Evidence | None, head_sha: str, policy: Policy, *,
                 rerun: bool = False) -> list[str]:
    problems = []
    if m.verdict == FAIL:
        failed = [r.message for r in m.gates.results if r.status == FAIL]
        problems.append("gates failed: " + "; ".join(failed))
    estimator = (m.spec.raw.get("estimator") or {}).get("class") if m.spec is not None else None
    if isinstance(estimator, str) and not estimator_allowed(estimator, policy.allowed_prefixes):
        problems.append(f"estimator {estimator} is not allowed by the policy in force: "
                        + estimator_refusal(estimator, policy.allowed_prefixes))
    return problems + _reviewed(m, shown, head_sha, rerun=rerun)


def _reviewed(m: ModelReport, shown: ev.Evidence | None, head_sha: str, *, rerun: bool = False) -> list[str]:
    """Whether what ships is what was reviewed: the artifact and every number of the PR's report."""
    if shown is None:
        return ["the merged PR has no mlops-actions report with artifact evidence; what was reviewed is "
                "unknown, so nothing ships (run the PR workflow, then merge)"]
    seen = shown.models.get(m.name)
    if seen is None:
        return ["the PR's report did not show this model; what was reviewed is not what would ship"]
    verdict = rebuild_verdict(m, seen)
    if not verdict.ok:
        return [_not_reproducible(m, seen, shown.head_sha, verdict)]
    if shown.head_sha != head_sha:
        return [f"the PR's report is for commit {shown.head_sha[:12]}, not the merged head {head_sha[:12]}"]
    if rerun or verdict.rule == repro.METRICS:  # metrics: every number was compared within the tolerance
        return []
    if seen.digest is None:
        return ["the PR's report holds no digest of its numbers (made by an older mlops-actions?); run the PR "
                "workflow again, then merge"]
    differ = ev.differing(m, seen)
    if differ:
        return ["the numbers the PR's report showed differ from main's trusted rebuild (a forged or stale "
                "report?): " + "; ".join(differ[:12])]
    return []


def rebuild_verdict(m: ModelReport, seen: ev.Shown) -> repro.Verdict:
    """Does the rebuild on main meet the model's reproducibility rule (exact: the reviewed sha256; metrics:
    every reviewed number within the spec's tolerance) against what the review showed?"""
    return repro.check_rebuild(m.record, repro.Reviewed(seen.artifact_sha256, seen.numbers, seen.parts))


def _not_reproducible(m: ModelReport, seen: ev.Shown, head: str, verdict: repro.Verdict) -> str:
    if verdict.rule == repro.METRICS:
        return "not reproducible within tolerance (reproducibility: metrics): " + "; ".join(verdict.problems)
    why = ("same fingerprint, so training is not deterministic" if seen.fingerprint == m.fingerprint else
           "the fingerprint differs: the data, code, a library version or the spec changed after review")
    return (f"not reproducible: the artifact built on main has sha256 {m.artifact_sha256[:12]}…, the PR's report "
            f"showed {seen.artifact_sha256[:12]}… for head {head[:12]} ({why}); "
            + repro.difference_note(m.record, seen.parts))


def _rebuild_fields(m: ModelReport, shown: ev.Evidence | None) -> dict[str, Any]:
    """The record's ``reproducibility``: the rule that applied and, for metrics, both sets of numbers."""
    seen = shown.models.get(m.name) if shown is not None else None
    if seen is None:
        return {"rule": repro.rule_of(m.record)[0]}
    return rebuild_verdict(m, seen).record_fields()


def edited_metrics(results: Path, reports: Sequence[ModelReport]) -> list[str]:
    """Models whose metrics.json differs from their record's metrics: the gates read metrics.json and the
    release ships it, so an edit after training must not slip into a version."""
    from mlops_actions.evaluation.results import METRICS_FILE, read_json

    problems = []
    for m in reports:
        shown = read_json(results / m.name / METRICS_FILE).get("metrics")
        if json.dumps(shown, sort_keys=True) != json.dumps(m.record.get("metrics"), sort_keys=True):
            problems.append(f"{m.name}: {METRICS_FILE} does not hold the metrics record.json holds (edited after "
                            "training?); run `mlops-actions train` again")
    return problems


def _existing(gh: GitHubPort, model: str) -> list[ExistingVersion]:
    tags = []
    for info in gh.tag_messages(f"{model}@v"):
        number = info.name.rsplit("@v", 1)[-1]
        record, problem = (parse_record(info.message, model, int(number)) if info.annotated and number.isdigit()
                           else (None, "not an annotated tag"))
        tags.append((info.name, record, problem))
    return existing_from_tags(model, tags)


class Tags:
    """Each model's versions, read once: by the checks, then handed to the model's first attempt to register
    (a thousand models: one listing each instead of two); a lost race reads again."""

    def __init__(self, gh: GitHubPort) -> None:
        self.gh = gh
        self._read: dict[str, list[ExistingVersion]] = {}

    def first(self, model: str) -> list[ExistingVersion]:
        if model not in self._read:
            self._read[model] = _existing(self.gh, model)
        return self._read[model]


def _register_one(gh: GitHubPort, m: ModelReport, folder: Path, provenance: Provenance,
                  reproducibility: dict[str, Any] | None = None,
                  read: Callable[[str], list[ExistingVersion]] | None = None) -> Registered:
    gates = {"verdict": m.verdict, "results": [r.to_dict() for r in m.gates.results]}
    for attempt in range(MAX_RACE_RETRIES):
        existing = read(m.name) if read is not None and attempt == 0 else _existing(gh, m.name)
        done = already_registered(existing, m.fingerprint, provenance.commit)
        number = done.number if done else next_number(existing)
        trained = {**m.record, **({"reproducibility": reproducibility} if reproducibility else {})}
        record = dict(done.record) if done and done.record else version_record(trained, number, provenance, gates)
        tag = f"{m.name}@v{number}"
        try:
            gh.create_annotated_tag(tag, tag_message(record), provenance.commit)
        except GitHubError:
            if _taken_by_other(gh, tag, provenance.commit):
                continue  # lost the race for N: re-read and take the next number
            raise
        release = _release(gh, m, tag, record, folder)
        return Registered(m.name, f"v{number}", tag, release.html_url, created=done is None)
    raise GitHubError(f"could not register {m.name}: {MAX_RACE_RETRIES} concurrent runs took every version number "
                      "tried", hint="rerun the workflow")


def _taken_by_other(gh: GitHubPort, tag: str, commit: str) -> bool:
    info = gh.tag(tag)
    return info is not None and info.commit_sha != commit


def _release(gh: GitHubPort, m: ModelReport, tag: str, record: dict[str, Any], folder: Path) -> Any:
    from mlops_actions.github.values import AssetFile

    card = model_card(m)
    release = gh.release(tag, name=f"{m.name} {tag.rsplit('@', 1)[1]}", body=release_body(m, tag, record))
    have = {a.name for a in release.assets}
    model_file = str(record.get("artifact", {}).get("file", "model.skops"))  # model.zip for a command's files
    files = {model_file: (folder / model_file).read_bytes(),
             "metrics.json": (folder / "metrics.json").read_bytes(),
             "model-card.md": card.encode("utf-8")}
    for name in files:
        if name not in have:
            gh.upload_asset(release, AssetFile(name, files[name], "application/json" if name.endswith(".json")
                                               else "application/octet-stream"), assets=release.assets)
    return release


def _announce(gh: GitHubPort, pr_number: int, done: Sequence[Registered], refused: Sequence[Verdict],
              runtime: ActionsRuntime) -> None:
    gh.upsert_comment(pr_number, announcement(done, refused, limit=ANNOUNCEMENT_LIMIT), REGISTER_MARKER)
    runtime.append_summary(announcement(done, refused))  # the job summary (1 MiB) holds every version
    for d in done:
        print(f"registered {d.tag} -> {d.release_url}" + ("" if d.created else " (already registered)"))
    if refused:
        print("register refused (nothing was created for these models):\n" +
              "\n".join(f"  - {v.model.name}: {p}" for v in refused for p in v.problems))


def _refuse(gh: GitHubPort, pr_number: int | None, problems: Sequence[str], runtime: ActionsRuntime) -> int:
    text = "register refused; nothing was created:\n" + "\n".join(f"  - {p}" for p in problems)
    print(text)
    if pr_number is not None:
        gh.upsert_comment(pr_number, refusal_comment(problems), REGISTER_MARKER)
    runtime.append_summary(refusal_summary(problems))
    runtime.set_output("versions", "[]")
    return EXIT_INVALID
