"""Results a fork's run uploaded, as the privileged commenter may read them: bounded JSON, nothing else.

The ``workflow_run`` job that comments on a fork's pull request holds a write token and reads an artifact the
fork made (its workflow file is the fork's to edit). So it reads only ``metrics.json``, ``record.json``,
``fairness.json`` and ``evaluation.json`` (interval replicates and curve points, shape-checked by
``evaluation.heldout.from_dict``) of each model folder: regular files (no links), each at most
``MAX_FILE_BYTES``, nested at most ``bounded.MAX_NESTING`` levels, parsed as JSON and nothing else. Every
other file (a ``predictions.parquet``, a ``model.skops``, anything) is left unread; parquet and skops are
parsers a hostile file can attack (CVE-2023-47248 was pyarrow's). The checked files are copied to a folder of
our own, and the report reads that copy, so nothing the checks did not see can be read later.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mlops_actions import bounded
from mlops_actions.errors import InputError, Place

READ = ("metrics.json", "record.json", "fairness.json", "evaluation.json")
MAX_FILE_BYTES = 2 * 1024 * 1024
MAX_MODELS = 200
MAX_ENTRIES = 1000  # files in one model's folder
NOTE = ("These numbers were computed by the fork's own run (this repository's code, on the fork's runner) and "
        "are re-checked by a trusted rebuild on the default branch before any version is registered.")
_HINT = "results are written by `mlops-actions train`; a fork's results are read as JSON only"


@dataclass(frozen=True)
class Checked:
    """The folder holding the checked copy, and the files of the artifact that were not read."""

    folder: Path
    unread: tuple[str, ...]


@contextmanager
def checked_copy(results: Path, scratch: Path) -> Iterator[Checked]:
    """A copy of ``results`` with only its checked JSON files, in ``scratch`` (removed afterwards)."""
    copy = scratch / "fork-results"
    copy.mkdir(parents=True)
    try:
        yield Checked(copy, tuple(_copy_checked(results, copy)))
    finally:
        shutil.rmtree(copy, ignore_errors=True)


def _copy_checked(results: Path, copy: Path) -> list[str]:
    if not results.is_dir() or results.is_symlink():
        return []
    unread: list[str] = []
    folders = sorted(p for p in results.iterdir() if p.is_dir() and not p.is_symlink())
    if len(folders) > MAX_MODELS:
        raise InputError(f"{len(folders)} model folders; a fork's results may hold at most {MAX_MODELS}",
                         place=Place(results.as_posix()), hint=_HINT)
    unread += [p.name for p in results.iterdir() if p not in folders]
    for folder in folders:
        (copy / folder.name).mkdir()
        entries = list(itertools.islice(folder.iterdir(), MAX_ENTRIES + 1))
        if len(entries) > MAX_ENTRIES:
            raise InputError(f"more than {MAX_ENTRIES} files; a fork's results folder of a model holds a handful",
                             place=Place(f"{folder.name}/"), hint=_HINT)
        for path in sorted(entries):
            if path.name in READ and path.is_file() and not path.is_symlink():
                (copy / folder.name / path.name).write_text(_checked_text(path, folder.name), encoding="utf-8")
            else:
                unread.append(f"{folder.name}/{path.name}")
    return unread


def _checked_text(path: Path, model: str) -> str:
    shown = f"{model}/{path.name}"
    try:
        text = bounded.read_text(path, MAX_FILE_BYTES)
        bounded.loads(text)
    except bounded.TooBig as exc:
        raise InputError(f"{exc.size:,} bytes; a fork's results file may hold at most {MAX_FILE_BYTES:,}",
                         place=Place(shown), hint=_HINT) from None
    except UnicodeDecodeError as exc:
        raise InputError(f"not UTF-8 text ({exc.reason})", place=Place(shown), hint=_HINT) from None
    except ValueError as exc:  # JSONDecodeError and TooDeep carry line and column
        line, col = getattr(exc, "lineno", None), getattr(exc, "colno", None)
        raise InputError(f"not valid JSON: {getattr(exc, 'msg', exc)}", place=Place(shown, line, col),
                         hint=_HINT) from None
    return text
