"""`mlops-actions history`: versions from real tags in real git repositories; where each runs from the
environment files (offline) or from GitHub Deployments (the emulator); invalid records shown, never trusted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from mlops_actions.cli import main
from mlops_actions.commands.history import read_versions
from mlops_actions.github.client import ClientConfig
from mlops_actions.github.repo import GitHubRepo
from mlops_actions.github.values import DeploymentRequest
from mlops_actions.registry.approvals import Approver
from mlops_actions.registry.history import FILES, GITHUB, Placement, history, utc
from mlops_actions.registry.records import local_versions
from mlops_actions.registry.versioning import Provenance, tag_message, version_record
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import REPO, git

GH_REPO = "acme/arrests"
SIGNATURE = "-----BEGIN PGP SIGNATURE-----\n\niQEzBAABCAAdFiEE\n-----END PGP SIGNATURE-----\n"


def trained(model: str, seed: int) -> dict:
    """What `train` writes as record.json (the part the version record starts from)."""
    digest = f"{seed:02x}" * 32
    return {"record_version": 1, "model": model, "task": "classification", "fingerprint": digest,
            "data": [{"path": "data/arrests.csv", "hash": "git:" + "ab" * 20, "rows": 5226}],
            "libraries": {"scikit-learn": "1.5.2"},
            "artifact": {"file": "model.skops", "sha256": "cd" * 32, "format": "skops"},
            "metrics": {"accuracy": round(0.8 + seed / 100, 4), "f1": 0.7, "log_loss": None, "roc_auc": 0.9},
            "metric_directions": {"accuracy": "higher", "f1": "higher", "log_loss": "lower"},
            "timings": {"fit": 0.5}}


def register(root: Path, model: str, number: int, *, when: str = "2026-11-20T10:00:00Z") -> dict:
    """Tag ``model@v<number>`` on HEAD with the record register would write (same functions)."""
    commit = git(root, "rev-parse", "HEAD")
    approvers = (Approver("alice", commit, "2026-11-19T09:00:00Z"), Approver("carol", commit, "2026-11-19T09:30:00Z"))
    provenance = Provenance(commit, number + 10, approvers, "carol", None, when)
    record = version_record(trained(model, number), number, provenance, {"verdict": "pass"})
    _tag(root, f"{model}@v{number}", tag_message(record))
    return record


def _tag(root: Path, name: str, message: str, target: str = "HEAD") -> None:
    subprocess.run(["git", "tag", "-a", name, target, "-F", "-"], cwd=root, input=message, text=True, check=True,
                   capture_output=True)


def set_environment(root: Path, env: str, text: str, *, commit: bool = True) -> None:
    (root / "environments" / f"{env}.yaml").write_text(text)
    if commit:
        git(root, "commit", "-q", "-am", f"{env}: {text.strip()}")


def run(root: Path, *args: str) -> int:
    return main(["-C", str(root), "history", *args])


def as_json(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> dict:
    capsys.readouterr()
    assert run(root, *args, "--format", "json") == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture
def repo(example_repo: Path) -> Path:
    """The example with arrests v1..v3 registered; staging runs v3, production v2 (files at HEAD)."""
    for number in (1, 2, 3):
        register(example_repo, "arrests", number, when=f"2026-11-2{number}T10:00:00Z")
    set_environment(example_repo, "staging", "arrests: v3\n")
    set_environment(example_repo, "production", "arrests: v2\n")
    return example_repo


# offline: environment files ---------------------------------------------------------------------------


def test_text_lists_versions_newest_first_with_where_the_files_say_they_run(repo: Path, capsys) -> None:
    assert run(repo) == 0
    out = capsys.readouterr().out
    assert out.startswith("deployed: desired (environments/*.yaml)\n")
    lines = [line for line in out.splitlines() if line.startswith("arrests@")]
    assert [line.split()[0] for line in lines] == ["arrests@v3", "arrests@v2", "arrests@v1"]
    v3 = lines[0]
    assert "2026-11-23 10:00" in v3 and ("03" * 6) in v3 and ("03" * 7) not in v3  # short fingerprint
    assert "accuracy=0.83 f1=0.7 log_loss=n/a" in v3 and "roc_auc" not in v3  # the spec's metrics
    assert "alice, carol" in v3 and v3.rstrip().endswith("staging")
    assert lines[1].rstrip().endswith("production") and lines[2].rstrip().endswith("-")


def test_json_is_deterministic_and_complete(repo: Path, capsys) -> None:
    first = subprocess.run([sys.executable, "-m", "mlops_actions", "-C", str(repo), "history", "--format", "json"],
                           capture_output=True, check=True, env=_offline_env()).stdout
    again = subprocess.run([sys.executable, "-m", "mlops_actions", "-C", str(repo), "history", "--format", "json"],
                           capture_output=True, check=True, env=_offline_env()).stdout
    assert first == again
    data = json.loads(first)
    assert data["deployed_from"] == FILES and data["model"] is None
    assert data["environments"] == {"staging": {"arrests": "v3"}, "production": {"arrests": "v2"}}
    v3 = data["versions"][0]
    assert v3 == {"model": "arrests", "version": "v3", "tag": "arrests@v3", "date": "2026-11-23T10:00:00Z",
                  "fingerprint": "03" * 32, "metrics": {"accuracy": 0.83, "f1": 0.7, "log_loss": None,
                                                        "roc_auc": 0.9},
                  "key_metrics": ["accuracy", "f1", "log_loss"], "approvers": ["alice", "carol"],
                  "deployed": ["staging"], "problem": None}
    assert data["notes"] == []


def _offline_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GITHUB_REPOSITORY")}


def test_the_files_at_head_count_not_uncommitted_edits(repo: Path, capsys) -> None:
    set_environment(repo, "staging", "arrests: v1\n", commit=False)
    data = as_json(repo, capsys)
    assert data["environments"]["staging"] == {"arrests": "v3"}


def test_a_second_run_remembers_valid_files_and_records_but_sees_every_change(repo: Path, capsys) -> None:
    first = as_json(repo, capsys)
    assert as_json(repo, capsys) == first  # answered from .git/mlops-actions/cache.json
    set_environment(repo, "staging", "arrests: v1\n")
    (repo / "mlops.yaml").write_text((repo / "mlops.yaml").read_text().replace("  - name: production\n", "  - name: "
                                     "production\n    required_contexts: [ci]\n", 1))
    data = as_json(repo, capsys)
    assert data["environments"]["staging"] == {"arrests": "v1"}
    (repo / "mlops.yaml").write_text("environments: 3\n")
    assert run(repo) == 1  # a cached answer for the old content does not hide the new one


def test_an_environment_naming_an_unregistered_version_is_noted(repo: Path, capsys) -> None:
    set_environment(repo, "staging", "arrests: v7\n")
    data = as_json(repo, capsys)
    assert data["notes"] == ["staging names arrests v7, but there is no version tag arrests@v7"]
    assert run(repo) == 0
    assert "notes:\n  staging names arrests v7" in capsys.readouterr().out


def test_one_model_only(repo: Path, capsys) -> None:
    register(repo, "other", 1)
    data = as_json(repo, capsys, "arrests")
    assert data["model"] == "arrests" and {v["model"] for v in data["versions"]} == {"arrests"}
    assert [v["model"] for v in as_json(repo, capsys)["versions"]] == ["arrests"] * 3 + ["other"]


def test_hand_edited_record_is_listed_as_invalid_and_not_trusted(repo: Path, capsys) -> None:
    good = json.loads(git(repo, "tag", "-l", "--format=%(contents)", "arrests@v3"))
    forged = {**good, "version": "v4", "metrics": {"accuracy": 0.99}}
    _tag(repo, "arrests@v4", json.dumps(forged))  # a copy of v3's record, edited: the schema still holds
    _tag(repo, "arrests@v5", '{"model": "arrests", "hand": "edited"}')
    git(repo, "tag", "arrests@v6")  # lightweight
    set_environment(repo, "staging", "arrests: v5\n")
    data = as_json(repo, capsys)
    rows = {v["version"]: v for v in data["versions"]}
    assert rows["v4"]["problem"] is None and rows["v4"]["metrics"] == {"accuracy": 0.99}  # valid: shown as is
    for version in ("v5", "v6"):
        assert rows[version]["problem"] and rows[version]["fingerprint"] is None
        assert rows[version]["metrics"] == {} and rows[version]["approvers"] == []
    assert "schemas/version-record" in rows["v5"]["problem"] and "lightweight" in rows["v6"]["problem"]
    assert rows["v5"]["deployed"] == ["staging"]  # where it runs is the file's word, not the record's
    assert run(repo) == 0
    out = capsys.readouterr().out
    assert "arrests@v5" in out and "INVALID: the record does not follow" in out
    assert "2 version record(s) are invalid and not trusted:\n  arrests@v6: lightweight" in out


def test_record_of_another_model_is_not_trusted(repo: Path, capsys) -> None:
    record = json.loads(git(repo, "tag", "-l", "--format=%(contents)", "arrests@v1"))
    _tag(repo, "other@v1", json.dumps(record))
    [row] = as_json(repo, capsys, "other")["versions"]
    assert "of model 'arrests', not 'other'" in row["problem"]


def test_unknown_model_is_a_clear_input_error(repo: Path, capsys) -> None:
    assert run(repo, "nope") == 1
    err = capsys.readouterr().err
    assert "unknown model 'nope'" in err and "models/nope/model.yaml" in err and "Traceback" not in err
    assert run(repo, "../../etc") == 1


def test_model_with_a_spec_but_no_version_yet(example_repo: Path, capsys) -> None:
    assert run(example_repo, "arrests") == 0
    assert "arrests: no version yet" in capsys.readouterr().out
    assert as_json(example_repo, capsys, "arrests")["versions"] == []


def test_invalid_environment_file_at_head_names_the_file(repo: Path, capsys) -> None:
    set_environment(repo, "staging", "arrests: latest\n")
    assert run(repo) == 1
    err = capsys.readouterr().err
    assert "environments/staging.yaml" in err and "invalid environment file" in err


def test_invalid_policy_names_the_file(repo: Path, capsys) -> None:
    (repo / "mlops.yaml").write_text("environments: 3\n")
    assert run(repo) == 1
    assert "mlops.yaml: the policy is not valid" in capsys.readouterr().err


def test_control_characters_from_a_record_never_reach_the_terminal(repo: Path, capsys) -> None:
    record = json.loads(git(repo, "tag", "-l", "--format=%(contents)", "arrests@v1"))
    record["approvers"][0]["login"] = "eve\x1b[2J"  # valid for the schema: any string
    _tag(repo, "arrests@v9", json.dumps({**record, "version": "v9"}))
    assert run(repo) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "eve?[2J, carol" in out


def test_no_heavy_imports(repo: Path) -> None:
    code = ("import sys; from mlops_actions.cli import main; code = main(['-C', sys.argv[1], 'history']); "
            "print(sorted(m for m in ('pandas', 'sklearn', 'numpy', 'github', 'pyarrow') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code, str(repo)], capture_output=True, text=True, check=True,
                         env=_offline_env()).stdout
    assert out.strip().endswith("[]")


# the fast reader agrees with records.local_versions ----------------------------------------------------


def test_read_versions_agrees_with_local_versions(repo: Path) -> None:
    record = json.loads(git(repo, "tag", "-l", "--format=%(contents)", "arrests@v1"))
    _tag(repo, "arrests@v4", json.dumps({**record, "version": "v9"}))  # wrong version
    _tag(repo, "arrests@v5", json.dumps({**record, "version": "v5"}) + "\n" + SIGNATURE)  # signed, valid
    _tag(repo, "arrests@v6", "not json")
    _tag(repo, "arrests@v7", json.dumps({**record, "version": "v7", "fingerprint": "xyz"}))
    _tag(repo, "arrests@v8", json.dumps({k: v for k, v in record.items() if k != "version"}))  # no version: ok
    git(repo, "tag", "arrests@v10")
    _tag(repo, "other@v1", json.dumps(record))
    _tag(repo, "not-a-version", json.dumps(record))
    expected = local_versions(repo)
    assert read_versions(repo) == expected  # first: checks every record
    assert read_versions(repo) == expected  # then: valid tag objects remembered by id
    assert read_versions(repo, "other") == local_versions(repo, "other")
    assert [(v.number, v.problem is None) for v in expected if v.model == "arrests"] == [
        (1, True), (2, True), (3, True), (4, False), (5, True), (6, False), (7, False), (8, True), (10, False)]


def _messy(repo: Path) -> None:
    """Valid, signed, hand-edited, lightweight and misnamed tags, and a GTO-style tag (no version of ours)."""
    record = json.loads(git(repo, "tag", "-l", "--format=%(contents)", "arrests@v1"))
    _tag(repo, "arrests@v4", json.dumps({**record, "version": "v9"}))  # wrong version
    _tag(repo, "arrests@v5", json.dumps({**record, "version": "v5"}) + "\n" + SIGNATURE)  # signed, valid
    _tag(repo, "arrests@v6", "not json")
    _tag(repo, "arrests@v7", json.dumps({**record, "version": "v7", "fingerprint": "xyz"}))
    no_date = {k: v for k, v in record.items() if k not in ("version", "created_at")}
    _tag(repo, "arrests@v8", json.dumps(no_date))  # no version (ok), no created_at: the tagger's date counts
    git(repo, "tag", "arrests@v10")
    _tag(repo, "arrests@v1.0.0", json.dumps(record))
    # the tag object of arrests@v2 reached through another name: its record names arrests v2, not other v3
    git(repo, "update-ref", "refs/tags/other@v3", git(repo, "rev-parse", "refs/tags/arrests@v2"))


def test_listed_versions_give_the_rows_of_local_versions_cold_warm_and_from_a_tampered_cache(repo: Path) -> None:
    from mlops_actions.gitcache import CACHE_FILE, RepoCache
    from mlops_actions.gitio import Git
    from mlops_actions.registry.version_index import ROWS, listed_versions

    _messy(repo)
    placement = Placement(FILES, {"staging": {"arrests": "v3"}})
    expected = history(local_versions(repo), placement).rows
    assert [r.problem is None for r in expected if r.model == "other"] == [False]
    for _ in range(2):  # cold: objects read and checked; warm: every valid one from the cache
        cache = RepoCache(Git(repo))
        assert history(listed_versions(Git(repo), cache), placement).rows == expected
        cache.save()
    cache = RepoCache(Git(repo))
    assert len(cache.section(ROWS)) == 5  # arrests v1, v2, v3, v5, v8: only valid records are remembered
    entries = json.loads((repo / ".git" / CACHE_FILE).read_text())
    first = sorted(entries["sections"][ROWS])
    entries["sections"][ROWS][first[0]] = {"r": "junk", "c": 1}
    entries["sections"][ROWS][first[1]]["r"]["model"] = "someone-else"
    (repo / ".git" / CACHE_FILE).write_text(json.dumps(entries))
    assert history(listed_versions(Git(repo), RepoCache(Git(repo))), placement).rows == expected
    assert history(listed_versions(Git(repo), RepoCache(Git(repo)), "other"), placement, "other").rows == \
        history(local_versions(repo, "other"), placement, "other").rows


def test_simple_table_is_tabulate_simple_text() -> None:
    from tabulate import tabulate

    from mlops_actions.reporting.tables import text_table as simple_table

    headers = ["version", "", "metrics"]
    rows = [["a@v1", "", " x  y "], ["", "", ""], ["b@v22", "zz", "0.1 {0}"], ["c@v3", " ", "%s"]]
    assert simple_table(headers, rows) == tabulate(rows, tablefmt="simple", disable_numparse=True, headers=headers)
    wide = [["d@v1", "名前", "x"]]  # not ASCII: tabulate itself measures the width
    assert simple_table(headers, wide) == tabulate(wide, tablefmt="simple", disable_numparse=True, headers=headers)


# pure rows --------------------------------------------------------------------------------------------


def _ref(model: str, number: int, record: dict | None, problem: str | None = None) -> SimpleNamespace:
    return SimpleNamespace(model=model, number=number, tag=f"{model}@v{number}", record=record, problem=problem,
                           created="2026-11-27T11:00:00+01:00")


def test_rows_sorted_by_model_then_newest_and_placed_in_policy_order() -> None:
    record = {"fingerprint": "f" * 64, "metrics": {"b": 1.0, "a": 2.0}, "approvers": [{"login": "x"}]}
    placement = Placement(GITHUB, {"staging": {"m": "v2", "n": "v1"}, "production": {"m": "v2"}})
    result = history([_ref("n", 1, record), _ref("m", 1, None, "bad"), _ref("m", 2, record)], placement)
    assert [(r.model, r.version) for r in result.rows] == [("m", "v2"), ("m", "v1"), ("n", "v1")]
    assert result.rows[0].deployed == ("staging", "production") and result.rows[0].key_metrics == ("a", "b")
    assert result.rows[1].problem == "bad" and result.rows[1].date == "2026-11-27T10:00:00Z"
    assert result.rows[1].deployed == () and result.invalid == (result.rows[1],)
    assert result.to_dict()["deployed_from_label"].startswith("GitHub Deployments")
    assert history([], placement, "m").notes == ("staging names m v2, but there is no version tag m@v2",
                                                "production names m v2, but there is no version tag m@v2")


def test_utc() -> None:
    assert utc("2026-11-27T11:00:00+01:00") == "2026-11-27T10:00:00Z"
    assert utc("2026-11-27T10:00:00Z") == "2026-11-27T10:00:00Z"
    assert utc("2026-11-27T10:00:00.123456Z") == "2026-11-27T10:00:00Z"
    assert utc("yesterday") == "yesterday" and utc(None) == ""


# online: GitHub Deployments (emulator) ---------------------------------------------------------------


@pytest.fixture
def online(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLOPS_GITHUB_WRITE_PAUSE", "0")
    gh = GitHubEmulator(users=["bot:bot-token:write"], repo_dir=repo, repos=[GH_REPO]).start()
    monkeypatch.setenv("GITHUB_API_URL", gh.url)
    monkeypatch.setenv("GITHUB_REPOSITORY", GH_REPO)
    monkeypatch.setenv("GITHUB_TOKEN", "bot-token")
    bot = GitHubRepo.open(ClientConfig(api_url=gh.url, token="bot-token", repository=GH_REPO,
                                       seconds_between_writes=0))
    yield bot
    gh.stop()


def _deploy(bot: GitHubRepo, root: Path, tag: str, env: str, state: str = "success") -> None:
    record = json.loads(git(root, "tag", "-l", "--format=%(contents)", tag))
    made = bot.create_deployment(DeploymentRequest(tag, env, payload=record, description=f"deploy {tag}"))
    bot.set_deployment_status(made.id, state)


def test_online_reads_github_deployments_not_the_files(repo: Path, online: GitHubRepo, capsys) -> None:
    _deploy(online, repo, "arrests@v1", "staging")
    _deploy(online, repo, "arrests@v2", "staging")
    _deploy(online, repo, "arrests@v3", "staging", state="failure")  # the file says v3; GitHub failed it
    _deploy(online, repo, "arrests@v1", "production")
    data = as_json(repo, capsys)
    assert data["deployed_from"] == GITHUB
    assert data["environments"] == {"staging": {"arrests": "v2"}, "production": {"arrests": "v1"}}
    assert {v["version"]: v["deployed"] for v in data["versions"]} == {"v3": [], "v2": ["staging"],
                                                                      "v1": ["production"]}
    assert run(repo) == 0
    assert capsys.readouterr().out.startswith("deployed: GitHub Deployments")
    assert as_json(repo, capsys, "--offline")["deployed_from"] == FILES


def test_online_token_problems_are_clear(repo: Path, online: GitHubRepo, monkeypatch, capsys) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", "wrong-token")
    assert run(repo) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "wrong-token" not in err


# the benchmark, tiny ----------------------------------------------------------------------------------


def test_benchmark_smoke(tmp_path: Path, capsys) -> None:
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        import bench_history
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    gto = bench_history.gto_path(None)
    times = bench_history.run(models=2, versions=3, repeat=1, gto=gto, workdir=tmp_path)
    bench_history.report(times)
    out = capsys.readouterr().out
    assert "6 version tags" in out and "ours history" in out
    assert ("gto show" in times) == (gto is not None)
