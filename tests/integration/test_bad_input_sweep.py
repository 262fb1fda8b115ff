"""Bad input from a careless or hostile user, command by command: each case ends with exit 1 (2 for
command-line usage), a message that names the thing and says what to do, no traceback, and nothing
half-written. A few controls (BOM, CRLF, an annotated tag as --base) show what must still be accepted."""

from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.errors import EXIT_INVALID, EXIT_USAGE, InputError
from testkit import EXAMPLE, git
from testkit.promokit import REPO as PROMOTION_REPO
from testkit.promokit import World, _tags, template, world  # noqa: F401 (fixtures: a merged, approved PR)
from testkit.promokit import _run as _run_world

Mutate = Callable[[Path], None]


# ---------------------------------------------------------------------------------------------- helpers


def _run(argv: list[str], capsys: pytest.CaptureFixture[str], env: dict[str, str] | None = None
         ) -> tuple[int, str, str]:
    full = {"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], **(env or {})}
    try:
        code = main(argv, env=full)
    except SystemExit as exc:  # argparse: usage errors
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def _refused(result: tuple[int, str, str], code: int, *needles: str) -> str:
    got, out, err = result
    text = out + err
    assert "Traceback" not in text, text
    assert "internal error" not in text, text
    assert got == code, text
    for needle in needles:
        assert needle in text, f"{needle!r} not in:\n{text}"
    return text


def _tree(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*")) if folder.exists() else []


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example repository (a real git repo), trained once into ``mlops-out``."""
    root = tmp_path_factory.mktemp("sweep") / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    assert main(["-C", str(root), "train", "arrests"]) == 0
    return root


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory, trained: Path) -> Path:
    """Data files good and bad, next to each other."""
    folder = tmp_path_factory.mktemp("files")
    good = (trained / "data" / "arrests.csv").read_bytes()
    lines = good.decode().splitlines(keepends=True)
    (folder / "ok.csv").write_bytes(good)
    (folder / "empty.csv").write_bytes(b"")
    (folder / "binary.csv").write_bytes(bytes(range(256)) * 8)
    (folder / "bom.csv").write_bytes(b"\xef\xbb\xbf" + good)
    (folder / "crlf.csv").write_bytes(good.replace(b"\n", b"\r\n"))
    (folder / "latin1.csv").write_bytes("".join(lines[:50]).replace("White", "Wéite").encode("latin-1"))
    (folder / "header_only.csv").write_text(lines[0])
    (folder / "folder.csv").mkdir()
    (folder / "ok.txt").write_bytes(good)
    (folder / "loop1.csv").symlink_to(folder / "loop2.csv")
    (folder / "loop2.csv").symlink_to(folder / "loop1.csv")
    (folder / "truncated.parquet").write_bytes(
        (trained / "mlops-out" / "arrests" / "predictions.parquet").read_bytes()[:300])
    (folder / "a-file").write_text("not a folder\n")
    import pandas as pd

    frame = pd.read_csv(folder / "ok.csv")
    frame.head(0).to_parquet(folder / "zero.parquet")
    frame.assign(one="x").to_csv(folder / "one-group.csv", index=False)
    return folder


# ------------------------------------------------------------------------------------- -C (repo root)

ROOT_COMMANDS = [["validate"], ["plan"], ["train", "arrests"], ["report"], ["history"], ["run"]]


@pytest.mark.parametrize("cmd", ROOT_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("kind", ["file", "missing"])
def test_repo_root_that_is_no_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str,
                                     cmd: list[str]) -> None:
    target = tmp_path / "x"
    if kind == "file":
        target.write_text("x")
    _refused(_run(["-C", str(target), *cmd], capsys), EXIT_USAGE, str(target), "is not a folder")


@pytest.mark.parametrize("cmd", [["plan"], ["run"], ["report"], ["history"]], ids=lambda c: c[0])
def test_repo_root_outside_any_git_repo(tmp_path: Path, capsys: pytest.CaptureFixture[str], cmd: list[str]) -> None:
    folder = tmp_path / "plain"
    shutil.copytree(EXAMPLE, folder)
    _refused(_run(["-C", str(folder), *cmd], capsys), EXIT_INVALID, "not a git repository",
             "run mlops-actions inside a git checkout")


@pytest.mark.parametrize("cmd", [["plan", "--base", "HEAD"], ["report", "--base", "HEAD~1"]], ids=lambda c: c[0])
def test_git_repo_without_commits(tmp_path: Path, capsys: pytest.CaptureFixture[str], cmd: list[str]) -> None:
    folder = tmp_path / "fresh"
    shutil.copytree(EXAMPLE, folder)
    git(folder, "init", "-q", "-b", "main")
    _refused(_run(["-C", str(folder), *cmd], capsys), EXIT_INVALID, "names no commit", "pass another --base")


# ---------------------------------------------------------------------------------------------- models

BAD_NAMES = ["nope", "../x", "a/b", "$(id)", "", "arrests/../arrests", ".."]


def _model_cmd(cmd: str, name: str, files: Path) -> list[str]:
    return {"train": ["train", name, "--out", str(files / "never-written")],
            "monitor": ["monitor", name, "--current", str(files / "ok.csv"), "--reference", str(files / "ok.csv")],
            "refresh": ["refresh", name, "--verify"],
            "history": ["history", name],
            "plan": ["plan", "--models", name]}[cmd]


@pytest.mark.parametrize("cmd", ["train", "monitor", "refresh", "history", "plan"])
@pytest.mark.parametrize("name", BAD_NAMES, ids=repr)
def test_unknown_or_path_like_model_names(trained: Path, files: Path, capsys: pytest.CaptureFixture[str],
                                          name: str, cmd: str) -> None:
    result = _run(["-C", str(trained), *_model_cmd(cmd, name, files)], capsys)
    if cmd == "plan" and name == "":
        _refused(result, EXIT_USAGE, "--models names no model")
    else:
        text = _refused(result, EXIT_INVALID)
        assert "unknown model" in text or "there is no model" in text, text
        assert "hint:" in text, text
    assert not (files / "never-written").exists()


# ----------------------------------------------------------------------------------------------- --base


@pytest.mark.parametrize("cmd", ["plan", "report", "run"])
@pytest.mark.parametrize("base", ["nothing", "", "HEAD^{tree}", "HEAD:mlops.yaml", "0" * 40, "HEAD..HEAD"])
def test_base_that_names_no_commit(trained: Path, capsys: pytest.CaptureFixture[str], base: str, cmd: str) -> None:
    _refused(_run(["-C", str(trained), cmd, "--base", base], capsys), EXIT_INVALID,
             f"--base '{base}' names no commit", "hint:")


def test_an_annotated_tag_is_a_fine_base(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    subprocess.run(["git", "tag", "-f", "-a", "sweep-tag", "-m", "a tag"], cwd=trained, check=True)
    code, out, _ = _run(["-C", str(trained), "plan", "--base", "sweep-tag"], capsys)
    assert code == 0 and "base: sweep-tag" in out


def test_empty_models_list_is_a_usage_error(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["-C", str(trained), "plan", "--models", ","], capsys), EXIT_USAGE, "--models names no model")


# ----------------------------------------------------------------------------------------- report paths


def test_report_results_missing_says_to_train(trained: Path, tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["-C", str(trained), "report", "--results", str(tmp_path / "none")], capsys), EXIT_INVALID,
             "holds no results", "mlops-actions train arrests")


def test_report_results_is_a_file(trained: Path, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["-C", str(trained), "report", "--results", str(files / "a-file")], capsys), EXIT_INVALID,
             "a-file is a file, not a folder", "--results DIR")


def _results_copy(trained: Path, tmp_path: Path, mutate: Mutate | None = None) -> Path:
    results = tmp_path / "results"
    shutil.copytree(trained / "mlops-out" / "arrests", results / "arrests",
                    ignore=shutil.ignore_patterns("model-card.md"))
    if mutate is not None:
        mutate(results / "arrests")
    return results


@pytest.mark.parametrize("where", ["folder", "under-a-file"])
def test_report_out_that_cannot_be_a_file(trained: Path, files: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str], where: str) -> None:
    results = _results_copy(trained, tmp_path)
    before = _tree(results)
    out = files / "folder.csv" if where == "folder" else files / "a-file" / "report.md"
    _refused(_run(["-C", str(trained), "report", "--results", str(results), "--out", str(out)], capsys),
             EXIT_INVALID, f"--out {out}", "pass the path of the report file")
    assert _tree(results) == before  # no model card either: refused before any work


@pytest.mark.parametrize("kind", ["missing", "file"])
def test_report_base_results_that_is_no_folder(trained: Path, files: Path, capsys: pytest.CaptureFixture[str],
                                               kind: str) -> None:
    path = files / ("nope" if kind == "missing" else "a-file")
    _refused(_run(["-C", str(trained), "report", "--base-results", str(path)], capsys), EXIT_INVALID,
             f"--base-results {path}: no such folder", "--train-base")


# ------------------------------------------------------------------------------- corrupted train outputs


def _write(name: str, data: bytes) -> Mutate:
    return lambda folder: (folder / name).write_bytes(data)


def _json_edit(name: str, edit: Callable[[dict], object]) -> Mutate:
    def mutate(folder: Path) -> None:
        data = json.loads((folder / name).read_text())
        (folder / name).write_text(json.dumps(edit(data)))
    return mutate


def _list_predictions(folder: Path) -> None:
    import pandas as pd

    pd.DataFrame({"y_true": [[1], [2]], "y_pred": [[1], [0]], "colour": ["W", "B"],
                  "sex": ["M", "F"]}).to_parquet(folder / "predictions.parquet")


def _zip_with_pickle(marker: Path) -> bytes:
    class Boom:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return open, (str(marker), "w")  # unpickling this creates the marker file

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("schema.json", json.dumps({"__class__": "Boom", "__module__": "x", "protocol": 2}))
        zf.writestr("Boom.pkl", pickle.dumps(Boom()))
    return buffer.getvalue()


CORRUPTIONS: dict[str, tuple[Mutate, tuple[str, ...]]] = {
    "record not JSON": (_write("record.json", b"{nope"), ("record.json:1:2: not valid JSON", "train")),
    "record with BOM": (lambda f: (f / "record.json").write_bytes(b"\xef\xbb\xbf" + (f / "record.json").read_bytes()),
                        ("record.json:1:1: not valid JSON", "train")),
    "record a list": (_write("record.json", b"[]"), ("record.json: not a valid version record", "hint:")),
    "record missing keys": (_json_edit("record.json", lambda d: {k: v for k, v in d.items() if k != "fingerprint"}),
                            ("'fingerprint' is a required property", "mlops-actions train")),
    "record wrong type": (_json_edit("record.json", lambda d: {**d, "metrics": "high"}),
                          ("record.json: not a valid version record", "hint:")),
    "record missing": (lambda f: (f / "record.json").unlink(), ("record.json: file not found", "mlops-actions train")),
    "metrics not JSON": (_write("metrics.json", b"\x00\x01"), ("metrics.json:1:1: not valid JSON", "train")),
    "metrics a list": (_write("metrics.json", b"[1]"), ("metrics.json", "missing or malformed key 'metrics'")),
    "predictions truncated": (lambda f: (f / "predictions.parquet").write_bytes(
        (f / "predictions.parquet").read_bytes()[:300]), ("predictions.parquet: cannot read", "train")),
    "fairness.json not JSON, no predictions": (
        lambda f: ((f / "predictions.parquet").unlink(), (f / "fairness.json").write_text("x")),
        ("fairness.json:1:1: not valid JSON", "train")),
    "fairness.json groups not objects, no predictions": (
        lambda f: ((f / "predictions.parquet").unlink(), (f / "fairness.json").write_text('{"groups": [1, 2]}')),
        ("fairness.json: not the fairness aggregates train writes", "train")),
    "fairness.json summary not an object, no predictions": (
        lambda f: ((f / "predictions.parquet").unlink(),
                   (f / "fairness.json").write_text('{"groups": [], "summary": "x"}')),
        ("fairness.json: not the fairness aggregates train writes", "train")),
    "predictions hold lists": (_list_predictions, ("predictions.parquet: the predictions hold values that are no "
                                                   "labels", "train")),
    "model random bytes": (_write("model.skops", os.urandom(2048)), ("model.skops: sha256", "was replaced",
                                                                      "mlops-actions train")),
}


@pytest.mark.parametrize("summary", [False, True], ids=["comment", "summary"])
@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_report_on_corrupted_train_outputs(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           case: str, summary: bool) -> None:
    mutate, needles = CORRUPTIONS[case]
    results = _results_copy(trained, tmp_path, mutate)
    argv = ["-C", str(trained), "report", "--results", str(results), *(["--summary"] if summary else [])]
    _refused(_run(argv, capsys), EXIT_INVALID, *needles)


def test_report_refuses_a_model_replaced_by_a_zip_with_a_pickle(trained: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    marker = tmp_path / "unpickled"
    results = _results_copy(trained, tmp_path, _write("model.skops", _zip_with_pickle(marker)))
    _refused(_run(["-C", str(trained), "report", "--results", str(results)], capsys), EXIT_INVALID,
             "model.skops: sha256", "was replaced after training")
    assert not marker.exists()


@pytest.mark.parametrize("content", ["zip with a pickle", "random bytes", "empty", "missing"])
def test_loading_a_model_that_is_no_skops_file_refuses_and_never_unpickles(tmp_path: Path, content: str) -> None:
    from mlops_actions.training.artifact import load_artifact

    marker, path = tmp_path / "unpickled", tmp_path / "model.skops"
    data = {"zip with a pickle": _zip_with_pickle(marker), "random bytes": os.urandom(4096), "empty": b""}
    if content in data:
        path.write_bytes(data[content])
    with pytest.raises(InputError) as info:
        load_artifact(path, ("sklearn.",))
    assert str(path) in str(info.value) and info.value.hint
    assert not marker.exists()


def test_register_refuses_metrics_edited_after_training(trained: Path, tmp_path: Path) -> None:
    from mlops_actions.commands.register import edited_metrics
    from mlops_actions.commands.report import ReportOptions, build_reports

    intact = _results_copy(trained, tmp_path / "a")
    assert edited_metrics(intact, build_reports(trained, ReportOptions(results=intact))) == []
    edited = _results_copy(trained, tmp_path / "b", _json_edit(
        "metrics.json", lambda d: {**d, "metrics": {**d["metrics"], "accuracy": 0.99}}))
    problems = edited_metrics(edited, build_reports(trained, ReportOptions(results=edited)))
    assert problems == ["arrests: metrics.json does not hold the metrics record.json holds (edited after "
                        "training?); run `mlops-actions train` again"]


# ------------------------------------------------------------------------------------ train/run --out


@pytest.mark.parametrize("cmd", [["train", "arrests"], ["run"]], ids=lambda c: c[0])
@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_out_that_cannot_be_a_folder(trained: Path, files: Path, capsys: pytest.CaptureFixture[str],
                                     cmd: list[str], where: str) -> None:
    out = files / "a-file" if where == "a file" else files / "a-file" / "out"
    _refused(_run(["-C", str(trained), *cmd, "--out", str(out)], capsys), EXIT_INVALID,
             f"--out {out}", "is not a folder", "pass a folder with --out")
    assert (files / "a-file").read_text() == "not a folder\n"


# --------------------------------------------------------------------------------- monitor and fairness

BAD_DATA = {
    "missing.csv": "no such file", "folder.csv": "a folder, not a file", "empty.csv": "the file is empty",
    "binary.csv": "cannot read it as csv", "loop1.csv": "no such file", "header_only.csv": "no rows",
    "zero.parquet": "no rows", "truncated.parquet": "cannot read it as parquet",
    "ok.txt": "cannot tell the data format",
}


@pytest.mark.parametrize("flag", ["--current", "--reference"])
@pytest.mark.parametrize("name", sorted(BAD_DATA))
def test_monitor_bad_data_files(trained: Path, files: Path, capsys: pytest.CaptureFixture[str], name: str,
                                flag: str) -> None:
    other = "--reference" if flag == "--current" else "--current"
    argv = ["-C", str(trained), "monitor", "arrests", flag, str(files / name), other, str(files / "ok.csv")]
    _refused(_run(argv, capsys), EXIT_INVALID, str(files / name), BAD_DATA[name], "hint:")


@pytest.mark.parametrize("name", ["bom.csv", "crlf.csv"])
def test_monitor_accepts_bom_and_crlf(trained: Path, files: Path, capsys: pytest.CaptureFixture[str],
                                      name: str) -> None:
    argv = ["-C", str(trained), "monitor", "arrests", "--current", str(files / name), "--reference",
            str(files / "ok.csv"), "--format", "json"]
    code, out, err = _run(argv, capsys)
    assert code == 0, err
    assert json.loads(out)["verdict"] == "pass"


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root reads a chmod 000 file")
def test_monitor_unreadable_file(trained: Path, tmp_path: Path, files: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "secret.csv"
    shutil.copy(files / "ok.csv", path)
    path.chmod(0)
    argv = ["-C", str(trained), "monitor", "arrests", "--current", str(path), "--reference", str(files / "ok.csv")]
    _refused(_run(argv, capsys), EXIT_INVALID, str(path))


@pytest.mark.parametrize("threshold", ["nokey=1", "psi_fail=-1", "bins=0", "p_value=2", "psi_fail=nan"])
def test_monitor_bad_thresholds(trained: Path, files: Path, capsys: pytest.CaptureFixture[str],
                                threshold: str) -> None:
    argv = ["-C", str(trained), "monitor", "arrests", "--current", str(files / "ok.csv"), "--reference",
            str(files / "ok.csv"), "--threshold", threshold]
    _refused(_run(argv, capsys), EXIT_INVALID, f"threshold '{threshold.split('=')[0]}'")


def _fairness(trained: Path, path: Path, *extra: str) -> list[str]:
    return ["-C", str(trained), "fairness", str(path), "--y-true", "released", "--y-pred", "released",
            "--bootstrap", "0", *extra]


FAIRNESS_FILES = {
    "missing.csv": "no such file", "folder.csv": "not a file", "empty.csv": "the file is empty",
    "binary.csv": "columns 'released', 'colour' not found", "latin1.csv": "cannot read the file",
    "loop1.csv": "no such file",
    "header_only.csv": "the file has no rows", "zero.parquet": "the file has no rows",
    "truncated.parquet": "cannot read the file",
}


@pytest.mark.parametrize("name", sorted(FAIRNESS_FILES))
def test_fairness_bad_files(trained: Path, files: Path, capsys: pytest.CaptureFixture[str], name: str) -> None:
    argv = _fairness(trained, files / name, "--sensitive", "colour", "--pos-label", "Yes")
    _refused(_run(argv, capsys), EXIT_INVALID, str(files / name), FAIRNESS_FILES[name], "hint:")


FAIRNESS_ARGS = {
    "pos-label absent": (["--sensitive", "colour", "--pos-label", "Maybe"], EXIT_INVALID, "--pos-label 'Maybe'"),
    "no pos-label": (["--sensitive", "colour"], EXIT_INVALID, "--pos-label Yes"),
    "sensitive one value": (["--sensitive", "one", "--pos-label", "Yes"], EXIT_INVALID, "single group ('x')"),
    "sensitive missing": (["--sensitive", "nope", "--pos-label", "Yes"], EXIT_INVALID, "column 'nope' not found"),
    "sensitive empty": (["--sensitive", "", "--pos-label", "Yes"], EXIT_USAGE, "--sensitive needs"),
    "regression on text": (["--sensitive", "colour", "--task", "regression"], EXIT_INVALID, "not numeric"),
    "negative bootstrap": (["--sensitive", "colour", "--pos-label", "Yes", "--bootstrap", "-5"], EXIT_USAGE,
                           "--bootstrap"),
    "endless bootstrap": (["--sensitive", "colour", "--pos-label", "Yes", "--bootstrap", "100000000"], EXIT_USAGE,
                          "is more than 100,000 replicates"),
    "a column both sensitive and control": (["--sensitive", "colour", "--control", "colour", "--pos-label", "Yes"],
                                            EXIT_INVALID, "either sensitive or control"),
}


@pytest.mark.parametrize("case", sorted(FAIRNESS_ARGS))
def test_fairness_bad_arguments(trained: Path, files: Path, capsys: pytest.CaptureFixture[str], case: str) -> None:
    extra, code, needle = FAIRNESS_ARGS[case]
    _refused(_run(_fairness(trained, files / "one-group.csv", *extra), capsys), code, needle)


# ----------------------------------------------------------------------------------- GitHub environment

GOOD_ENV = {"GITHUB_TOKEN": "t0ken", "GITHUB_REPOSITORY": "octo/repo", "GITHUB_API_URL": "http://127.0.0.1:9"}
BAD_ENV: dict[str, tuple[dict[str, str | None], str]] = {
    "repository without slash": ({"GITHUB_REPOSITORY": "noslash"}, "is not of the form owner/name"),
    "repository a/b/c": ({"GITHUB_REPOSITORY": "a/b/c"}, "is not of the form owner/name"),
    "API URL not a URL": ({"GITHUB_API_URL": "not a url"}, "is not an http(s) URL"),
    "event file missing": ({"GITHUB_EVENT_PATH": "{files}/nope.json"}, "cannot read the event payload"),
    "event file not JSON": ({"GITHUB_EVENT_PATH": "{files}/binary.csv"}, "not valid JSON"),
    "event file a folder": ({"GITHUB_EVENT_PATH": "{files}/folder.csv"}, "cannot read the event payload"),
    "no token": ({"GITHUB_TOKEN": None}, "GITHUB_TOKEN"),
}
GITHUB_COMMANDS = [["govern"], ["register"], ["deploy"], ["report", "--publish"], ["history"]]


@pytest.mark.parametrize("cmd", GITHUB_COMMANDS, ids=lambda c: c[0])
@pytest.mark.parametrize("case", sorted(BAD_ENV))
def test_github_commands_with_a_malformed_environment(trained: Path, files: Path,
                                                      capsys: pytest.CaptureFixture[str], case: str,
                                                      cmd: list[str]) -> None:
    change, needle = BAD_ENV[case]
    env = dict(GOOD_ENV)
    for key, value in change.items():
        if value is None:
            env.pop(key)
        else:
            env[key] = value.format(files=files)
    if cmd == ["history"] and case == "no token":  # by design history then reads environments/*.yaml
        code, out, err = _run(["-C", str(trained), *cmd], capsys, env)
        assert code == 0 and "GITHUB_TOKEN" not in err and "Traceback" not in out + err
        return
    text = _refused(_run(["-C", str(trained), *cmd], capsys, env), EXIT_INVALID, needle, "hint:")
    assert "t0ken" not in text


# ------------------------------------------------------------------------------------------- refresh


@pytest.mark.parametrize("flag", [[], ["--verify"]], ids=["update", "verify"])
def test_refresh_of_a_spec_without_url(trained: Path, capsys: pytest.CaptureFixture[str], flag: list[str]) -> None:
    spec = (trained / "models" / "arrests" / "model.yaml").read_bytes()
    _refused(_run(["-C", str(trained), "refresh", "arrests", *flag], capsys), EXIT_INVALID,
             "models/arrests/model.yaml:13:9", "not a URL pinned by sha256", "hint:")
    assert (trained / "models" / "arrests" / "model.yaml").read_bytes() == spec


@pytest.mark.parametrize("flag", [[], ["--verify"]], ids=["update", "verify"])
def test_refresh_of_a_url_nothing_answers(example_repo: Path, capsys: pytest.CaptureFixture[str],
                                          flag: list[str]) -> None:
    spec = example_repo / "models" / "arrests" / "model.yaml"
    spec.write_text(spec.read_text().replace(
        "  path: data/arrests.csv\n", f"  url: http://127.0.0.1:9/arrests.csv\n  sha256: {'a' * 64}\n"))
    git(example_repo, "commit", "-q", "-am", "pin by URL")
    before = spec.read_bytes()
    _refused(_run(["-C", str(example_repo), "refresh", "arrests", *flag], capsys), EXIT_INVALID,
             "models/arrests/model.yaml:13:8", "http://127.0.0.1:9/arrests.csv: cannot fetch it", "check data.url")
    assert spec.read_bytes() == before and git(example_repo, "status", "--porcelain") == ""


# ---------------------------------------------------------------------------------------------- init


def test_init_into_a_file(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["init", str(files / "a-file")], capsys), EXIT_USAGE, "a-file exists and is not a folder")


def test_init_under_a_file_creates_nothing(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["init", str(files / "a-file" / "sub")], capsys), EXIT_USAGE,
             "a-file exists and is not a folder", "cannot be created")
    assert (files / "a-file").is_file()


def test_init_into_a_folder_with_a_changed_file_writes_nothing(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "scaffold"
    assert _run(["init", str(dest)], capsys)[0] == 0
    (dest / "mlops.yaml").write_text((dest / "mlops.yaml").read_text() + "# mine\n")
    (dest / ".github" / "CODEOWNERS").unlink()
    before = _tree(dest)
    _refused(_run(["init", str(dest), "--example", "arrests"], capsys), EXIT_INVALID,
             "already exist with other content: mlops.yaml", "nothing was written", "hint:")
    assert _tree(dest) == before


def test_init_where_a_file_stands_for_a_folder_writes_nothing(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    dest = tmp_path / "scaffold"
    dest.mkdir()
    (dest / ".github").write_text("a file, not a folder\n")
    _refused(_run(["init", str(dest)], capsys), EXIT_INVALID, ".github/CODEOWNERS", "nothing was written")
    assert _tree(dest) == [".github"]


@pytest.mark.parametrize("owner", ["", "a b", "$(id)", "-x", "a/b"])
def test_init_bad_owner_creates_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str], owner: str) -> None:
    _refused(_run(["init", str(tmp_path / "new"), f"--owner={owner}"], capsys), EXIT_USAGE,
             "is not a GitHub account")
    assert not (tmp_path / "new").exists()


# --------------------------------------------------------------------------------------------- history


def test_history_with_a_megabyte_of_garbage_in_a_tag(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(bytes(b % 251 + 1 for b in range(1 << 20)))
    subprocess.run(["git", "tag", "-a", "arrests@v1", "-F", str(garbage)], cwd=root, check=True)
    git(root, "tag", "arrests@v2", "HEAD^{tree}")  # lightweight tags to a tree and a blob
    git(root, "tag", "arrests@v3", "HEAD:mlops.yaml")
    git(root, "tag", "-a", "arrests@v4", "-m", '{"record_version": 1}')
    code, out, err = _run(["-C", str(root), "history"], capsys)
    assert code == 0 and "Traceback" not in out + err
    assert all(f"arrests@v{n}" in out for n in range(1, 5)) and out.count("INVALID") == 4 and len(out) < 5000
    code, out, err = _run(["-C", str(root), "plan"], capsys)
    assert code == 0 and "arrests@v1 ignored" in out and "arrests@v3 ignored" in out and len(out) < 5000


# -------------------------------------------------------------------------------------------- validate


def test_validate_a_file_outside_the_repository(trained: Path, files: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["-C", str(trained), "validate", str(files / "ok.csv")], capsys), EXIT_USAGE,
             "outside the repository", "--schema NAME")


def test_validate_a_symlink_loop(trained: Path, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["-C", str(trained), "validate", str(files / "loop1.csv")], capsys), EXIT_USAGE,
             "loop1.csv: a symbolic link that loops", "hint:")


@pytest.mark.parametrize("cmd", [["validate"], ["train", "arrests"]], ids=lambda c: c[0])
def test_data_path_that_is_a_symlink_loop(example_repo: Path, capsys: pytest.CaptureFixture[str],
                                          cmd: list[str]) -> None:
    data = example_repo / "data" / "arrests.csv"
    data.unlink()
    data.symlink_to("arrests.csv")
    _refused(_run(["-C", str(example_repo), *cmd], capsys), EXIT_INVALID,
             "models/arrests/model.yaml:13:9", "symbolic link that loops")
    assert not (example_repo / "mlops-out").exists()


def test_validate_a_folder_outside_the_repository(trained: Path, files: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    _refused(_run(["-C", str(trained), "validate", str(files)], capsys), EXIT_USAGE,
             "a folder outside the repository", "--schema NAME")


# ------------------------------------------------------------------------- outputs never replace user files


@pytest.mark.parametrize("cmd", [["train", "arrests"], ["run"]], ids=lambda c: c[0])
def test_out_onto_the_models_folder_keeps_the_spec(example_repo: Path, capsys: pytest.CaptureFixture[str],
                                                   cmd: list[str]) -> None:
    spec = example_repo / "models" / "arrests" / "model.yaml"
    before = spec.read_bytes()
    code, out, err = _run(["-C", str(example_repo), *cmd, "--out", "models"], capsys)
    _refused((code, out, err), EXIT_INVALID, "models/arrests holds files train did not write (model.yaml)",
             "--out mlops-out")
    assert spec.read_bytes() == before
    assert _tree(example_repo / "models") == ["arrests", "arrests/model.yaml"]


def test_out_retrains_over_its_own_outputs(trained: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = _results_copy(trained, tmp_path)
    (results / "arrests" / "model-card.md").write_text("# card\n")
    assert _run(["-C", str(trained), "train", "arrests", "--out", str(results)], capsys)[0] == 0
    assert (results / "arrests" / "record.json").is_file() and not (results / "arrests" / "model-card.md").exists()


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_demo_keep_that_cannot_be_a_folder(files: Path, capsys: pytest.CaptureFixture[str], where: str) -> None:
    keep = files / "a-file" if where == "a file" else files / "a-file" / "demo"
    _refused(_run(["demo", "--keep", str(keep)], capsys), EXIT_INVALID, f"--keep {keep}", "is not a folder",
             "pass an empty or new folder")
    assert (files / "a-file").read_text() == "not a folder\n"


# ---------------------------------------------------------------------------------- the action's runner files


def _action(env: dict[str, str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from mlops_actions.action.entry import main as action_main

    code = action_main({"HOME": os.environ["HOME"], "PATH": os.environ["PATH"], **env})
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("where", ["a file", "under a file"])
def test_action_results_folder_that_cannot_be_created(trained: Path, files: Path,
                                                      capsys: pytest.CaptureFixture[str], where: str) -> None:
    temp = files / "a-file" if where == "a file" else files / "a-file" / "tmp"
    env = {"GITHUB_WORKSPACE": str(trained), "MLOPS_COMMAND": "train", "MLOPS_MODELS": "arrests",
           "RUNNER_TEMP": str(temp)}
    _refused(_action(env, capsys), EXIT_USAGE, "mlops-results: cannot create it", "RUNNER_TEMP")


@pytest.mark.parametrize("variable", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
def test_runner_files_that_are_folders(trained: Path, files: Path, tmp_path: Path,
                                       capsys: pytest.CaptureFixture[str], variable: str) -> None:
    env = {"GITHUB_WORKSPACE": str(trained), "MLOPS_COMMAND": "validate", "GITHUB_ACTIONS": "true",
           "RUNNER_TEMP": str(tmp_path), variable: str(files / "folder.csv")}
    _refused(_action(env, capsys), EXIT_INVALID, f"{variable} {files / 'folder.csv'}: cannot append to it",
             "outside Actions, unset it")


def test_cli_summary_file_that_is_a_folder(trained: Path, files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = _fairness(trained, files / "ok.csv", "--sensitive", "colour", "--pos-label", "Yes")
    _refused(_run(argv, capsys, {"GITHUB_STEP_SUMMARY": str(files / "folder.csv")}), EXIT_INVALID,
             "GITHUB_STEP_SUMMARY", "cannot append to it")


# ------------------------------------------------------------- register on edited outputs (against the emulator)



def _edit_accuracy(folder: Path) -> None:
    data = json.loads((folder / "metrics.json").read_text())
    data["metrics"]["accuracy"] = 0.99
    (folder / "metrics.json").write_text(json.dumps(data))


REGISTER_EDITS: dict[str, tuple[Mutate, str]] = {
    "metrics edited": (_edit_accuracy, "metrics.json does not hold the metrics record.json holds"),
    "model replaced": (_write("model.skops", os.urandom(512)), "model.skops: sha256"),
    "record not JSON": (_write("record.json", b"{x"), "record.json:1:2: not valid JSON"),
}


@pytest.mark.parametrize("case", sorted(REGISTER_EDITS))
def test_register_refuses_outputs_edited_after_training(world: World, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
                                                        capsys: pytest.CaptureFixture[str], case: str) -> None:
    mutate, needle = REGISTER_EDITS[case]
    world.gh.add_review(PROMOTION_REPO, world.pr, "alice", "APPROVED", commit_id=world.head)
    mutate(world.root / "mlops-out" / "arrests")
    code = _run_world(world, monkeypatch, "register")
    out, err = capsys.readouterr()
    _refused((code, out, err), EXIT_INVALID, needle, "train")
    assert _tags(world) == [] and world.bot.get_release("arrests@v1") is None


def test_a_real_process_ends_the_same_way(trained: Path, files: Path) -> None:
    import sys

    proc = subprocess.run([sys.executable, "-m", "mlops_actions", "-C", str(trained), "validate",
                           str(files / "loop1.csv")], capture_output=True, text=True, timeout=120)
    _refused((proc.returncode, proc.stdout, proc.stderr), EXIT_USAGE, "a symbolic link that loops")


@pytest.mark.parametrize("tag", ["none", "lightweight", "garbage"])
def test_monitor_a_deployed_version_without_a_usable_tag(example_repo: Path, files: Path,
                                                         capsys: pytest.CaptureFixture[str], tag: str) -> None:
    (example_repo / "environments" / "production.yaml").write_text("arrests: v1\n")
    git(example_repo, "commit", "-q", "-am", "deploy v1")
    if tag == "lightweight":
        git(example_repo, "tag", "arrests@v1")
    elif tag == "garbage":
        git(example_repo, "tag", "-a", "arrests@v1", "-m", "{garbage")
    needle = "its tag is not in this clone" if tag == "none" else "the tag has no usable version record"
    argv = ["-C", str(example_repo), "monitor", "arrests", "--current", str(files / "ok.csv")]
    _refused(_run(argv, capsys), EXIT_INVALID, "arrests@v1", needle, "hint:")


# ------------------------------------------------------------------ convention files that are not what they seem


def _link_spec(root: Path, target: str) -> None:
    (root / "models" / "x").mkdir()
    (root / "models" / "x" / "model.yaml").symlink_to(target)


SPEC_LINKS = {
    "outside the repository": lambda root, tmp: str(tmp / "outside.yaml"),
    "into .git": lambda root, tmp: "../../.git/config",
    "absolute, to a system file": lambda root, tmp: "/etc/hostname",
}


@pytest.mark.parametrize("cmd", [["validate"], ["train", "x"], ["plan"]], ids=lambda c: c[0])
@pytest.mark.parametrize("case", sorted(SPEC_LINKS))
def test_a_spec_that_links_out_of_the_repository_is_never_read(example_repo: Path, tmp_path: Path,
                                                               capsys: pytest.CaptureFixture[str], case: str,
                                                               cmd: list[str]) -> None:
    outside = tmp_path / "outside.yaml"  # a valid spec: only the link's target is wrong
    outside.write_text((example_repo / "models" / "arrests" / "model.yaml").read_text()
                       .replace("name: arrests", "name: x"))
    _link_spec(example_repo, SPEC_LINKS[case](example_repo, tmp_path))
    _refused(_run(["-C", str(example_repo), *cmd], capsys), EXIT_INVALID,
             "models/x/model.yaml", "symbolic link that leads outside the repository", "replace the link")
    assert not (example_repo / "mlops-out").exists()


def test_a_spec_linked_inside_the_repository_is_refused(example_repo: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    """git stores a link's text: plan and register, which read specs from git, would miss edits of the target
    (see test_symlinks.py), so validate refuses the link as it refuses links of data and code."""
    (example_repo / "specs").mkdir()
    spec = (example_repo / "models" / "arrests" / "model.yaml").read_text().replace("name: arrests", "name: x")
    (example_repo / "specs" / "x.yaml").write_text(spec)
    _link_spec(example_repo, "../../specs/x.yaml")
    _refused(_run(["-C", str(example_repo), "validate"], capsys), EXIT_INVALID,
             "models/x/model.yaml: $: reached through the symbolic link 'models/x/model.yaml' "
             "(-> '../../specs/x.yaml')",
             "replace the link with the file")


@pytest.mark.parametrize("cmd", [["validate"], ["train", "arrests"]], ids=lambda c: c[0])
def test_policy_that_is_a_folder(example_repo: Path, capsys: pytest.CaptureFixture[str], cmd: list[str]) -> None:
    (example_repo / "mlops.yaml").unlink()
    (example_repo / "mlops.yaml").mkdir()  # was silently skipped: train ran with the default policy
    _refused(_run(["-C", str(example_repo), *cmd], capsys), EXIT_INVALID, "mlops.yaml", "cannot read the file")
    assert not (example_repo / "mlops-out").exists()


@pytest.mark.parametrize("cmd", [["validate"], ["train", "arrests"]], ids=lambda c: c[0])
@pytest.mark.parametrize("how", ["data.path names it", "the data file links to it"])
def test_data_in_dot_git_is_never_read(example_repo: Path, capsys: pytest.CaptureFixture[str], how: str,
                                       cmd: list[str]) -> None:
    git(example_repo, "config", "http.https://github.com/.extraheader", "AUTHORIZATION: basic c2VjcmV0")
    if how == "data.path names it":
        spec = example_repo / "models" / "arrests" / "model.yaml"
        spec.write_text(spec.read_text().replace("path: data/arrests.csv", "path: .git/config"))
    else:
        (example_repo / "data" / "arrests.csv").unlink()
        (example_repo / "data" / "arrests.csv").symlink_to("../.git/config")
    text = _refused(_run(["-C", str(example_repo), *cmd], capsys), EXIT_INVALID,
                    "models/arrests/model.yaml:13:9", "it is inside .git")
    assert "c2VjcmV0" not in text and not (example_repo / "mlops-out").exists()


def test_train_reads_data_with_a_bom_and_crlf_as_the_same_table(trained: Path, example_repo: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    data = example_repo / "data" / "arrests.csv"
    data.write_bytes(b"\xef\xbb\xbf" + data.read_bytes().replace(b"\n", b"\r\n"))
    git(example_repo, "commit", "-q", "-am", "BOM and CRLF")
    code, _, err = _run(["-C", str(example_repo), "train", "arrests"], capsys)
    assert code == 0, err
    metrics = json.loads((example_repo / "mlops-out" / "arrests" / "metrics.json").read_text())
    assert metrics == json.loads((trained / "mlops-out" / "arrests" / "metrics.json").read_text())
