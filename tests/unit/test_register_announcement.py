"""``register``'s PR comment at a thousand models (issue 15): under GitHub's 65,536 characters, the refused models
with their reasons first, every tag, and where every release link and reason is (the job summary)."""

from __future__ import annotations

from dataclasses import dataclass

from mlops_actions.reporting.release import ANNOUNCEMENT_LIMIT, LISTED_REFUSED, announcement
from testkit.reportkit import model

URL = "https://github.com/acme/fleet/releases/tag/"


@dataclass(frozen=True)
class Done:
    tag: str
    release_url: str
    created: bool = True


@dataclass(frozen=True)
class Refused:
    model: object
    problems: tuple[str, ...]


def _length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def test_a_thousand_versions_summarised_under_githubs_limit_saying_where_the_rest_is() -> None:
    done = [Done(f"m{i:04d}@v1", f"{URL}m{i:04d}@v1", created=i % 10 != 0) for i in range(1000)]
    refused = [Refused(model(f"r{i:03d}"), ("approvals: 0 of 1 required approvals", "gates failed: accuracy")) for i
               in range(60)]
    full = announcement(done, refused)
    comment = announcement(done, refused, limit=ANNOUNCEMENT_LIMIT)
    assert _length(full) > 65_536  # what one comment cannot hold: the job summary gets it whole
    assert _length(comment) <= ANNOUNCEMENT_LIMIT
    assert "**1,000 versions registered** (900 new, 100 already registered), **60 models refused.**" in comment
    assert "every version with its release and every reason is in this run's job summary" in comment
    assert all(f"`r{i:03d}`" in comment for i in range(LISTED_REFUSED)) and "`r059`" not in comment
    assert f"_… and {60 - LISTED_REFUSED} more in this run's job summary._" in comment
    assert all(f"`m{i:04d}@v1`" in comment for i in range(1000))  # every tag, without its link
    assert "([releases](https://github.com/acme/fleet/releases))" in comment
    assert announcement(done, refused, limit=ANNOUNCEMENT_LIMIT) == comment  # deterministic
    print(f"register comment at 1,000 models: {_length(comment):,} characters (full: {_length(full):,})")


def test_few_versions_keep_the_full_comment() -> None:
    done = [Done(f"m{i}@v1", f"{URL}m{i}@v1") for i in range(3)]
    assert announcement(done, [], limit=ANNOUNCEMENT_LIMIT) == announcement(done, [])
    assert f"- `m0@v1`: [release]({URL}m0@v1)" in announcement(done, [])


def test_tags_that_do_not_fit_are_counted() -> None:
    done = [Done(f"model-with-a-long-name-{i:05d}@v12", f"{URL}x@v1") for i in range(5000)]
    comment = announcement(done, [], limit=ANNOUNCEMENT_LIMIT)
    assert _length(comment) <= ANNOUNCEMENT_LIMIT and "more in this run's job summary._" in comment
