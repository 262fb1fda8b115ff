"""validate: cases that must be built at run time, output formats, start-up weight, the example."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from testkit import EXAMPLE
from testkit.casekit import build_case, run_validate

SPEC = "models/m/model.yaml"


def test_example_repository_is_valid() -> None:
    result = run_validate(EXAMPLE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ok: 6 file(s) valid" in result.stdout


def test_fifty_megabyte_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    root = build_case("valid-with-bom", tmp_path)
    with (root / SPEC).open("ab") as fh:
        fh.truncate(50 * 1024 * 1024)
    start = time.perf_counter()
    result = run_validate(root)
    assert time.perf_counter() - start < 20
    assert result.returncode == 1
    assert f"{SPEC}:1:1: $: file is 52.4 MB; convention files must be at most 1024 KiB" in result.stdout


def test_symlink_out_of_the_repository_is_refused(tmp_path: Path) -> None:
    root = build_case("valid-with-bom", tmp_path)
    outside = tmp_path / "outside.csv"
    outside.write_text("label,age,city,group\n1,2,a,x\n")
    (root / "data" / "link.csv").symlink_to(outside)
    spec = (root / SPEC).read_text(encoding="utf-8-sig").replace("data/d.csv", "data/link.csv")
    (root / SPEC).write_text(spec)
    result = run_validate(root)
    assert result.returncode == 1
    assert f"{SPEC}:4:9: $.data.path: data path 'data/link.csv': it resolves outside the repository" in result.stdout


def test_every_problem_of_every_file_is_reported(tmp_path: Path) -> None:
    root = build_case("name-mismatch", tmp_path)
    (root / "environments" / "production.yaml").write_text("ghost: v1\n")
    result = run_validate(root)
    assert "does not match its folder" in result.stdout
    assert "model 'ghost' does not exist" in result.stdout
    assert "2 error(s), 0 warning(s) in 4 file(s) checked" in result.stdout


def test_json_format_lists_problems(tmp_path: Path) -> None:
    root = build_case("unknown-key", tmp_path)
    result = run_validate(root, "--format", "json")
    problems = json.loads(result.stdout)
    assert {"file": SPEC, "line": 5, "column": 3, "pointer": "/data/formt",
            "message": "unknown key 'formt'; did you mean 'format'?", "severity": "error"} in problems
    assert all(set(p) == {"file", "line", "column", "pointer", "message", "severity"} for p in problems)


def test_github_format_escapes_and_limits_annotations(tmp_path: Path) -> None:
    root = build_case("valid-with-bom", tmp_path)
    for i in range(12):
        folder = root / "models" / f"m{i}"
        folder.mkdir()
        (folder / "model.yaml").write_text("name: wrong\n")
    summary = tmp_path / "summary.md"
    env = {**os.environ, "GITHUB_STEP_SUMMARY": str(summary)}
    result = run_validate(root, "--format", "github", env=env)
    annotations = [line for line in result.stdout.splitlines() if line.startswith("::error ")]
    assert len(annotations) == 10
    assert annotations[0].startswith("::error file=models/m0/model.yaml,line=1,col=1,title=mlops-actions%3A invalid")
    notices = [line for line in result.stdout.splitlines() if line.startswith("::notice")]
    assert len(notices) == 1 and "50 more problem(s) not annotated" in notices[0]
    table = summary.read_text()
    assert "60 error(s)" in table
    assert table.count("\n| `models/m") == 60  # every problem, not only the annotated ones
    assert result.returncode == 1


def test_unknown_schema_is_a_usage_error(tmp_path: Path) -> None:
    result = run_validate(tmp_path, "--schema", "nope")
    assert result.returncode == 2
    assert "unknown schema 'nope'" in result.stderr


def test_file_outside_the_convention_needs_schema(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text("name: x\n")
    result = run_validate(tmp_path, str(tmp_path / "other.yaml"))
    assert result.returncode == 2
    assert "cannot tell which schema" in result.stderr
    forced = run_validate(tmp_path, str(tmp_path / "other.yaml"), "--schema", "environment")
    assert forced.returncode == 1
    assert "other.yaml:1:7: $.name: 'x' is not valid here" in forced.stdout


def test_validate_does_not_import_heavy_libraries() -> None:
    code = ("import sys; from mlops_actions.cli import main; rc = main(['-C', sys.argv[1], 'validate']); "
            "heavy = sorted(m for m in ('sklearn', 'pandas', 'github', 'scipy', 'mlflow') if m in sys.modules); "
            "print('HEAVY', heavy); sys.exit(rc)")
    result = subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "HEAVY []" in result.stdout


def test_internal_error_is_exit_3_without_traceback(tmp_path: Path) -> None:
    code = ("import sys; import mlops_actions.commands.validate as v; "
            "v.validate_files = lambda *a, **k: 1 / 0; "
            "from mlops_actions.cli import main; sys.exit(main(['-C', sys.argv[1], 'validate']))")
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", code, str(EXAMPLE)], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 3
    assert "Traceback" not in result.stderr
    assert "internal error" in result.stderr and "please report" in result.stderr.lower()
    logs = list(tmp_path.glob("mlops-actions-debug-*.log"))
    assert logs and "ZeroDivisionError" in logs[0].read_text()
