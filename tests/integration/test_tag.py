"""The version tag grammar and the records read from annotated tags of a real git repository."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlops_actions.registry.records import latest_version, latest_versions, local_versions
from mlops_actions.registry.tag import format_tag, parse_tag
from testkit import git


def record(model: str = "arrests", version: str | None = "v1", fingerprint: str = "a" * 64) -> dict[str, object]:
    rec: dict[str, object] = {
        "record_version": 1, "model": model, "fingerprint": fingerprint,
        "data": [{"path": "data/arrests.csv", "hash": "git:" + "1" * 40}],
        "artifact": {"file": "model.skops", "sha256": "b" * 64, "format": "skops"},
        "metrics": {"accuracy": 0.8}, "libraries": {"numpy": "2.4.6", "scikit-learn": "1.9.1"}}
    if version:
        rec["version"] = version
    return rec


def tag(root: Path, name: str, message: str | dict[str, object] | None) -> None:
    if message is None:
        git(root, "tag", name)
    else:
        text = message if isinstance(message, str) else json.dumps(message, indent=2)
        git(root, "tag", "-a", name, "-m", text)


@pytest.mark.parametrize(("model", "number", "text"), [("arrests", 3, "arrests@v3"),
                                                       ("credit-risk.v2", 12, "credit-risk.v2@v12")])
def test_format_and_parse_round_trip(model: str, number: int, text: str) -> None:
    assert format_tag(model, number) == text
    assert parse_tag(text) == (model, number)


@pytest.mark.parametrize("text", ["arrests", "arrests@3", "arrests@v0", "arrests@v01", "Arrests@v1",
                                  "a..b@v1", "x.lock@v1", "arrests@v1x", "@v1", "arrests@v1\n"])
def test_parse_rejects_what_is_not_a_version_tag(text: str) -> None:
    assert parse_tag(text) is None


@pytest.mark.parametrize(("model", "number"), [("Bad", 1), ("ok", 0), ("ok", -1), ("a/b", 1), ("ok", True)])
def test_format_refuses_bad_names_and_numbers(model: str, number: int) -> None:
    with pytest.raises(ValueError, match="not a valid version tag"):
        format_tag(model, number)


def test_valid_records_are_read_and_sorted(example_repo: Path) -> None:
    tag(example_repo, "arrests@v2", record(version="v2", fingerprint="c" * 64))
    tag(example_repo, "arrests@v10", record(version="v10", fingerprint="d" * 64))
    tag(example_repo, "other@v1", record(model="other"))
    tag(example_repo, "release-1.0", "not a version tag at all")
    refs = local_versions(example_repo)
    assert [r.tag for r in refs] == ["arrests@v2", "arrests@v10", "other@v1"]
    assert all(r.problem is None and r.record is not None for r in refs)
    assert refs[0].record is not None and refs[0].record["fingerprint"] == "c" * 64
    assert refs[0].created.startswith("20")
    assert [r.tag for r in local_versions(example_repo, "other")] == ["other@v1"]
    latest = latest_version(example_repo, "arrests")
    assert latest is not None and latest.number == 10


@pytest.mark.parametrize(("message", "problem"), [
    ("hand written notes", "not JSON"),
    ({"model": "arrests"}, "schemas/version-record"),
    (record(fingerprint="not-hex"), "$.fingerprint"),
    (record(model="other"), "of model 'other'"),
    (record(version="v7"), "says version v7"),
    (None, "lightweight tag"),
])
def test_invalid_tags_are_reported_and_never_trusted(example_repo: Path, message: object, problem: str) -> None:
    tag(example_repo, "arrests@v1", record())
    tag(example_repo, "arrests@v2", message)  # type: ignore[arg-type]
    refs = local_versions(example_repo, "arrests")
    bad = refs[-1]
    assert bad.tag == "arrests@v2" and bad.record is None
    assert bad.problem is not None and problem in bad.problem
    latest = latest_version(example_repo, "arrests")
    assert latest is not None and latest.tag == "arrests@v1"  # the invalid newer tag is skipped


def test_no_versions(example_repo: Path) -> None:
    assert local_versions(example_repo) == []
    assert latest_version(example_repo, "arrests") is None
    assert latest_versions(example_repo) == {}


def test_multiline_record_with_signature_block_is_read(example_repo: Path) -> None:
    text = json.dumps(record(), indent=2) + "\n-----BEGIN PGP SIGNATURE-----\nxyz\n-----END PGP SIGNATURE-----\n"
    tag(example_repo, "arrests@v1", text)
    (ref,) = local_versions(example_repo)
    assert ref.problem is None and ref.record is not None


def test_a_retagged_version_is_checked_again_not_taken_from_the_cache(example_repo: Path) -> None:
    tag(example_repo, "arrests@v1", record())
    assert latest_version(example_repo, "arrests") is not None  # valid; its tag object id is now cached
    git(example_repo, "tag", "-f", "-a", "arrests@v1", "-m", json.dumps(record(model="other")))
    assert latest_version(example_repo, "arrests") is None  # a new tag object: checked, and refused
    (ref,) = local_versions(example_repo)
    assert ref.problem is not None and "of model 'other'" in ref.problem


def test_a_cached_tag_object_reached_through_another_name_is_checked_again(tmp_path) -> None:
    """A tag object found valid as arrests@v1 is not trusted as churn@v1 (same object, other ref)."""
    import json as _json

    from mlops_actions.registry.records import latest_versions

    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "c")
    record = {"record_version": 1, "model": "arrests", "version": "v1", "fingerprint": "a" * 64,
              "data": [], "artifact": {"file": "model.skops", "sha256": "b" * 64, "format": "skops"},
              "metrics": {}, "libraries": {}}
    git(tmp_path, "tag", "-a", "arrests@v1", "-m", _json.dumps(record))
    assert set(latest_versions(tmp_path)) == {"arrests"}  # now cached as valid by its object id
    git(tmp_path, "update-ref", "refs/tags/churn@v1", git(tmp_path, "rev-parse", "refs/tags/arrests@v1"))
    skipped: list = []
    found = latest_versions(tmp_path, skipped=skipped)
    assert set(found) == {"arrests"}
    assert [s.tag for s in skipped] == ["churn@v1"] and "not 'churn'" in skipped[0].problem
