"""The command build (``train: {command: ..., artifact: model/}``): any framework, under a file contract.

We write the training rows (features, target, ``row_id``) and the held-out rows (features and ``row_id``, never
the target) as parquet, run the command from the repository root without a shell, with ``MLOPS_TRAIN``,
``MLOPS_TEST``, ``MLOPS_OUT``, ``MLOPS_SEED``, ``MLOPS_PARAMS`` (and the target, task and features) in its
environment. It must exit 0 within ``train.timeout``, write its artifact folder and ``predictions.parquet``
(``row_id``, ``prediction``, and ``proba_<class>`` columns or a ``score`` when it has them) under
``MLOPS_OUT``, and nothing outside it. Each broken rule is an ``InputError`` naming the rule.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import numpy as np
import pandas as pd

from mlops_actions.convention.build_checks import command_argv
from mlops_actions.convention.model import ModelSpec
from mlops_actions.errors import InputError
from mlops_actions.training.artifact import Artifact, files_artifact
from mlops_actions.training.data import Dataset, as_text
from mlops_actions.training.metrics import Predictions
from mlops_actions.training.repo_code import CheckedRepo
from mlops_actions.training.split import Split

PREDICTIONS = "predictions.parquet"
ROW_ID, PREDICTION, SCORE, PROBA_PREFIX = "row_id", "prediction", "score", "proba_"
SKIPPED_DIRS = frozenset({".git", "__pycache__", ".mlops", ".venv", "venv", ".tox", ".pytest_cache", ".ruff_cache"})
_SECRET_WORDS = ("TOKEN", "SECRET", "PASSWORD", "CREDENTIAL")
MAX_OUTPUT_TAIL = 20
README_HINT = "see the command contract in docs/convention.md (\"How a model is built\", train: command)"

RULES = {
    "exit": "the command exits 0",
    "timeout": "the command finishes within train.timeout",
    "predictions": "the command writes MLOPS_OUT/predictions.parquet",
    "rows": "predictions.parquet has one row per held-out row_id, and only those",
    "types": "predictions.parquet holds a valid prediction (and probabilities or score) for each row",
    "artifact": "the command writes its artifact folder under MLOPS_OUT",
    "outside": "the command writes nothing outside MLOPS_OUT",
}


@dataclass(frozen=True)
class CommandOutput:
    predictions: Predictions
    artifact: Artifact
    files: tuple[str, ...]
    notes: tuple[str, ...] = ()


Echo = Callable[[str], None]


def run_command(repo: CheckedRepo, spec: ModelSpec, dataset: Dataset, split: Split, *,
                skip: tuple[Path, ...] = (), echo: Echo = print) -> CommandOutput:
    """Run the spec's command on the split and check everything it hands back (the work folder is removed)."""
    root, train, test = repo.root, split.train, split.test
    place = repo.places.at("train", "command")
    argv = _argv(spec.build.target)
    with _workdir() as work:
        inputs, out = work / "input", work / "out"
        inputs.mkdir()
        out.mkdir()
        env = command_env(os.environ, spec, inputs, out, dataset)
        _write_inputs(dataset, spec, train, test, inputs)
        before = tree_state(root, skip)
        output, code = _execute(argv, root, env, spec.build.timeout, place)
        echo(output)
        if code != 0:
            _broken("exit", f"it exited with code {code}{_tail(output)}", place)
        _check_nothing_outside(before, tree_state(root, skip), place)
        preds = read_predictions(out / PREDICTIONS, dataset, test, place)
        files = _artifact_files(out, spec.build.artifact, place)
    notes = () if len(files) < 1000 else (f"the artifact holds {len(files)} files",)
    return CommandOutput(preds, files_artifact(files), tuple(sorted(files)), notes)


def _argv(command: str) -> list[str]:
    argv = command_argv(command)
    if argv[0] in ("python", "python3"):  # the interpreter that runs us, with its packages (docs/convention.md)
        argv[0] = sys.executable
    return argv


@contextmanager
def _workdir() -> Iterator[Path]:
    work = Path(tempfile.mkdtemp(prefix="mlops-command-"))
    try:
        yield work
    finally:
        shutil.rmtree(work, ignore_errors=True)


def command_env(base: Mapping[str, str], spec: ModelSpec, inputs: Path, out: Path,
                dataset: Dataset) -> dict[str, str]:
    """The environment of the command: ours without secrets (tokens stay with us), plus the contract's variables."""
    env = {k: v for k, v in base.items() if not any(w in k.upper() for w in _SECRET_WORDS)}
    env.update({
        "MLOPS_TRAIN": str(inputs / "train.parquet"), "MLOPS_TEST": str(inputs / "test.parquet"),
        "MLOPS_OUT": str(out), "MLOPS_ARTIFACT": str(out / spec.build.artifact),
        "MLOPS_SEED": str(spec.split.seed), "MLOPS_PARAMS": json.dumps(dict(spec.build.params), sort_keys=True),
        "MLOPS_TARGET": spec.data.target, "MLOPS_TASK": spec.task, "MLOPS_ROW_ID": ROW_ID,
        "MLOPS_FEATURES": json.dumps(dict(spec.data.features), sort_keys=True),
        "MLOPS_CLASSES": json.dumps(list(dataset.classes)), "MLOPS_POSITIVE_LABEL": dataset.pos_label or "",
        "PYTHONHASHSEED": str(spec.split.seed), "PYTHONDONTWRITEBYTECODE": "1",
    })
    if sys.prefix != sys.base_prefix:  # a virtual environment: first on PATH, as activating it would put it
        bindir = str(Path(sys.executable).parent)
        rest = [p for p in env.get("PATH", "").split(os.pathsep) if p and p != bindir]
        env["PATH"] = os.pathsep.join([bindir, *rest])
    return env


def _write_inputs(dataset: Dataset, spec: ModelSpec, train: np.ndarray, test: np.ndarray, inputs: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    for name, rows, with_target in (("train", train, True), ("test", test, False)):
        frame = dataset.X.iloc[rows].reset_index(drop=True)
        frame.insert(0, ROW_ID, np.asarray(rows, dtype="int64"))
        if with_target:
            frame[spec.data.target] = dataset.y.iloc[rows].to_numpy()
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), inputs / f"{name}.parquet")


def _execute(argv: list[str], root: Path, env: dict[str, str], timeout: int, place: Any) -> tuple[str, int]:
    try:
        proc = subprocess.Popen(argv, cwd=root, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, start_new_session=True)
    except OSError as exc:
        _broken("exit", f"it could not start: {exc.strerror or exc} ({argv[0]})", place)
    try:
        raw, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _kill(proc)
        raw, _ = proc.communicate()
        _broken("timeout", f"it ran longer than {timeout} s and was stopped{_tail(_text(raw))}", place)
    return _text(raw), proc.returncode


def _kill(proc: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)  # the whole session: a trainer's own workers too
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _text(raw: bytes | None) -> str:
    return (raw or b"").decode("utf-8", errors="replace")


def _tail(output: str) -> str:
    lines = output.rstrip().splitlines()[-MAX_OUTPUT_TAIL:]
    return ("; its last lines:\n    " + "\n    ".join(lines)) if lines else " (it printed nothing)"


def _broken(rule: str, detail: str, place: Any) -> NoReturn:
    raise InputError(f"train.command broke the contract rule '{RULES[rule]}': {detail}", place=place,
                     hint=f"fix the command; {README_HINT}. Nothing was written")


# --- nothing outside MLOPS_OUT ---------------------------------------------------------------------------

def tree_state(root: Path, skip: tuple[Path, ...] = ()) -> dict[str, tuple[int, int]]:
    """path -> (size, mtime) of every file under ``root`` but git's, caches' and ``skip``'s."""
    skipped = {p.resolve() for p in skip}
    state: dict[str, tuple[int, int]] = {}
    for folder, dirs, files in os.walk(root):
        here = Path(folder)
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and (here / d).resolve() not in skipped)
        for name in files:
            if name.endswith(".pyc"):
                continue
            try:
                st = (here / name).lstat()
            except OSError:
                continue
            state[(here / name).relative_to(root).as_posix()] = (st.st_size, st.st_mtime_ns)
    return state


def _check_nothing_outside(before: Mapping[str, tuple[int, int]], after: Mapping[str, tuple[int, int]],
                           place: Any) -> None:
    changed = sorted(p for p in after if before.get(p) != after[p])
    removed = sorted(set(before) - set(after))
    if changed or removed:
        shown = ", ".join([*changed[:5], *(f"{p} (removed)" for p in removed[:5])])
        more = len(changed) + len(removed) - min(len(changed), 5) - min(len(removed), 5)
        _broken("outside", f"it changed repository file(s) {shown}" + (f" and {more} more" if more else "")
                + " (remove or restore them, and write everything under $MLOPS_OUT)", place)


# --- predictions -----------------------------------------------------------------------------------------

def read_predictions(path: Path, dataset: Dataset, test: np.ndarray, place: Any) -> Predictions:
    """The command's predictions for the held-out rows, in the split's order, checked against the contract."""
    if not path.is_file():
        _broken("predictions", f"there is no {PREDICTIONS} in MLOPS_OUT", place)
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # any unreadable bytes
        _broken("types", f"{PREDICTIONS} is not a readable parquet file ({type(exc).__name__}: {exc})", place)
    for column in (ROW_ID, PREDICTION):
        if column not in frame.columns:
            _broken("types", f"{PREDICTIONS} has no '{column}' column (columns: {', '.join(map(str, frame.columns))})",
                    place)
    frame = _in_test_order(frame, test, place)
    y_pred = _prediction(frame[PREDICTION], dataset, place)
    proba = _probabilities(frame, dataset, place)
    y_true = dataset.y.iloc[test].to_numpy()
    classes = dataset.classes if dataset.classes else ()
    return Predictions(y_true, y_pred, proba, classes, dataset.pos_label)


def _in_test_order(frame: pd.DataFrame, test: np.ndarray, place: Any) -> pd.DataFrame:
    ids = frame[ROW_ID]
    if not pd.api.types.is_integer_dtype(ids):
        _broken("types", f"'{ROW_ID}' must hold the integers of {ROW_ID} in MLOPS_TEST, it holds {ids.dtype}", place)
    repeated = ids[ids.duplicated()]
    if len(repeated):
        _broken("rows", f"row_id {int(repeated.iloc[0])} appears more than once", place)
    wanted, have = set(test.tolist()), set(ids.tolist())
    if have != wanted:
        extra, missing = sorted(have - wanted), sorted(wanted - have)
        what = []
        if extra:
            what.append(f"{len(extra)} row_id(s) that are not held-out rows (first: {extra[:3]})")
        if missing:
            what.append(f"no prediction for {len(missing)} held-out row(s) (first: {missing[:3]})")
        _broken("rows", "; ".join(what), place)
    return frame.set_index(ROW_ID).loc[test].reset_index()


def _prediction(raw: pd.Series, dataset: Dataset, place: Any) -> np.ndarray:
    if raw.isna().any():
        _broken("types", f"'{PREDICTION}' is missing for {int(raw.isna().sum())} row(s)", place)
    if not dataset.classes:  # regression
        if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw) or not np.isfinite(raw).all():
            _broken("types", f"'{PREDICTION}' of a regression must be finite numbers (it holds {raw.dtype})", place)
        return raw.to_numpy(dtype="float64")
    text = as_text(raw)
    unknown = sorted(set(text) - set(dataset.classes))
    if unknown:
        _broken("types", f"'{PREDICTION}' holds {unknown[0]!r}, which is not a class of the target "
                f"(classes: {', '.join(map(repr, dataset.classes))})", place)
    return text.to_numpy(dtype=object)


def _probabilities(frame: pd.DataFrame, dataset: Dataset, place: Any) -> np.ndarray | None:
    """Class probabilities from ``proba_<class>`` columns (all classes), or a binary ``score``; else None."""
    if not dataset.classes:
        return None
    named = [f"{PROBA_PREFIX}{c}" for c in dataset.classes]
    present = [c for c in frame.columns if str(c).startswith(PROBA_PREFIX)]
    if present:
        missing = [c for c in named if c not in frame.columns]
        if missing:
            _broken("types", f"probability columns are incomplete: no {', '.join(missing)}", place)
        return _unit(frame[named], place)
    if SCORE in frame.columns and len(dataset.classes) == 2:
        score = _unit(frame[[SCORE]], place)[:, 0]
        pos = dataset.classes.index(dataset.pos_label)
        columns = [1.0 - score, score] if pos == 1 else [score, 1.0 - score]
        return np.column_stack(columns)
    return None


def _unit(values: pd.DataFrame, place: Any) -> np.ndarray:
    try:
        array = values.to_numpy(dtype="float64")
    except (TypeError, ValueError):
        _broken("types", f"{', '.join(map(str, values.columns))} must be numbers", place)
    names = ", ".join(map(str, values.columns))
    undefined = int((~np.isfinite(array)).any(axis=1).sum())
    if undefined:
        _broken("types", f"{names} must be probabilities between 0 and 1; {undefined} row(s) hold NaN or an "
                "infinity (missing feature values reaching the model?)", place)
    if (array < 0).any() or (array > 1).any():
        _broken("types", f"{names} must be probabilities between 0 and 1", place)
    return array


# --- the artifact ----------------------------------------------------------------------------------------

def _artifact_files(out: Path, folder: str, place: Any) -> dict[str, bytes]:
    base = out / folder
    if not base.is_dir() or base.is_symlink():
        _broken("artifact", f"there is no folder {folder}/ in MLOPS_OUT (MLOPS_ARTIFACT)", place)
    files: dict[str, bytes] = {}
    for path in sorted(base.rglob("*")):
        if path.is_symlink():
            _broken("artifact", f"{path.relative_to(out)} is a symbolic link; write real files", place)
        if path.is_file():
            files[path.relative_to(base).as_posix()] = path.read_bytes()
    if not files:
        _broken("artifact", f"the folder {folder}/ in MLOPS_OUT is empty", place)
    return files
