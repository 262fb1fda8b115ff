"""Benchmark: updating the sticky PR comment, ours vs PyGithub used the usual way, against the emulator.

Run: /work/venv/bin/python benchmarks/bench_github_comment.py [--comments 0 99 250 1000] [--repeat 3]

Both sides update one existing marked comment on a PR that already has N comments (N=0: create it), against the same
emulator (in-process, loopback). "plain PyGithub" is the common pattern: ``Github(...)`` with its defaults
(30 per page, eager objects) -> ``get_repo`` -> ``get_user().login`` -> ``get_issue(n)`` -> scan
``get_comments()`` -> ``edit``. PyGithub's write throttling is off on both sides so the times compare the
requests, not the sleeps. Printed: requests and wall time per side, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

from github import Auth, Github

from mlops_actions.github import ClientConfig, GitHubRepo
from mlops_actions.testing.github_emulator import WEBHOOKS, GitHubEmulator
from mlops_actions.testing.github_emulator.state import Comment

WEBHOOK = WEBHOOKS / "pull_request.opened.1.json"
REPO, PR, MARKER, TOKEN = "Codertocat/Hello-World", 2, "mlops-actions:report", "bench-token"


def seed(gh: GitHubEmulator, count: int) -> None:
    gh.state.user("alice")
    for i in range(count):
        user, body = ("mlops-bot", f"<!-- {MARKER} -->\nold") if i == count - 1 else ("alice", f"chatter {i}")
        gh.state.comments[50_000 + i] = Comment(REPO, PR, 50_000 + i, user, body)


def ours(url: str, body: str) -> None:
    config = ClientConfig(url, TOKEN, REPO, seconds_between_writes=None)
    GitHubRepo.open(config).upsert_comment(PR, body, MARKER)


def plain(url: str, body: str) -> None:
    g = Github(auth=Auth.Token(TOKEN), base_url=url, seconds_between_requests=None, seconds_between_writes=None)
    repo = g.get_repo(REPO)
    me = g.get_user().login
    issue = repo.get_issue(PR)
    full = f"<!-- {MARKER} -->\n{body}"
    for comment in issue.get_comments():
        if comment.user.login == me and f"<!-- {MARKER} -->" in comment.body:
            comment.edit(full)
            return
    issue.create_comment(full)


def measure(fn, count: int, repeat: int) -> tuple[int, float]:
    times, requests = [], 0
    for r in range(repeat):
        with GitHubEmulator(users=[f"mlops-bot:{TOKEN}:write"], events=[json.loads(WEBHOOK.read_text())]) as gh:
            seed(gh, count)
            start = time.perf_counter()
            fn(gh.url, f"report {r}")
            times.append(time.perf_counter() - start)
            requests = len(gh.requests)
            assert sum(1 for c in gh.state.comments.values() if c.user == "mlops-bot") == 1
    return requests, statistics.median(times)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--comments", type=int, nargs="+", default=[0, 99, 250, 1000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    measure(ours, 1, 1), measure(plain, 1, 1)  # warm up both sides
    print(f"{'comments':>8} | {'ours req':>8} {'ours s':>8} | {'plain req':>9} {'plain s':>8} | ratio (time)")
    for count in args.comments:
        our_req, our_s = measure(ours, count, args.repeat)
        plain_req, plain_s = measure(plain, count, args.repeat)
        print(f"{count:>8} | {our_req:>8} {our_s:>8.3f} | {plain_req:>9} {plain_s:>8.3f} | {plain_s / our_s:.1f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
