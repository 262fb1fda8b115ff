"""Replay main's first-parent history into the governance ``Timeline`` (git for the files, GitHub for the PRs).

Bootstrap: the first commit (on the first-parent history of the pushed commit) that has a policy file -- or,
without any, a CODEOWNERS file, or else the first commit. Then each merge whose first-parent diff touches
mlops.yaml or a CODEOWNERS file is judged, oldest first, by the governance in force before it:

- a commit that no merged pull request brought to main (a direct push) is not in force;
- a change that builds on governance files that are not in force (an earlier change was refused) is not in
  force: the rules a reviewer approves are the diff they saw, nothing a refused change left behind;
- an invalid policy is not in force;
- otherwise ``approvals.governance`` of the rules in force decides, with the CODEOWNERS in force counted for
  the changed governance files, never the author nor whoever pushed the PR's last commit.

The three GitHub merge methods are one case: a merge's unit ends at the PR's ``merge_commit_sha`` (the merge
commit, the squashed commit, or the last rebased commit), so a rebase merge is judged once, as a whole.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions import bounded
from mlops_actions.convention.discovery import POLICY_FILE
from mlops_actions.convention.model import Policy
from mlops_actions.convention.schema_check import schema_errors
from mlops_actions.convention.schemas import POLICY, POLICY_RECORD, is_valid
from mlops_actions.convention.yamlio import MAX_FILE_BYTES, parse_text
from mlops_actions.errors import GitError
from mlops_actions.gitio import Git
from mlops_actions.registry import people
from mlops_actions.registry.governance import (
    BOOTSTRAP,
    CODEOWNERS_PATHS,
    IN_FORCE,
    REFUSED,
    TAG_PREFIX,
    Governance,
    Step,
    TagCheck,
    Timeline,
    check_tags,
    tag_number,
)

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort
    from mlops_actions.github.values import PullRequest


@dataclass(frozen=True)
class History:
    """Main's first-parent history as git sees it from the checkout."""

    git: Git  # at the top of the repository
    policy_path: str  # of mlops.yaml, relative to the top (the working directory may be a subfolder)
    order: tuple[str, ...]  # first-parent commits, oldest first, ending at the pushed commit
    positions: Mapping[str, int]

    @property
    def prefix(self) -> str:
        """The convention's folder from the top of the repository ("" or "ml/")."""
        return self.policy_path.removesuffix(POLICY_FILE)

    def governance(self, commit: str) -> Governance:
        policy = self._text(commit, self.policy_path)
        owners = next(((p, t) for p in CODEOWNERS_PATHS if (t := self._text(commit, p)) is not None), (None, None))
        return Governance(commit, self.policy_path, policy, owners[0], owners[1])

    def _text(self, commit: str, path: str) -> str | None:
        out = self.git.try_run("cat-file", "blob", f"{commit}:{path}")
        return None if out is None else out.decode("utf-8", "replace")

    def touching(self) -> list[str]:
        """First-parent commits whose diff against their first parent touches a governance file."""
        paths = (self.policy_path, *CODEOWNERS_PATHS)
        return self.git.text("log", "--first-parent", "--reverse", "--format=%H", self.order[-1], "--",
                             *paths).split()


def read_history(root: Path, sha: str) -> History:
    git = Git(root)
    if git.text("rev-parse", "--is-shallow-repository") == "true":
        raise GitError("the checkout is shallow: the governance in force is read from main's whole history",
                       hint="check out with actions/checkout `fetch-depth: 0`")
    top = Git(Path(git.text("rev-parse", "--show-toplevel")))
    order = tuple(git.text("rev-list", "--first-parent", "--reverse", sha).split())
    prefix = git.text("rev-parse", "--show-prefix")
    return History(top, f"{prefix}{POLICY_FILE}", order, {c: i for i, c in enumerate(order)})


def governance_at(root: Path, commit: str) -> Governance:
    """The governance files at one commit, for a checkout whose working directory may be a subfolder."""
    git = Git(root)
    top = Git(Path(git.text("rev-parse", "--show-toplevel")))
    return History(top, f"{git.text('rev-parse', '--show-prefix')}{POLICY_FILE}", (), {}).governance(commit)


def parse_policy(governance: Governance) -> tuple[Policy | None, str | None]:
    """(policy, None) for a valid (or absent: the defaults) policy file, else (None, why not)."""
    if governance.policy_text is None:
        return Policy(), None
    if len(governance.policy_text) > MAX_FILE_BYTES:
        return None, f"{governance.policy_path} is larger than {MAX_FILE_BYTES:,} bytes"
    loaded = parse_text(governance.policy_text, governance.policy_path)
    if not loaded.ok:
        problem = loaded.problems[0]
        return None, f"{problem.file}:{problem.line or 1}:{problem.column or 1}: {problem.message}"
    errors = schema_errors(POLICY, loaded.data)
    if errors:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in errors[0].absolute_path)
        return None, f"{governance.policy_path} {where}: {errors[0].message[:200]}"
    return Policy.from_dict(loaded.data), None


def replay(root: Path, gh: GitHubPort, sha: str) -> tuple[Timeline, History]:
    """The governance timeline of main up to ``sha``."""
    history = read_history(root, sha)
    touching = history.touching()
    bootstrap = _bootstrap(history, touching)
    steps = [bootstrap]
    in_force, done = bootstrap, bootstrap.position
    approvals = people.Approvals(gh)  # one question per person and team across the whole replay
    for commit in touching:
        if history.positions[commit] <= done:
            continue
        step, done = _unit(history, approvals, commit, in_force)
        if step is not None:
            steps.append(step)
            in_force = step if step.in_force else in_force
    return Timeline(tuple(steps), len(history.order) - 1), history


def _bootstrap(history: History, touching: list[str]) -> Step:
    chosen = (next((g for g in map(history.governance, touching) if g.policy_text is not None), None)
              or next((g for g in map(history.governance, touching) if g.codeowners_text is not None), None)
              or history.governance(history.order[0]))
    policy, problem = parse_policy(chosen)
    reasons = (f"the bootstrap policy is not valid ({problem}); the defaults apply",) if problem else ()
    return Step(chosen.commit, history.positions[chosen.commit], BOOTSTRAP, chosen, policy or Policy(),
                reasons=reasons)


def _unit(history: History, approvals: people.Approvals, commit: str, in_force: Step) -> tuple[Step | None, int]:
    """The step of the merge that brought ``commit`` (None when it leaves the rules in force unchanged),
    and the position where that merge ends."""
    pos = history.positions[commit]
    pr = approvals.gh.pr_for_commit(commit)
    sha = pr.merge_commit_sha if pr is not None and pr.merged else None
    merged = sha is not None and sha in history.positions
    end = sha if sha is not None and merged and history.positions[sha] >= pos else commit
    after = history.governance(end)
    if after.rules() == in_force.governance.rules():
        return None, history.positions[end]
    before = history.governance(history.order[pos - 1])
    step = _judge(approvals, pr if merged else None, in_force, before, after, history.positions[end])
    return step, history.positions[end]


def _judge(approvals: people.Approvals, pr: PullRequest | None, in_force: Step, before: Governance, after: Governance,
           position: int) -> Step:
    def refused(*reasons: str) -> Step:
        return Step(after.commit, position, REFUSED, after, pr=pr.number if pr else None, reasons=reasons)

    if pr is None:
        return refused("pushed to main without a merged pull request; governance changes only through reviewed PRs")
    policy, problem = parse_policy(after)
    if policy is None:
        return refused(f"the policy it merges is not valid: {problem}")
    if before.rules() != in_force.governance.rules():
        return refused("it builds on governance files an earlier change left behind without the approvals "
                       f"(the rules in force are those of {in_force.commit[:12]}); revert the governance files to "
                       "them in one PR, then propose the change again")
    rule = (in_force.policy or Policy()).governance
    decision = approvals.decide(pr, rule, codeowners_text=in_force.governance.codeowners_text,
                                paths=in_force.governance.changed_paths(after))
    if not decision.approved:
        return refused(*(f"approvals.governance: {r}" for r in decision.reasons),
                       *(f"not counted: {n}" for n in decision.not_counted))
    return Step(after.commit, position, IN_FORCE, after, policy, pr.number, decision.approvers, pr.merged_by)


def in_force_for(timeline: Timeline, history: History, pr: PullRequest | None) -> Step:
    """The governance that judges ``pr``: the one in force before its merge, never anything it changed."""
    merge = pr.merge_commit_sha if pr is not None else None
    position = history.positions.get(merge or "", timeline.head_position)
    return timeline.in_force_before(position)


def policy_tags(gh: GitHubPort, timeline: Timeline) -> TagCheck:
    """The ``mlops-policy@v*`` tags on GitHub checked against the replay."""
    found = []
    for info in gh.tag_messages(TAG_PREFIX):
        if tag_number(info.name) is None:
            continue
        record, problem = None, "a lightweight tag, not a governance record"
        if info.annotated:
            try:
                data = bounded.loads(info.message)  # a hand-pushed tag may nest 100,000 levels
            except ValueError:
                data, problem = None, "the tag message is not JSON"
            if data is not None and is_valid(POLICY_RECORD, data) and data.get("version") == info.name.split("@")[1]:
                record = data
            elif data is not None:
                problem = "the record does not follow schemas/policy-record"
        found.append((info.name, info.commit_sha, record, problem))
    return check_tags(timeline, found)


def rules_label(gh: GitHubPort, timeline: Timeline, step: Step) -> str:
    """Which governance ``step`` is, for the logs: its trusted tag, and any policy tag that is not trusted."""
    check = policy_tags(gh, timeline)
    name = check.trusted.get(step.commit) or "not yet recorded by `mlops-actions govern`"
    notes = "".join(f"\n  warning: untrusted tag {u}" for u in check.untrusted)
    return f"the rules in force before this merge: commit {step.commit[:12]} ({name}){notes}"
