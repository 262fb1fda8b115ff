"""A full disk, a size limit or an unwritable ``--out`` during train / report: a clear error naming the path,
exit 1, and the earlier results intact (outputs are written beside and renamed into place).

The full disk is real: a 256 KiB tmpfs mounted in a private mount namespace (``unshare``; skipped where the
kernel refuses one), and ``ulimit -f`` (EFBIG) everywhere."""

from __future__ import annotations

import hashlib
import resource
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit import EXAMPLE, git


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("full") / "repo"
    shutil.copytree(EXAMPLE, root)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    assert main(["-C", str(root), "train", "arrests"]) == 0
    return root


def _digests(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _cli(root: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "mlops_actions", "-C", str(root), *args]


def _clean(proc: subprocess.CompletedProcess[str]) -> str:
    text = proc.stdout + proc.stderr
    assert proc.returncode == 1, text
    assert "Traceback" not in text and "internal error" not in text, text
    return text


@pytest.mark.parametrize("cmd", [["train", "arrests"], ["report"]], ids=lambda c: c[0])
@pytest.mark.parametrize("out", ["/proc/self/x", "/proc/self/x/y/z"])
def test_an_out_that_cannot_be_written_is_refused_before_any_work(trained: Path, cmd: list[str], out: str,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(trained), *cmd, "--out", out]) == 1
    err = capsys.readouterr().err
    assert f"error: {out}: cannot write" in err and "hint: pass --out" in err


def test_report_never_replaces_a_device(trained: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(trained), "report", "--out", "/dev/full"]) == 1
    assert "not a regular file" in capsys.readouterr().err
    assert Path("/dev/full").is_char_device()


def _limit(size: int) -> Callable[[], None]:
    def limit() -> None:  # Python ignores SIGXFSZ: a write past the limit fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))

    return limit


@pytest.mark.slow
def test_a_write_past_the_size_limit_keeps_the_earlier_results(trained: Path, tmp_path: Path) -> None:
    results = tmp_path / "results"
    shutil.copytree(trained / "mlops-out", results)
    before = _digests(results)
    report = tmp_path / "report.md"
    report.write_text("the earlier report\n")
    train = subprocess.run(_cli(trained, "train", "arrests", "--out", str(results)), capture_output=True,
                           text=True, timeout=300, preexec_fn=_limit(16 * 1024))
    assert "cannot write the training outputs of arrests: File too large" in _clean(train)
    assert _digests(results) == before  # nothing replaced, no temporary folder left
    shown = subprocess.run(_cli(trained, "report", "--results", str(results), "--out", str(report)),
                           capture_output=True, text=True, timeout=300, preexec_fn=_limit(512))
    assert "File too large" in _clean(shown) and str(results / "arrests") in shown.stderr
    assert report.read_text() == "the earlier report\n" and _digests(results) == before


def _room_for_one_and_a_half(results: Path) -> str:
    """A tmpfs size that holds the earlier results and half of a second set (pages rounded up): the new
    training outputs cannot fit, whatever the size of the model's files."""
    pages = sum(-(-f.stat().st_size // 4096) for f in results.rglob("*") if f.is_file())
    return f"{(pages * 3 // 2 + 2) * 4}k"


FULL_DISK = """set -e
mount -t tmpfs -o size="$SIZE" tmpfs "$OUT"
cp -a "$EARLIER/." "$OUT/"
set +e
"$PYTHON" -m mlops_actions -C "$ROOT" train arrests --out "$OUT"
echo "exit=$?"
cd "$OUT" && find . -type f | sort | xargs sha256sum
"""


@pytest.mark.slow
def test_a_full_disk_during_train_keeps_the_earlier_results(trained: Path, tmp_path: Path) -> None:
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-rm", "true"]).returncode != 0:
        pytest.skip("no private mount namespace here (unshare -rm refused)")
    out = tmp_path / "small-disk"
    out.mkdir()
    env = {"OUT": str(out), "SIZE": _room_for_one_and_a_half(trained / "mlops-out"),
           "EARLIER": str(trained / "mlops-out"), "PYTHON": sys.executable, "ROOT": str(trained),
           "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    proc = subprocess.run(["unshare", "-rm", "sh", "-c", FULL_DISK], capture_output=True, text=True, timeout=300,
                          env=env)
    assert "exit=1" in proc.stdout, proc.stdout + proc.stderr
    assert "cannot write the training outputs of arrests: No space left on device" in proc.stderr
    assert "the disk is full" in proc.stderr and "Traceback" not in proc.stderr
    listed = {line.split()[1].removeprefix("./"): line.split()[0] for line in proc.stdout.splitlines()
              if line[:1] in "0123456789abcdef" and "  " in line}
    assert listed == _digests(trained / "mlops-out")
