"""``mlops-actions fairness``: CSV and Parquet files, pos-label resolution, and every bad input → exit 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from mlops_actions.cli import main


def _predictions(n: int = 200, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    truth = rng.choice(["No", "Yes"], n)
    return pd.DataFrame({"released": truth, "pred": np.where(rng.random(n) < 0.8, truth, "No"),
                         "colour": rng.choice(["Black", "White"], n), "sex": rng.choice(["F", "M"], n),
                         "label01": (truth == "Yes").astype(int), "flag": truth == "Yes",
                         "score": rng.normal(size=n)})


@pytest.fixture
def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "preds.csv"
    _predictions().to_csv(path, index=False)
    return path


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(["fairness", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_csv_markdown_report(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    code, out, err = _run(capsys, str(csv_file), "--y-true", "released", "--y-pred", "pred",
                          "--sensitive", "colour,sex", "--pos-label", "Yes", "--bootstrap", "50")
    assert code == 0, err
    assert out.startswith("### Fairness by colour × sex")
    assert "| Black " in out and "| **overall** " in out
    assert "demographic parity difference" in out and "Positive label: `Yes`" in out


def test_parquet_json_report_with_control(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "preds.parquet"
    _predictions().to_parquet(path)
    code, out, _ = _run(capsys, str(path), "--y-true", "released", "--y-pred", "pred", "--sensitive", "colour",
                        "--control", "sex", "--pos-label", "Yes", "--format", "json", "--bootstrap", "0")
    assert code == 0
    data = json.loads(out)
    assert data["settings"]["pos_label"] == "Yes"
    assert len(data["groups"]) == 4 and set(data["summary_by_stratum"]) == {"sex=F", "sex=M"}


def test_output_is_deterministic(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    args = (str(csv_file), "--y-true", "released", "--y-pred", "pred", "--sensitive", "colour",
            "--pos-label", "Yes", "--format", "json")
    assert _run(capsys, *args)[1] == _run(capsys, *args)[1]


@pytest.mark.parametrize(("column", "text", "expected"), [
    ("label01", None, 1), ("label01", "1", 1), ("flag", "True", True), ("flag", "true", True),
])
def test_pos_label_matched_as_text_against_non_text_columns(
        capsys: pytest.CaptureFixture[str], csv_file: Path, column: str, text: str | None, expected: object) -> None:
    extra = ["--pos-label", text] if text is not None else []
    code, out, err = _run(capsys, str(csv_file), "--y-true", column, "--y-pred", column, "--sensitive", "sex",
                          "--format", "json", "--bootstrap", "0", *extra)
    assert code == 0, err
    data = json.loads(out)
    assert data["settings"]["pos_label"] == expected and data["overall"]["tpr"] == 1.0


def test_regression_task(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    code, out, _ = _run(capsys, str(csv_file), "--y-true", "score", "--y-pred", "label01", "--sensitive", "sex",
                        "--task", "regression")
    assert code == 0 and "MAE" in out and "mae_difference" in out and "mae_gap" not in out


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


BAD = [
    ("missing file", lambda p: p / "nope.csv", ["released", "pred", "sex", "Yes"], "nope.csv: no such file"),
    ("a folder", lambda p: p, ["released", "pred", "sex", "Yes"], "not a file"),
    ("wrong suffix", lambda p: _write(p, "x.xlsx", "a"), ["released", "pred", "sex", "Yes"],
     "unsupported file type '.xlsx'"),
    ("empty csv", lambda p: _write(p, "e.csv", ""), ["a", "b", "c", "Yes"], "e.csv: the file is empty"),
    ("empty parquet", lambda p: _write(p, "e.parquet", ""), ["a", "b", "c", "Yes"], "the file is empty"),
    ("corrupt parquet", lambda p: _write(p, "c.parquet", "not parquet"), ["a", "b", "c", "Yes"],
     "cannot read the file"),
    ("header only", lambda p: _write(p, "h.csv", "released,pred,sex\n"), ["released", "pred", "sex", "Yes"],
     "the file has no rows"),
    ("missing column", None, ["released", "predicted", "sex", "Yes"], "column 'predicted' not found"),
    ("two missing columns", None, ["truth", "pred", "race", "Yes"], "columns 'truth', 'race' not found"),
    ("non-binary without pos-label", None, ["released", "pred", "sex", None], "labels are not 0/1"),
    ("pos-label absent", None, ["released", "pred", "sex", "yes"], "--pos-label 'yes' occurs in neither"),
    ("more than two labels", None, ["colour", "sex", "sex", "F"], "4 distinct labels"),
    ("missing group value", lambda p: _write(p, "m.csv", "t,p,g\n1,1,a\n0,1,\n"), ["t", "p", "g", None],
     "m.csv: feature 'g' has 1 missing values"),
    ("missing label", lambda p: _write(p, "l.csv", "t,p,g\n1,,a\n0,1,b\n"), ["t", "p", "g", None],
     "l.csv: y_pred has 1 missing values"),
]


@pytest.mark.parametrize(("what", "make", "cols", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_exit_1_with_message(capsys: pytest.CaptureFixture[str], tmp_path: Path, csv_file: Path,
                                       what: str, make, cols: list, message: str) -> None:
    path = make(tmp_path) if make else csv_file
    y_true, y_pred, sensitive, pos = cols
    extra = ["--pos-label", pos] if pos is not None else []
    code, out, err = _run(capsys, str(path), "--y-true", y_true, "--y-pred", y_pred, "--sensitive", sensitive,
                          *extra)
    assert code == 1, (what, out, err)
    assert message in err, err
    assert "Traceback" not in err and out == ""


def test_regression_needs_numbers(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    code, _, err = _run(capsys, str(csv_file), "--y-true", "released", "--y-pred", "pred", "--sensitive", "sex",
                        "--task", "regression")
    assert code == 1 and "column 'released' is not numeric" in err


def test_negative_min_group_size_is_a_usage_error(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["fairness", str(csv_file), "--y-true", "released", "--y-pred", "pred", "--sensitive", "sex",
              "--min-group-size", "-3"])
    assert exc.value.code == 2 and "'-3' is negative" in capsys.readouterr().err


def test_empty_sensitive_list_is_a_usage_error(capsys: pytest.CaptureFixture[str], csv_file: Path) -> None:
    code = main(["fairness", str(csv_file), "--y-true", "released", "--y-pred", "pred", "--sensitive", ","])
    assert code == 2 and "--sensitive needs at least one column" in capsys.readouterr().err


def test_cli_module_does_not_import_pandas() -> None:
    code = "import sys, mlops_actions.cli as c; c.build_parser(); print('pandas' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_every_fairness_argument_has_help() -> None:
    from mlops_actions.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    parser = sub.choices["fairness"]
    for action in parser._actions:
        assert action.help, action.dest


def test_fairlearn_compat_flag_gives_zero_instead_of_na(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = _write(tmp_path, "z.csv", "t,p,g\n0,0,a\n0,1,a\n1,1,b\n0,0,b\n")
    base = [str(path), "--y-true", "t", "--y-pred", "p", "--sensitive", "g", "--format", "json"]
    default = json.loads(_run(capsys, *base)[1])
    compat = json.loads(_run(capsys, *base, "--fairlearn-compat")[1])
    assert default["groups"][0]["tpr"] is None and compat["groups"][0]["tpr"] == 0.0
    assert compat["settings"]["fairlearn_compat"] is True
