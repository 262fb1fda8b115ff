'''A stateful emulator of the part of GitHub's REST API that mlops-actions uses, for tests (ours and yours).

The public API (start, seed, move a pull request along, faults, read what happened) is documented with a
runnable example in docs/testing.md; the other modules and underscore names are internal.

Every answer conforms to GitHub's official OpenAPI description (checked by the test-suite, and at run time
with ``strict=True``). It serves on 127.0.0.1; its base URL plays the role of ``GITHUB_API_URL``.

In-process::

    from mlops_actions.testing.github_emulator import GitHubEmulator

    with GitHubEmulator(users=["octocat:t0ken:write"], events=["pull_request.opened.json"]) as gh:
        github = Github(auth=Auth.Token("t0ken"), base_url=gh.url)
        ...
        gh.requests      # the request log: method, path, status, body (request JSON), response
        gh.pull("octo/demo", 1), gh.comments("octo/demo", 1)   # what the code under test did

Command line (prints the base URL as its first line, serves until SIGTERM / SIGINT)::

    python -m mlops_actions.testing.github_emulator [--port 0] [--user LOGIN:TOKEN[:PERMISSION] ...]
        [--event PAYLOAD.json ...] [--repo-dir PATH] [--state FILE] [--faults FILE] [--strict]

Behaviour like GitHub's: tokens (``Authorization: token X`` or ``Bearer X``) map to users, 401 without a
valid one; a user's PERMISSION (read, triage, write, maintain, admin; default write) applies to every
repository and writes need write (403 "Resource not accessible by integration"); ``x-ratelimit-*``
headers count down; ``per_page`` (default 30, max 100) and ``Link`` headers paginate lists; 422 for an
existing ref, a body over 65,536 characters, an invalid state; ids are global and increasing.

Endpoints (the route table is ``handlers.ROUTES``): ``/user``, ``/users/{u}``, ``/orgs/{org}`` and its
teams (get, members, memberships), ``/rate_limit``; per repository: the repository, collaborator
permission, contents (read at ``?ref=``; ``PUT`` writes a file as a commit on a branch, with git plumbing in
``--repo-dir``), pulls (get, list with state/head/base, create, edit, files, commits, reviews), ``commits/{sha}``,
``commits/{sha}/pulls``, ``commits/{ref}/status``, issues and issue comments, git refs / matching-refs /
annotated tags, tags, releases with asset upload (at ``upload_url``), download (``browser_download_url``
or ``Accept: application/octet-stream``) and delete, deployments and their statuses, environments, check
runs (and a commit's check runs, ``commits/{ref}/check-runs``), commit statuses. Publishing a release of a
tag that does not exist creates a lightweight tag at
``target_commitish``, as GitHub does. PyGithub throttles writes by default: in tests pass
``seconds_between_requests=0, seconds_between_writes=0`` to ``Github(...)``.

Faults file (``--faults``): a JSON list, each item ``{"method", "path", "status", "count", "retry_after",
"latency", "headers", "message", "kind", "reset_in"}`` -- see ``faults`` for the full format, e.g.
``[{"method": "POST", "path": "/repos/*/issues/*/comments", "status": "drop"}]`` applies the first
comment creation and then closes the connection without answering.
'''

from __future__ import annotations

from pathlib import Path

from .emulator import GitHubEmulator
from .faults import Fault
from .server import LoggedRequest

REFERENCE = Path(__file__).resolve().parent / "reference"
WEBHOOKS = REFERENCE / "webhooks"  # real payloads from @octokit/webhooks-examples (MIT)

__all__ = ["REFERENCE", "WEBHOOKS", "Fault", "GitHubEmulator", "LoggedRequest"]
