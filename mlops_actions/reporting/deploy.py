"""What ``mlops-actions deploy`` and ``ship`` write for people: the refusal (PR comment, check run, job
summary) when no deployment was created, and the job summary of a shipped or failed deployment."""

from __future__ import annotations

import re
from collections.abc import Sequence

from mlops_actions.reporting.markdown import md_code, md_list, md_text


def refusal(problems: Sequence[str]) -> str:
    """Why no deployment was created, one escaped line per problem."""
    return ("### mlops-actions: deployment refused\n\nNo deployment was created. What is missing:\n\n"
            + md_list(problems) + "\n")


def deployed_summary(tag: str, environment: str, url: str | None) -> str:
    return (f"### Deployed {md_code(tag, table=False)} to {md_code(environment, table=False)}\n\n"
            + (f"{md_text(url)}\n" if url else ""))


def failure_summary(tag: str, environment: str, code: int, tail: Sequence[str]) -> str:
    """Markdown: the failure and the command's last lines in a fence no line can close."""
    body = "\n".join(line.replace("\x00", "") for line in tail)
    fence = "`" * max(3, 1 + max((len(run) for run in re.findall(r"`+", body)), default=0))
    return (f"### Deploying {md_code(tag, table=False)} to {md_code(environment, table=False)} "
            f"failed\n\nThe deploy command exited {code}. Its last lines:\n\n{fence}text\n{body}\n{fence}\n")
