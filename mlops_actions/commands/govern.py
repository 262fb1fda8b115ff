"""``mlops-actions govern``: on push to main, record which governance is in force (``mlops-policy@v<N>``).

Replays main's first-parent history (``registry.policy_history``): each merge that changed mlops.yaml or
CODEOWNERS is judged by the governance in force before it (``approvals.governance``). Every step that came
into force and has no trusted tag yet gets the annotated tag ``mlops-policy@v<N>`` whose message is its record
(commit, PR, approvers); the first run tags the bootstrap. A change without its approvals is not in force: the
check run ``mlops-actions governance`` fails and says why, the PR gets a comment, and the previous rules stay.
register and deploy replay the same history themselves, so they never depend on this job having run, and a
hand-pushed tag changes nothing: it is reported as untrusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, GitHubError
from mlops_actions.registry import governance as gov
from mlops_actions.registry.policy_history import policy_tags, replay
from mlops_actions.reporting.governance import check_summary, job_summary, not_in_force

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

CHECK_NAME = "mlops-actions governance"
GOVERN_MARKER = "mlops-actions:governance"
MAX_RACE_RETRIES = 5


@dataclass(frozen=True)
class GovernOptions:
    sha: str
    run_url: str | None
    now: str


def govern(root: Path, gh: GitHubPort, options: GovernOptions, *, runtime: ActionsRuntime) -> int:
    from mlops_actions.github.values import CheckRun

    timeline, _ = replay(root, gh, options.sha)
    check = policy_tags(gh, timeline)
    names = dict(check.trusted)
    number = check.next_number
    for step in timeline.recorded():
        if step.commit not in names:
            names[step.commit], number = _record(gh, step, number, options)
    in_force = timeline.in_force()
    head = timeline.at(timeline.head_position)
    lines = _summary(timeline, in_force, names, check.untrusted)
    print("\n".join(lines))
    refused = head is not None and not head.in_force
    if refused and head is not None and head.pr is not None:
        gh.upsert_comment(head.pr, not_in_force(head.reasons, names.get(in_force.commit, in_force.commit[:12])),
                          GOVERN_MARKER)
    title = "governance change not in force" if refused else f"in force: {names.get(in_force.commit, '?')}"
    gh.check_run(CheckRun(CHECK_NAME, options.sha, conclusion="failure" if refused else "success", title=title,
                          summary=check_summary(lines)))
    runtime.append_summary(job_summary(lines))
    runtime.set_output("policy-tag", names.get(in_force.commit, ""))
    return EXIT_INVALID if refused else EXIT_OK


def _record(gh: GitHubPort, step: gov.Step, number: int, options: GovernOptions) -> tuple[str, int]:
    """Tag ``step`` as ``mlops-policy@v<number>`` (the next free number when a concurrent run took it)."""
    for _ in range(MAX_RACE_RETRIES):
        name = f"{gov.TAG_PREFIX}{number}"
        record = gov.policy_record(step, number, created_at=options.now, run_url=options.run_url)
        try:
            gh.create_annotated_tag(name, gov.record_message(record), step.commit)
        except GitHubError:
            info = gh.tag(name)
            if info is not None and info.commit_sha != step.commit:
                number += 1
                continue
            raise
        print(f"recorded {name} -> {step.commit[:12]}")
        return name, number + 1
    raise GitHubError(f"could not tag the governance of {step.commit[:12]}: {MAX_RACE_RETRIES} numbers were taken",
                      hint="rerun the workflow")


def _summary(timeline: gov.Timeline, in_force: gov.Step, names: dict[str, str], untrusted: Sequence[str]) -> list[str]:
    lines = [f"in force: {names.get(in_force.commit, in_force.commit[:12])} -- " + gov.describe(in_force)]
    lines += [gov.describe(s) for s in timeline.steps if not s.in_force and s.position > in_force.position]
    lines += [f"untrusted tag {u}" for u in untrusted]
    return lines
