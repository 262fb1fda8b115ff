"""``mlops-actions plan`` on real git repositories: what needs training and why, in every output format."""

from __future__ import annotations

import ctypes
import ctypes.util
import json
import os
import shutil
import struct
import sys
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.commands.plan import resolve_base
from mlops_actions.gitio import Git
from mlops_actions.training.changes import spec_changes
from testkit import REPO, git
from testkit.registrykit import register

SPEC = "models/arrests/model.yaml"


def edit(root: Path, old: str, new: str, path: str = SPEC) -> None:
    text = (root / path).read_text()
    assert old in text
    (root / path).write_text(text.replace(old, new, 1))


def run(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["-C", str(root), "plan", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def add_model(root: Path, name: str) -> None:
    shutil.copytree(root / "models/arrests", root / f"models/{name}")
    edit(root, "name: arrests", f"name: {name}", f"models/{name}/model.yaml")


def test_unregistered_model_needs_training(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(example_repo, capsys)
    assert code == 0
    assert "base: none" in out and "1 of 1 model(s) need training" in out
    assert "no version registered yet" in out


def test_spec_change_lists_keys_with_old_and_new_values(example_repo: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    register(example_repo)
    edit(example_repo, "C: 1.0", "C: 0.5")
    edit(example_repo, "    citizen: boolean\n", "    citizen: boolean\n    colour: categorical\n")
    code, out, _ = run(example_repo, capsys, "--base", "HEAD")
    assert code == 0
    assert "spec changed: estimator.params.C: 1.0 → 0.5" in out
    assert 'spec changed: data.features.colour: (absent) → "categorical"' in out
    assert "no version registered" not in out


def test_data_and_library_changes_are_reasons(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register(example_repo, versions={"scikit-learn": "1.0.0", "numpy": "1.26.0"})
    with (example_repo / "data/arrests.csv").open("a") as fh:
        fh.write("No,White,2002,21,Male,Yes,Yes,0\n")
    code, out, _ = run(example_repo, capsys, "--base", "HEAD")
    assert code == 0
    assert "data changed: data/arrests.csv (git:" in out
    assert "library changed since arrests@v1: scikit-learn 1.0.0 → " in out
    assert "library changed since arrests@v1: numpy 1.26.0 → " in out


def test_a_change_since_the_registered_base_is_explained_once(example_repo: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    register(example_repo)
    with (example_repo / "data/arrests.csv").open("a") as fh:
        fh.write("No,White,2002,21,Male,Yes,Yes,0\n")
    _, out, _ = run(example_repo, capsys, "--base", "HEAD", "--format", "json")
    (entry,) = json.loads(out)["include"]
    assert len(entry["reasons"]) == 1 and entry["reasons"][0].startswith("data changed: data/arrests.csv (git:")


def test_a_hand_edited_newer_tag_is_named_and_ignored(example_repo: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    register(example_repo)
    git(example_repo, "tag", "-a", "arrests@v2", "-m", '{"model": "arrests", "fingerprint": "forged"}')
    code, out, _ = run(example_repo, capsys, "--format", "json")
    assert code == 0 and json.loads(out) == {"include": []}  # v1 still matches; v2 is not trusted
    _, out, _ = run(example_repo, capsys)
    assert "arrests: matches arrests@v1; arrests@v2 ignored: the record does not follow" in out


def test_json_is_a_matrix(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_model(example_repo, "second")
    code, out, _ = run(example_repo, capsys, "--base", "HEAD", "--format", "json")
    assert code == 0
    doc = json.loads(out)
    assert list(doc) == ["include"]
    assert [e["model"] for e in doc["include"]] == ["arrests", "second"]
    assert doc["include"][1]["reasons"] == ["new model (not in HEAD)", "no version registered yet"]
    assert all(set(e) == {"model", "reasons"} for e in doc["include"])


def test_matches_registered_version_so_plan_is_empty(example_repo: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    register(example_repo)
    code, out, _ = run(example_repo, capsys)
    assert code == 0
    assert "plan is empty: nothing to train" in out and "arrests: matches arrests@v1" in out
    code, out, _ = run(example_repo, capsys, "--format", "json")
    assert json.loads(out) == {"include": []}


def test_changed_since_base_but_matching_a_version_needs_no_training(example_repo: Path,
                                                                     capsys: pytest.CaptureFixture[str]) -> None:
    edit(example_repo, "C: 1.0", "C: 0.5")
    register(example_repo)
    _, out, _ = run(example_repo, capsys, "--base", "HEAD")
    assert "plan is empty" in out and "matches arrests@v1 (though it changed since HEAD)" in out


def test_spec_diff_against_the_records_commit(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    register(example_repo, commit=git(example_repo, "rev-parse", "HEAD"))
    edit(example_repo, "C: 1.0", "C: 2.0")
    git(example_repo, "commit", "-qam", "C=2")
    _, out, _ = run(example_repo, capsys, "--base", "HEAD")  # nothing changed since the base itself
    assert "spec changed since arrests@v1: estimator.params.C: 1.0 → 2.0" in out


def test_github_output_and_notices(example_repo: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(output))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    code, out, _ = run(example_repo, capsys)
    assert code == 0
    assert out.startswith("::notice title=mlops-actions plan::arrests needs training: no version registered yet")
    lines = output.read_text().splitlines()
    assert lines[0].startswith("matrix<<ghadelimiter_")
    assert json.loads(lines[1]) == {"include": [{"model": "arrests", "reasons": ["no version registered yet"]}]}
    assert "count<<" in output.read_text() and "\n1\n" in output.read_text()
    assert "| `arrests` | no version registered yet |" in summary.read_text()


def test_empty_plan_under_actions(example_repo: Path, capsys: pytest.CaptureFixture[str],
                                  monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    register(example_repo)
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "output"))
    code, out, _ = run(example_repo, capsys)
    assert code == 0 and "::notice title=mlops-actions plan::plan is empty" in out
    assert '{"include":[]}' in (tmp_path / "output").read_text()


def test_unknown_base_is_a_clear_error(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(example_repo, capsys, "--base", "no-such-branch")
    assert code == 1 and out == ""
    assert "--base 'no-such-branch' names no commit" in err and "fetch-depth: 0" in err
    assert "Traceback" not in err


def test_bad_format_is_a_usage_error(example_repo: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["-C", str(example_repo), "plan", "--format", "yaml"])
    assert exc.value.code == 2


def test_model_deleted_at_head(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_model(example_repo, "second")
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "second")
    shutil.rmtree(example_repo / "models/arrests")
    code, out, _ = run(example_repo, capsys, "--base", "HEAD", "--format", "json")
    assert code == 0 and [e["model"] for e in json.loads(out)["include"]] == ["second"]
    _, out, _ = run(example_repo, capsys, "--base", "HEAD")
    assert "removed: arrests (removed: in HEAD, not in the work tree)" in out


def test_models_filter_and_unknown_model(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    add_model(example_repo, "second")
    _, out, _ = run(example_repo, capsys, "--models", "second", "--format", "json")
    assert [e["model"] for e in json.loads(out)["include"]] == ["second"]
    code, _, err = run(example_repo, capsys, "--models", "second,ghost")
    assert code == 1 and "unknown model(s): ghost" in err


def test_invalid_spec_of_a_model_to_train_is_refused(example_repo: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    edit(example_repo, "task: classification", "task: clustering")
    code, out, _ = run(example_repo, capsys)
    assert code == 1
    assert "models/arrests/model.yaml:" in out and "'clustering' is not one of" in out
    assert "plan refused" in out


def test_unparseable_spec_is_refused_with_its_place(example_repo: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    (example_repo / SPEC).write_text("name: [unclosed\n")
    code, out, _ = run(example_repo, capsys)
    assert code == 1 and "models/arrests/model.yaml:" in out and "YAML" in out


class Watch:
    """Linux inotify on one folder: the names of files any process opens or reads there."""

    def __init__(self, folder: Path) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK)
        if self.fd < 0 or libc.inotify_add_watch(self.fd, str(folder).encode(), 0x1 | 0x20) < 0:
            pytest.skip("inotify is not available")

    def drain(self) -> set[str]:
        names: set[str] = set()
        try:
            buf = os.read(self.fd, 1 << 16)
        except BlockingIOError:
            return names
        pos = 0
        while pos < len(buf):
            size = struct.unpack_from("iIII", buf, pos)[3]
            names.add(buf[pos + 16:pos + 16 + size].rstrip(b"\0").decode())
            pos += 16 + size
        return names


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify is Linux-only")
def test_plan_reads_no_data_file(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = example_repo / "data/arrests.csv"
    register(example_repo)
    os.utime(data, (1_600_000_000, 1_600_000_000))  # as after a checkout: older than the index
    git(example_repo, "update-index", "-q", "--refresh")
    edit(example_repo, "C: 1.0", "C: 0.5")
    watch = Watch(example_repo / "data")
    try:
        code, out, _ = run(example_repo, capsys, "--base", "HEAD")
        assert code == 0 and "estimator.params.C" in out
        assert watch.drain() == set()  # nothing in data/ was opened, by us or by git
        with data.open("a") as fh:
            fh.write("No,White,2002,21,Male,Yes,Yes,0\n")
        watch.drain()
        code, out, _ = run(example_repo, capsys, "--base", "HEAD")
        assert code == 0 and "data changed: data/arrests.csv" in out
        assert watch.drain() == {"arrests.csv"}  # a changed file is read (once), which proves the watch works
    finally:
        os.close(watch.fd)


def test_default_base_is_merge_base_then_parent(example_repo: Path) -> None:
    g = Git(example_repo)
    assert resolve_base(g, None) is None  # one commit, no origin/main
    first = git(example_repo, "rev-parse", "HEAD")
    git(example_repo, "commit", "-q", "--allow-empty", "-m", "second")
    second = git(example_repo, "rev-parse", "HEAD")
    base = resolve_base(g, None)
    assert base is not None and base.commit == first and base.label.startswith("HEAD~1")
    git(example_repo, "update-ref", "refs/remotes/origin/main", first)
    git(example_repo, "commit", "-q", "--allow-empty", "-m", "third")
    base = resolve_base(g, None)
    assert base is not None and base.commit == first and "origin/main (merge-base" in base.label
    git(example_repo, "update-ref", "refs/remotes/origin/release", second)
    base = resolve_base(g, None, "release")
    assert base is not None and base.commit == second and base.label.startswith("origin/release")


def test_spec_changes_paths_and_values() -> None:
    old = {"a": {"b": 1, "c": [1, 2]}, "d": "x", "gates": [{"min": 0.7}]}
    new = {"a": {"b": 2, "c": [1, 2, 3]}, "e": True, "gates": [{"min": 0.8}]}
    assert spec_changes(old, new) == ['a.b: 1 → 2', 'a.c: [1, 2] → [1, 2, 3]', 'd: "x" → (absent)',
                                      'e: (absent) → true', 'gates[0].min: 0.7 → 0.8']
    assert spec_changes({"a": 1}, {"a": 1.0}) == ["a: 1 → 1.0"]


@pytest.mark.slow
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the benchmark watches files with inotify")
def test_benchmark_runs_at_a_tiny_size(tmp_path: Path) -> None:
    """bench_plan.py cannot rot: it runs end to end (without dvc) on 12 models and 1 MB of data."""
    import subprocess

    argv = [sys.executable, str(REPO / "benchmarks/bench_plan.py"), "--models", "12", "--megabytes", "1",
            "--no-dvc", "--edits", "1,3", "--repeat", "1", "--cache", str(tmp_path)]
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 spec(s)" in proc.stdout and "3 data(s)" in proc.stdout
    assert "dvc: skipped (--no-dvc)" in proc.stdout and "no unchanged data file was opened" in proc.stdout


def test_repository_without_commits(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "fresh"
    shutil.copytree(REPO / "examples/arrests", root)
    git(root, "init", "-q", "-b", "main")
    code, out, _ = run(root, capsys, "--format", "json")
    assert code == 0
    assert json.loads(out) == {"include": [{"model": m, "reasons": ["no version registered yet"]}
                                           for m in ("arrests", "arrests-gbm", "arrests-np")]}


def test_outside_a_git_repository(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "plain"
    shutil.copytree(REPO / "examples/arrests", root)
    code, out, err = run(root, capsys)
    assert code == 1 and out == ""
    assert "not a git repository" in err and "Traceback" not in err


def test_many_models_are_summarised_in_annotations(example_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for i in range(12):
        add_model(example_repo, f"m{i:02d}")
    code, out, _ = run(example_repo, capsys, "--format", "github")
    notices = [line for line in out.splitlines() if line.startswith("::notice")]
    assert code == 0 and len(notices) == 11
    assert "3 more model(s) need training" in notices[-1]
