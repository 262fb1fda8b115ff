"""One exception tree and the one handler that maps it to exit codes.

Exit codes for the whole CLI: 0 ok, 1 invalid input (or a failed verdict), 2 usage error, 3 internal error.
User errors never print a traceback; internal errors print one only with ``--debug`` (or to the debug log).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile
import traceback
from collections.abc import Callable
from dataclasses import dataclass

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 3

log = logging.getLogger("mlops_actions")


@dataclass(frozen=True)
class Place:
    """Where in which file a problem is: ``file:line:col`` plus the JSON pointer, all optional but file."""

    file: str
    line: int | None = None
    column: int | None = None
    pointer: str | None = None

    def __str__(self) -> str:
        text = self.file
        if self.line is not None:
            text += f":{self.line}"
            if self.column is not None:
                text += f":{self.column}"
        return text


class MlopsError(Exception):
    """Base of every error we raise on purpose. ``exit_code`` says how the CLI ends."""

    exit_code = EXIT_INVALID

    def __init__(self, message: str, *, place: Place | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.place = place
        self.hint = hint

    def __str__(self) -> str:
        text = f"{self.place}: {self.message}" if self.place else self.message
        return f"{text}\n  hint: {self.hint}" if self.hint else text


class InputError(MlopsError):
    """Bad user input: a file, a spec, data, a payload. Exit 1."""


class UsageError(MlopsError):
    """Wrong command-line usage. Exit 2."""

    exit_code = EXIT_USAGE


class GitError(MlopsError):
    """A git operation failed in a way the user can act on."""


class GitHubError(MlopsError):
    """The GitHub API refused or failed; the message says which permission or setting to fix."""


class RefusedError(MlopsError):
    """A promotion rule refused an action (approvals, gates, reproducibility). Exit 1."""


def run_guarded(func: Callable[[], int], *, debug: bool = False,
                on_error: Callable[[str], None] | None = None,
                redact: Callable[[str], str] = lambda text: text) -> int:
    """Run ``func`` and turn every exception into a message and an exit code.

    ``on_error(kind)`` hears of every error (as opposed to a verdict the command returned), so the action
    can tell "the gates failed" (which ``fail-on`` may soften) from "the command could not do its job".
    ``redact`` takes the run's secrets out of every message and traceback, on screen and in the debug log.
    """
    try:
        return func()
    except MlopsError as exc:
        print(redact(f"error: {exc}"), file=sys.stderr)
        _tell(on_error, type(exc).__name__)
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception:  # the last line of defence: an internal error is ours, not the user's
        _tell(on_error, "InternalError")
        return _report_internal_error(debug=debug, redact=redact)


def _tell(on_error: Callable[[str], None] | None, kind: str) -> None:
    if on_error is not None:
        with contextlib.suppress(OSError):  # reporting the error must never hide it
            on_error(kind)


def _report_internal_error(*, debug: bool, redact: Callable[[str], str]) -> int:
    trace = redact(traceback.format_exc())
    if debug:
        print(trace, file=sys.stderr)
        where = "above"
    else:
        where = _write_debug_log(trace)
    print(
        "internal error: mlops-actions hit a bug. Please report it at "
        f"https://github.com/mlops-actions/mlops-actions/issues with the traceback {where}.",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _write_debug_log(trace: str) -> str:
    """Where the (redacted) traceback went: a private temp file, or "above" when none can be written."""
    try:
        fd, path = tempfile.mkstemp(prefix="mlops-actions-debug-", suffix=".log")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(trace)
    except OSError:  # a full disk must not hide the error itself
        print(trace, file=sys.stderr)
        return "above"
    return f"in {path}"
