"""``testkit.scratch``: the tests' scratch folders move to a roomy, executable tmpfs, never over the user's
``TMPDIR`` and never onto a folder too small, read-only or not a folder."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from testkit import scratch


@pytest.fixture(autouse=True)
def _gettempdir_restored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tempfile, "tempdir", tempfile.tempdir)


def test_a_suitable_folder_becomes_tmpdir(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    assert scratch.in_memory(environ, tmp_path, min_free=1) == tmp_path
    assert environ == {"TMPDIR": str(tmp_path)}
    assert tempfile.tempdir is None  # gettempdir() reads TMPDIR again


def test_the_users_tmpdir_wins(tmp_path: Path) -> None:
    environ = {"TMPDIR": "/somewhere/else"}
    assert scratch.in_memory(environ, tmp_path, min_free=1) is None
    assert environ == {"TMPDIR": "/somewhere/else"}


@pytest.mark.parametrize("case", ["missing", "file", "too small"])
def test_an_unsuitable_candidate_leaves_the_default(tmp_path: Path, case: str) -> None:
    candidate = {"missing": tmp_path / "nope", "file": tmp_path / "f", "too small": tmp_path}[case]
    (tmp_path / "f").write_text("x")
    min_free = 1 << 62 if case == "too small" else 1
    environ: dict[str, str] = {}
    assert scratch.in_memory(environ, candidate, min_free=min_free) is None
    assert environ == {}

