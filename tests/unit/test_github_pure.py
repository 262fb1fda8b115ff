"""The GitHub layer's pure parts: retry decisions, error messages, markers, payload parsing. No server."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from mlops_actions.errors import GitHubError, InputError
from mlops_actions.github.checks import batches
from mlops_actions.github.client import ClientConfig, check_config
from mlops_actions.github.comments import check_size, has_marker, marker_line, with_marker
from mlops_actions.github.env import config_from, read_event, retry_policy, run_context, token_from
from mlops_actions.github.errors import Failure, Op, to_error
from mlops_actions.github.pulls import choose_pr, pr_from_json, review_from_json
from mlops_actions.github.retry import Retrier, RetryPolicy, backoff, decide, retry_after_seconds
from mlops_actions.github.tags import check_tag_name
from mlops_actions.github.values import Annotation
from mlops_actions.testing.github_emulator import WEBHOOKS as _PACKAGED_WEBHOOKS

WEBHOOKS = _PACKAGED_WEBHOOKS
POLICY = RetryPolicy(base_delay=1.0, max_delay=30.0, max_wait=60.0, reset_margin=1.0)
NOW = 1_800_000_000.0
TAG_OP = Op("create the tag churn@v4 on abc", "tag churn@v4", "contents: write", write=True)


def payload(name: str) -> dict:
    return json.loads((WEBHOOKS / name).read_text())


# retry decisions ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_back_off_exponentially(status: int) -> None:
    delays = [decide(Failure(status), n, POLICY, NOW, jitter=0.999).delay for n in (1, 2, 3, 4)]
    assert delays == pytest.approx([1.0, 2.0, 4.0, 8.0], rel=1e-3)


def test_backoff_jitter_stays_between_half_and_full_and_is_capped() -> None:
    assert backoff(1, POLICY, 0.0) == 0.5
    assert backoff(10, POLICY, 0.999) == pytest.approx(30.0, rel=1e-3)
    rng = random.Random(1)
    assert len({backoff(3, POLICY, rng.random()) for _ in range(5)}) == 5


def test_503_with_retry_after_waits_that_long() -> None:
    assert decide(Failure(503, "", {"retry-after": "7"}), 1, POLICY, NOW, 0.5).delay == 7.0


def test_network_errors_are_retried() -> None:
    decision = decide(Failure(None, "ConnectionError", network="connection error"), 1, POLICY, NOW, 0.5)
    assert decision.retry and decision.rate_limit is None


@pytest.mark.parametrize("status", [400, 401, 404, 409, 422])
def test_client_errors_are_not_retried(status: int) -> None:
    assert not decide(Failure(status, "x"), 1, POLICY, NOW, 0.5).retry


def test_plain_403_is_a_permission_problem_not_retried() -> None:
    failure = Failure(403, "Resource not accessible by integration", {"x-ratelimit-remaining": "4999"})
    assert not decide(failure, 1, POLICY, NOW, 0.5).retry


def test_secondary_rate_limit_honours_retry_after() -> None:
    decision = decide(Failure(403, "You have exceeded a secondary rate limit", {"retry-after": "1"}), 1, POLICY,
                      NOW, 0.5)
    assert (decision.retry, decision.delay, decision.rate_limit) == (True, 1.0, "secondary")


def test_429_without_retry_after_waits_the_secondary_minimum() -> None:
    decision = decide(Failure(429, "Too Many Requests"), 1, POLICY, NOW, 0.5)
    assert decision.retry and decision.delay == POLICY.secondary_wait


def test_primary_rate_limit_waits_until_reset_plus_margin() -> None:
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 2)}
    decision = decide(Failure(403, "API rate limit exceeded for user ID 1.", headers), 1, POLICY, NOW, 0.5)
    assert decision.rate_limit == "primary" and decision.delay == pytest.approx(3.0)


def test_retry_after_as_http_date() -> None:
    import email.utils

    date = "Fri, 15 Jan 2027 08:00:05 GMT"
    now = email.utils.parsedate_to_datetime(date).timestamp() - 5
    assert retry_after_seconds(date, now) == pytest.approx(5.0)
    assert retry_after_seconds("soon", NOW) is None
    assert retry_after_seconds(None, NOW) is None


def test_over_bound_rate_limit_fails_without_sleeping() -> None:
    from github import GithubException

    slept: list[float] = []
    retrier = Retrier(RetryPolicy(max_wait=3.0), sleep=slept.append, clock=lambda: NOW)
    headers = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 3600)}

    def limited() -> None:
        raise GithubException(403, {"message": "API rate limit exceeded"}, headers)

    with pytest.raises(GitHubError, match=r"rate limit.*3601 s away, longer than the 3 s") as info:
        retrier.call(TAG_OP, limited)
    assert slept == []
    assert "re-run the job after the reset" in str(info.value)


def test_gives_up_after_max_attempts_with_a_clear_message() -> None:
    from github import GithubException

    slept: list[float] = []
    retrier = Retrier(RetryPolicy(max_attempts=3), sleep=slept.append, rng=random.Random(0))

    def broken() -> None:
        raise GithubException(502, {"message": "Bad Gateway"}, {})

    with pytest.raises(GitHubError, match=r"kept failing to create the tag.*server error 502, 3 attempts"):
        retrier.call(TAG_OP, broken)
    assert len(slept) == 2


def test_unknown_exceptions_propagate_unchanged() -> None:
    def bug() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        Retrier(sleep=lambda s: None).call(TAG_OP, bug)


# error messages ----------------------------------------------------------------------------------------

@pytest.mark.parametrize(("permission", "action"), [
    ("contents: write", "create the tag churn@v4"),
    ("pull-requests: write", "create the comment on pull request #3"),
    ("checks: write", "create the check run 'mlops'"),
    ("deployments: write", "create a deployment of main to production"),
    ("statuses: write", "set the commit status 'mlops'"),
    ("issues: write", "open the issue 'Drift'"),
])
def test_403_names_the_missing_permission(permission: str, action: str) -> None:
    error = to_error(Failure(403, "Resource not accessible by integration"), Op(action, "x", permission, True))
    text = str(error)
    assert f"GitHub refused to {action}" in text
    assert f"lacks `{permission}`" in text and "permissions:" in text
    assert "forks" in text


def test_401_says_token_invalid_or_expired() -> None:
    text = str(to_error(Failure(401, "Bad credentials"), TAG_OP))
    assert "invalid or has expired" in text and "401 Bad credentials" in text


def test_404_names_the_object() -> None:
    op = Op("read the comments of pull request #999", "pull request #999", "pull-requests: read")
    text = str(to_error(Failure(404, "Not Found"), op))
    assert text.startswith("pull request #999 not found, or the token cannot see it")


def test_422_shows_githubs_details() -> None:
    failure = Failure(422, "Validation Failed", details=("Reference already exists",))
    assert "422 Validation Failed: Reference already exists" in str(to_error(failure, TAG_OP))


def test_network_failure_message() -> None:
    text = str(to_error(Failure(None, "ConnectionError", network="connection error"), TAG_OP))
    assert "could not reach GitHub to create the tag" in text


# markers, sizes, names ---------------------------------------------------------------------------------

def test_marker_line_and_detection() -> None:
    assert marker_line("mlops-actions:report") == "<!-- mlops-actions:report -->"
    body = with_marker("hello", "mlops-actions:report")
    assert body.splitlines()[0] == "<!-- mlops-actions:report -->"
    assert with_marker(body, "mlops-actions:report") == body
    assert has_marker(body, "mlops-actions:report")
    assert not has_marker("quoted: <!-- mlops-actions:report --> inline", "mlops-actions:report")
    assert not has_marker(body, "mlops-actions:report2")


@pytest.mark.parametrize("bad", ["", "a -- b", "x\ny", "-->", " lead"])
def test_bad_markers_are_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid marker"):
        marker_line(bad)


def test_body_size_limit() -> None:
    check_size("x" * 65_536, "comment")
    with pytest.raises(GitHubError, match="65,537 characters long; GitHub accepts at most 65,536"):
        check_size("x" * 65_537, "comment")


@pytest.mark.parametrize("bad", ["", "a b", "a..b", "-x", "x.lock", "a~1", "x/", "a@{b"])
def test_bad_tag_names(bad: str) -> None:
    with pytest.raises(ValueError):
        check_tag_name(bad)


def test_good_tag_name() -> None:
    check_tag_name("churn@v4")


def test_annotation_batches_of_50() -> None:
    notes = [Annotation("a.py", i, f"m{i}") for i in range(1, 121)]
    sizes = [len(b) for b in batches(notes)]
    assert sizes == [50, 50, 20]
    assert batches([]) == [[]]
    assert batches(notes)[2][0] == {"path": "a.py", "start_line": 101, "end_line": 101,
                                    "annotation_level": "failure", "message": "m101"}


# payloads ----------------------------------------------------------------------------------------------

def test_pr_from_real_closed_payload() -> None:
    pr = pr_from_json(payload("pull_request.closed.1.json")["pull_request"])
    assert (pr.number, pr.author, pr.head_ref, pr.base_ref, pr.state) == (2, "Codertocat", "changes", "master",
                                                                          "closed")
    assert pr.head_sha == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"
    assert pr.merged is False and pr.merged_by is None
    assert pr.merge_commit_sha == "c4295bd74fb0f4fda03689c3df3f2803b658fd85"


def test_review_from_real_payload() -> None:
    review = review_from_json(payload("pull_request_review.submitted.1.json")["review"])
    assert (review.login, review.state) == ("Codertocat", "commented")
    assert review.commit_id == "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def test_choose_pr_prefers_the_merge() -> None:
    base = pr_from_json(payload("pull_request.opened.1.json")["pull_request"])
    from dataclasses import replace

    merged = replace(base, number=7, merged=True, merge_commit_sha="f" * 40, head_sha="e" * 40)
    assert choose_pr([base, merged], "f" * 40) == merged
    assert choose_pr([merged, base], base.head_sha) == base
    assert choose_pr([], "f" * 40) is None


# configuration and environment -------------------------------------------------------------------------

def test_config_checks() -> None:
    with pytest.raises(InputError, match="not an http"):
        check_config(ClientConfig("ftp://x", "t", "o/n"))
    with pytest.raises(InputError, match="owner/name"):
        check_config(ClientConfig("https://api.github.com", "t", "just-a-name"))
    with pytest.raises(InputError, match="token is empty"):
        check_config(ClientConfig("https://api.github.com", " ", "o/n"))


def test_token_never_in_repr() -> None:
    assert "s3cret" not in repr(ClientConfig("https://api.github.com", "s3cret", "o/n"))


def test_token_from_input_then_env() -> None:
    assert token_from({"GITHUB_TOKEN": "env"}, "input") == "input"
    assert token_from({"GITHUB_TOKEN": "env"}, "") == "env"
    with pytest.raises(InputError, match="no GitHub token"):
        token_from({}, None)


def test_event_payload_errors_name_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "event.json"
    bad.write_text("{nope")
    with pytest.raises(InputError, match="not valid JSON") as info:
        read_event(str(bad))
    assert str(bad) in str(info.value)
    with pytest.raises(InputError, match="cannot read"):
        read_event(str(tmp_path / "missing.json"))
    bad.write_text("[]")
    with pytest.raises(InputError, match="not a JSON object"):
        read_event(str(bad))


def test_run_context(tmp_path: Path) -> None:
    event = tmp_path / "e.json"
    event.write_text(json.dumps(payload("push.event.1.json")))
    ctx = run_context({"GITHUB_REPOSITORY": "o/n", "GITHUB_SHA": "a" * 40, "GITHUB_EVENT_PATH": str(event),
                       "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "9"})
    assert ctx.run_url == "https://github.com/o/n/actions/runs/9"
    assert ctx.event["ref"] == "refs/heads/master"
    with pytest.raises(InputError, match="GITHUB_REPOSITORY is not set"):
        run_context({})


def test_retry_and_write_pause_tunable_from_the_environment() -> None:
    env = {"MLOPS_GITHUB_MAX_WAIT": "2", "MLOPS_GITHUB_ATTEMPTS": "3", "MLOPS_GITHUB_BACKOFF": "0.01",
           "MLOPS_GITHUB_WRITE_PAUSE": "0"}
    policy = retry_policy(env)
    assert (policy.max_wait, policy.max_attempts, policy.base_delay) == (2.0, 3, 0.01)
    assert config_from(env, "t", "o/n").seconds_between_writes is None
    assert config_from({}, "t", "o/n").seconds_between_writes == 1.0
    assert retry_policy({}) == RetryPolicy()


@pytest.mark.parametrize("value", ["soon", "-1", "nan", "inf"])
def test_bad_tuning_values_name_the_variable(value: str) -> None:
    with pytest.raises(InputError, match=f"MLOPS_GITHUB_MAX_WAIT='{value}' is not a number"):
        retry_policy({"MLOPS_GITHUB_MAX_WAIT": value})
    with pytest.raises(InputError, match=f"MLOPS_GITHUB_WRITE_PAUSE='{value}' is not a number"):
        config_from({"MLOPS_GITHUB_WRITE_PAUSE": value}, "t", "o/n")
