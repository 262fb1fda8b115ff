"""The GitHub layer: the only code that imports PyGithub. Import it lazily (it pulls in PyGithub).

``env.connect(env, token_input, runtime)`` builds a ``GitHubRepo`` from a workflow run's environment;
``GitHubRepo.open(ClientConfig(...))`` builds one from explicit values (tests, the emulator, GHES).

The ``permissions:`` each operation needs (a 403 message names the missing one):

==========================================  =========================================================
operation                                   permission
==========================================  =========================================================
upsert_comment                              pull-requests: write (issues: write on plain issues)
pr_for_commit, reviews, changed_files       pull-requests: read
check_run                                   checks: write (falls back to statuses: write)
create_annotated_tag, release, upload       contents: write
tag_messages, codeowners, download_asset    contents: read
create_deployment, set_deployment_status    deployments: write
upsert_issue, close_issue                   issues: write
propose_file (branch, commit, pull request) contents: write and pull-requests: write
is_team_member, team_members                organization members: read (not GITHUB_TOKEN: an App or
                                            PAT token with read:org)
==========================================  =========================================================

Pull requests from forks get a read-only GITHUB_TOKEN whatever the block says: write from a
``workflow_run`` workflow instead.
"""

from __future__ import annotations

from mlops_actions.github.client import ClientConfig
from mlops_actions.github.env import connect
from mlops_actions.github.repo import GitHubRepo, RunContext
from mlops_actions.github.retry import RetryPolicy

__all__ = ["ClientConfig", "GitHubRepo", "RetryPolicy", "RunContext", "connect"]
