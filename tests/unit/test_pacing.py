"""Content-creating requests paced under GitHub's secondary rate limits (pure, then through the emulator)."""

from __future__ import annotations

import pytest

from mlops_actions.github.pacing import GITHUB_LIMITS, Pacer, Window, delay
from testkit.github_helpers import FakeTime


@pytest.mark.parametrize("times, now, wait", [
    ([], 0.0, 0.0),
    ([0.0, 1.0], 2.0, 58.0),  # two writes a minute: the third waits until the first leaves the window
    ([0.0, 1.0], 60.5, 0.0),
    ([0.0, 30.0], 59.0, 1.0),
    ([0.0, 30.0], 61.0, 0.0),
])
def test_delay_is_until_the_oldest_write_of_a_full_window_leaves_it(times, now, wait) -> None:
    assert delay(times, now, (Window(2, 60.0),)) == pytest.approx(wait)


def test_a_thousand_models_of_writes_keep_every_window_and_take_the_hours_github_allows() -> None:
    """6,000 writes (1,000 models: tag object, ref, release, three assets): never more than 80 in a minute or
    500 in an hour, and no longer than the hourly limit makes necessary."""
    time = FakeTime()
    pacer = Pacer(GITHUB_LIMITS, clock=time.clock, sleep=time.sleep, say=lambda text: None)
    sent = []
    for _ in range(6000):
        pacer.before_write()
        sent.append(time.now)
        time.now += 0.05  # the request itself
    for window in GITHUB_LIMITS:
        assert max(_in_window(sent, i, window.seconds) for i in range(len(sent))) <= window.requests
    hours = (sent[-1] - sent[0]) / 3600
    assert 11 <= hours < 12.1


def _in_window(sent: list[float], i: int, seconds: float) -> int:
    return sum(1 for t in sent[i:i + 600] if t < sent[i] + seconds)


def test_a_long_pause_is_announced() -> None:
    time, said = FakeTime(), []
    pacer = Pacer((Window(1, 3600.0),), clock=time.clock, sleep=time.sleep, say=said.append)
    pacer.before_write()
    pacer.before_write()
    assert time.sleeps == [3600.0] and "1 content-creating requests per 3600 s" in said[0]


def test_write_limits_come_from_the_environment_and_a_bad_value_names_the_variable() -> None:
    from mlops_actions.errors import InputError
    from mlops_actions.github.env import write_limits

    assert write_limits({}) == GITHUB_LIMITS
    assert write_limits({"MLOPS_GITHUB_WRITE_LIMITS": "20/1, 500/3600"}) == (Window(20, 1.0), Window(500, 3600.0))
    for bad in ("80", "0/60", "80/0", "eighty/60", "80/60,"):
        with pytest.raises(InputError) as caught:
            write_limits({"MLOPS_GITHUB_WRITE_LIMITS": bad})
        assert str(caught.value).startswith("MLOPS_GITHUB_WRITE_LIMITS=") and "REQUESTS/SECONDS" in str(caught.value)
