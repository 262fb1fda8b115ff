"""Writing outputs when the disk says no: a full disk, a read-only or foreign folder, a size limit.

Every output is written to a temporary name and renamed into place (train's folder, report's file), so a
failed write leaves the earlier results as they were. This module turns the ``OSError`` of such a write into
an ``InputError`` naming the path and what to do, and probes a destination before the work starts, so that
``--out /proc/self/x`` is refused in a second, not after the training.
"""

from __future__ import annotations

import errno
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mlops_actions.errors import InputError, Place

_HINTS = {
    errno.ENOSPC: "the disk is full: free some space (or pass {flag} a folder on another disk); the earlier "
                  "results were left as they were",
    errno.EDQUOT: "the disk quota is used up: free some space (or pass {flag} a folder elsewhere); the earlier "
                  "results were left as they were",
    errno.EFBIG: "the file is larger than this process may write (ulimit -f); raise the limit or pass {flag} "
                 "elsewhere",
}
_DEFAULT_HINT = "pass {flag} a folder the job can write (e.g. under the workspace or $RUNNER_TEMP)"


def hint_for(exc: OSError, flag: str) -> str:
    return _HINTS.get(exc.errno or 0, _DEFAULT_HINT).format(flag=flag)


def write_error(exc: OSError, path: Path, what: str, flag: str = "--out") -> InputError:
    return InputError(f"cannot write {what}: {exc.strerror or exc}", place=Place(path.as_posix()),
                      hint=hint_for(exc, flag))


@contextmanager
def writing(path: Path, what: str, flag: str = "--out") -> Iterator[None]:
    """Turn an ``OSError`` raised while writing ``path`` into an ``InputError`` that says what to do."""
    try:
        yield
    except OSError as exc:
        raise write_error(exc, path, what, flag) from None


def probe(destination: Path, what: str, flag: str = "--out") -> None:
    """Refuse now a destination that cannot be written: a temporary file is created (and removed) in the
    nearest folder that exists on the way to ``destination``; nothing else is created."""
    folder = next((p for p in (destination, *destination.parents) if p.is_dir()), None)
    if folder is None:
        return
    with writing(destination, what, flag):
        fd, name = tempfile.mkstemp(prefix=".mlops-actions-probe-", dir=folder)
        os.close(fd)
        os.unlink(name)


def check_regular(path: Path, flag: str = "--out") -> None:
    """An existing ``path`` we would replace must be a regular file (never a device, fifo or socket)."""
    if (path.exists() or path.is_symlink()) and not path.is_dir() and not path.is_file():
        raise InputError(f"{flag} {path}: it exists and is not a regular file (a device, a pipe or a socket); "
                         "it is never replaced", hint=f"pass {flag} the path of a regular file")
