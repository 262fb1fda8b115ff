"""Injected faults of the emulator: each one GitHub (or the network) really produces, then recovery."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from mlops_actions.testing.github_emulator import WEBHOOKS as _PACKAGED_WEBHOOKS
from mlops_actions.testing.github_emulator import GitHubEmulator
from mlops_actions.testing.github_emulator.faults import FaultError, load, parse

WEBHOOKS = _PACKAGED_WEBHOOKS
REPO = "Codertocat/Hello-World"
PULL = f"/repos/{REPO}/pulls/2"
COMMENTS = f"/repos/{REPO}/issues/2/comments"
AUTH = {"Authorization": "token bot-token"}


@pytest.fixture
def gh() -> Iterator[GitHubEmulator]:
    with GitHubEmulator(users=["bot:bot-token"], events=[WEBHOOKS / "pull_request.opened.1.json"]) as emulator:
        yield emulator


def get(gh: GitHubEmulator, path: str) -> requests.Response:
    return requests.get(gh.url + path, headers=AUTH, timeout=5)


def test_502_then_success(gh: GitHubEmulator) -> None:
    gh.add_fault({"method": "GET", "path": PULL, "status": 502})
    first, second = get(gh, PULL), get(gh, PULL)
    assert (first.status_code, first.json()["message"]) == (502, "Bad Gateway")
    assert second.status_code == 200 and second.json()["number"] == 2


def test_500_three_times_then_success(gh: GitHubEmulator) -> None:
    gh.add_fault({"method": "GET", "path": "/repos/*/pulls/*", "status": 500, "count": 3})
    assert [get(gh, PULL).status_code for _ in range(4)] == [500, 500, 500, 200]


def test_secondary_rate_limit_403_with_retry_after(gh: GitHubEmulator) -> None:
    gh.add_fault({"path": PULL, "kind": "secondary_rate_limit", "retry_after": 1})
    answer = get(gh, PULL)
    assert answer.status_code == 403 and answer.headers["Retry-After"] == "1"
    assert answer.json()["message"].startswith("You have exceeded a secondary rate limit")
    assert get(gh, PULL).status_code == 200


def test_429_with_retry_after(gh: GitHubEmulator) -> None:
    gh.add_fault({"path": PULL, "status": 429, "retry_after": 1})
    answer = get(gh, PULL)
    assert (answer.status_code, answer.headers["Retry-After"]) == (429, "1")
    assert answer.json()["message"] == "Too Many Requests"


def test_drop_after_apply_on_post(gh: GitHubEmulator) -> None:
    gh.add_fault({"method": "POST", "path": COMMENTS, "status": "drop"})
    with pytest.raises(requests.ConnectionError):
        requests.post(gh.url + COMMENTS, headers=AUTH, json={"body": "report"}, timeout=5)
    assert [c["body"] for c in get(gh, COMMENTS).json()] == ["report"]  # applied exactly once
    assert gh.requests[0].dropped and gh.requests[0].status == 201


def test_primary_rate_limit_exhausted_until_reset(gh: GitHubEmulator) -> None:
    gh.add_fault({"method": "GET", "path": PULL, "kind": "primary_rate_limit", "reset_in": 0.3})
    answer = get(gh, PULL)
    assert answer.status_code == 403 and answer.json()["message"].startswith("API rate limit exceeded")
    assert answer.headers["x-ratelimit-remaining"] == "0"
    reset = int(answer.headers["x-ratelimit-reset"])
    assert 0.2 < reset - time.time() <= 1.35  # whole seconds: the next one at least 0.3 s ahead
    assert get(gh, f"/repos/{REPO}").status_code == 403  # every request, not only the faulty path
    time.sleep(max(reset - time.time(), 0) + 0.05)
    again = get(gh, PULL)
    assert again.status_code == 200 and int(again.headers["x-ratelimit-remaining"]) == 4999


def test_401_and_404_faults(gh: GitHubEmulator) -> None:
    gh.add_fault({"path": PULL, "status": 401})
    gh.add_fault({"path": PULL, "status": 404})
    first, second = get(gh, PULL), get(gh, PULL)
    assert (first.status_code, first.json()["message"]) == (401, "Unauthorized")
    assert (second.status_code, second.json()["message"]) == (404, "Not Found")


def test_latency_headers_and_regex_path(gh: GitHubEmulator) -> None:
    gh.add_fault({"method": "GET", "path": r"^/repos/[^/]+/[^/]+/pulls/\d+$", "latency": 0.2,
                  "headers": {"X-Test": "yes"}, "status": 503, "count": 0})  # fmt: skip
    started = time.monotonic()
    answers = [get(gh, PULL) for _ in range(2)]
    assert time.monotonic() - started >= 0.4
    assert [(a.status_code, a.headers["X-Test"]) for a in answers] == [(503, "yes")] * 2  # count 0: always
    assert get(gh, f"/repos/{REPO}").status_code == 200


def test_content_rate_limit_refuses_the_write_over_the_window_on_the_emulators_clock() -> None:
    """More than ``limit`` content-creating requests within ``window`` seconds: 403 secondary rate limit with
    Retry-After, nothing applied; reads pass; once the window moves on (the injected clock), writes pass."""
    now = [100.0]
    with GitHubEmulator(users=["bot:bot-token"], events=[WEBHOOKS / "pull_request.opened.1.json"],
                        faults=[{"path": "*", "kind": "content_rate_limit", "limit": 3, "window": 10}],
                        clock=lambda: now[0]) as gh:
        def post(body: str) -> requests.Response:
            return requests.post(gh.url + COMMENTS, headers=AUTH, json={"body": body}, timeout=5)

        assert [post(str(i)).status_code for i in range(3)] == [201, 201, 201]
        now[0] += 4
        refused = post("over")
        assert refused.status_code == 403 and refused.headers["Retry-After"] == "6"
        assert refused.json()["message"].startswith("You have exceeded a secondary rate limit")
        assert get(gh, PULL).status_code == 200  # reads are not content-creating
        assert [c["body"] for c in get(gh, COMMENTS).json()] == ["0", "1", "2"]
        assert gh.rate_limit_refusals() == 1
        now[0] += 6
        assert post("later").status_code == 201 and gh.rate_limit_refusals() == 1


def test_after_lets_requests_through_then_fails_every_one(gh: GitHubEmulator) -> None:
    gh.add_fault({"method": "GET", "path": PULL, "status": 503, "after": 2, "count": 0})
    assert [get(gh, PULL).status_code for _ in range(4)] == [200, 200, 503, 503]


def test_method_filter(gh: GitHubEmulator) -> None:
    gh.add_fault({"method": "POST", "path": COMMENTS, "status": 500})
    assert get(gh, COMMENTS).status_code == 200


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ({"path": "*"}, "expected a JSON list"),
        ([{"status": 500}], "[0]: a fault is an object with at least a string 'path'"),
        ([{"path": "*", "status": 700}], "[0]: status must be an HTTP status"),
        ([{"path": "*", "status": "explode"}], "[0]: status must be"),
        ([{"path": "*", "stauts": 500}], "[0]: unknown field(s) stauts"),
        ([{"path": "*"}, {"path": "*", "kind": "tertiary"}], "[1]: kind must be one of"),
        ([{"path": "*", "kind": "content_rate_limit", "limit": 0}], "[0]: a content_rate_limit needs limit >= 1"),
        ([{"path": "*", "status": 500, "after": -1}], "[0]: after must be a whole number"),
    ],
)
def test_malformed_faults_are_named(items: object, message: str) -> None:
    with pytest.raises(FaultError) as caught:
        parse(items, "faults.json")
    assert message in str(caught.value) and str(caught.value).startswith("faults.json")


def test_faults_file(tmp_path: Path) -> None:
    path = tmp_path / "faults.json"
    path.write_text(json.dumps([{"method": "GET", "path": "/user", "status": 502}]), encoding="utf-8")
    assert load(path)[0].status == 502
    path.write_text("[{", encoding="utf-8")
    with pytest.raises(FaultError, match=str(path)):
        load(path)
