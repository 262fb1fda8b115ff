"""Baseline selection: deployed version, else latest registered version, else the base ref, else a new model.
Versions are real annotated tags in a real git repository."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mlops_actions.evaluation.baseline import (
    BASE_REF,
    DEPLOYED,
    NEW,
    REGISTERED,
    Baseline,
    BaselineSources,
    choose_baseline,
    environment_version,
    load_baseline,
)
from mlops_actions.registry.records import local_versions
from testkit import git
from testkit.reportkit import FIXTURES


def _load(root: Path, model: str, environment: str, **kw) -> Baseline:
    return load_baseline(root, model, environment, read_versions=local_versions, sources=BaselineSources(**kw))


def _record(version: str, accuracy: float) -> dict:
    data = json.loads((FIXTURES / "arrests" / "record.json").read_text())
    return {**data, "version": version, "metrics": {**data["metrics"], "accuracy": accuracy}}


def _tag(repo: Path, version: str, message: str) -> None:
    (repo / ".git" / "TAG_MSG").write_text(message)
    git(repo, "tag", "-a", f"arrests@{version}", "-F", ".git/TAG_MSG")


def _deploy(repo: Path, env: str, text: str) -> None:
    (repo / "environments" / f"{env}.yaml").write_text(text)
    git(repo, "commit", "-qam", f"deploy to {env}")


def test_new_model_when_nothing_exists(example_repo: Path) -> None:
    b = _load(example_repo, "arrests", "production")
    assert b.kind == NEW and b.record is None and not b.exists
    assert b.notes == ("no version is deployed to production", "no registered version",
                       "base ref: not available (no results trained at the base ref)")


def test_latest_registered_version(example_repo: Path) -> None:
    _tag(example_repo, "v1", json.dumps(_record("v1", 0.70)))
    _tag(example_repo, "v2", json.dumps(_record("v2", 0.75)))
    b = _load(example_repo, "arrests", "production")
    assert (b.kind, b.version) == (REGISTERED, "v2")
    assert b.record["metrics"]["accuracy"] == 0.75
    assert b.short_label == "latest version (v2)"


def test_the_version_deployed_to_the_baseline_environment_wins(example_repo: Path) -> None:
    _tag(example_repo, "v1", json.dumps(_record("v1", 0.70)))
    _tag(example_repo, "v2", json.dumps(_record("v2", 0.75)))
    _deploy(example_repo, "production", "arrests: v1\n")
    b = _load(example_repo, "arrests", "production")
    assert (b.kind, b.version, b.environment) == (DEPLOYED, "v1", "production")
    assert b.record["metrics"]["accuracy"] == 0.70
    staging = _load(example_repo, "arrests", "staging")
    assert (staging.kind, staging.version) == (REGISTERED, "v2")


def test_deployments_from_github_override_the_environment_file(example_repo: Path) -> None:
    _tag(example_repo, "v1", json.dumps(_record("v1", 0.70)))
    _tag(example_repo, "v2", json.dumps(_record("v2", 0.75)))
    _deploy(example_repo, "production", "arrests: v1\n")
    b = _load(example_repo, "arrests", "production", deployed={"arrests": "v2"})
    assert (b.kind, b.version) == (DEPLOYED, "v2")
    assert environment_version(example_repo, "production", "arrests", {}) is None


def test_a_deployed_version_without_a_valid_tag_falls_back_and_says_why(example_repo: Path) -> None:
    _tag(example_repo, "v1", json.dumps(_record("v1", 0.70)))
    _tag(example_repo, "v2", "hand-written, not JSON")
    _deploy(example_repo, "production", "arrests: v2\n")
    b = _load(example_repo, "arrests", "production")
    assert (b.kind, b.version) == (REGISTERED, "v1")
    assert b.notes[0] == "production names v2, but no valid version record was found for it"
    assert b.notes[1].startswith("arrests@v2: the tag message is not JSON")


def test_results_trained_at_the_base_ref(example_repo: Path, tmp_path: Path) -> None:
    base = tmp_path / "base-out"
    shutil.copytree(FIXTURES / "arrests", base / "arrests")
    b = _load(example_repo, "arrests", "production", base_results=base, base_ref="main")
    assert (b.kind, b.ref) == (BASE_REF, "main")
    assert b.record["model"] == "arrests"
    assert _load(example_repo, "other", "production", base_results=base).kind == NEW


def test_an_invalid_environment_file_is_not_trusted(example_repo: Path) -> None:
    _deploy(example_repo, "production", "arrests: [not, a, version]\n")
    assert environment_version(example_repo, "production", "arrests") is None


class _Ref:
    def __init__(self, number: int, record: dict | None, problem: str | None = None) -> None:
        self.model, self.number, self.tag = "m", number, f"m@v{number}"
        self.record, self.problem = record, problem


@pytest.mark.parametrize(("deployed", "versions", "base", "kind", "version"), [
    ("v2", [_Ref(1, {"a": 1}), _Ref(2, {"a": 2})], None, DEPLOYED, "v2"),
    (None, [_Ref(2, {"a": 2}), _Ref(1, {"a": 1})], None, REGISTERED, "v2"),
    ("v9", [_Ref(1, {"a": 1})], None, REGISTERED, "v1"),
    (None, [_Ref(1, None, "lightweight tag")], {"a": 0}, BASE_REF, None),
    (None, [], None, NEW, None),
    ("v1", [_Ref(1, None, "invalid")], None, NEW, None),
])
def test_choose_baseline(deployed: str | None, versions: list, base: dict | None, kind: str,
                         version: str | None) -> None:
    b = choose_baseline("m", environment="production", deployed_version=deployed, versions=versions,
                        base_record=base)
    assert (b.kind, b.version) == (kind, version)
    assert b.exists == (kind != NEW)


def test_offline_baseline_reads_the_environment_file_at_the_base_not_the_prs_edit(tmp_path: Path) -> None:
    """A PR setting production: v1 must not make v1 'deployed' in its own report (offline reads the base)."""
    from mlops_actions.evaluation.baseline import environment_version

    (tmp_path / "environments").mkdir()
    (tmp_path / "environments" / "production.yaml").write_text("{}\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base")
    base = git(tmp_path, "rev-parse", "HEAD")
    (tmp_path / "environments" / "production.yaml").write_text("arrests: v1\n")  # the PR's edit
    assert environment_version(tmp_path, "production", "arrests") == "v1"
    assert environment_version(tmp_path, "production", "arrests", at=base) is None
    assert environment_version(tmp_path, "production", "arrests", {"arrests": "v3"}, at=base) == "v3"
