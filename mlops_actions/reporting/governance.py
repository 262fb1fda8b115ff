"""What ``mlops-actions govern`` writes for people: the check run's and the job summary's list of the rules
in force and the changes not (yet) in force, and the PR comment when a merge changed the rules without what
the rules in force ask for."""

from __future__ import annotations

from collections.abc import Sequence

from mlops_actions.reporting.markdown import md_cell, md_list

CHECK_SUMMARY_LIMIT = 60000  # characters of a check run's summary we use (GitHub takes 65,535)


def check_summary(lines: Sequence[str]) -> str:
    return md_list(lines)[:CHECK_SUMMARY_LIMIT]


def job_summary(lines: Sequence[str]) -> str:
    return "### mlops-actions governance\n\n" + md_list(lines) + "\n"


def not_in_force(reasons: Sequence[str], in_force: str) -> str:
    """The PR comment: the change is not in force; ``in_force`` names the rules that stay (a tag or commit)."""
    return ("### mlops-actions: governance change not in force\n\n"
            f"This merge changed mlops.yaml or CODEOWNERS without what the rules in force ({md_cell(in_force)}) ask "
            "for; register and deploy keep using those rules. What is missing:\n\n" + md_list(reasons) + "\n")
