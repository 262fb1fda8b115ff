"""The GitHub Actions side: workflow commands (escaped once, right), outputs, job summary, groups.

Built once by the CLI from the environment and handed down; nothing else reads ``GITHUB_*`` variables.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from mlops_actions.secrets import Secrets

MAX_SUMMARY_BYTES = 1024 * 1024


def escape_data(value: str) -> str:
    """Escape the message part of a workflow command (``::cmd ...::<data>``)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """Escape a property value of a workflow command (``file=<value>,line=...``)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


_ISSUED: set[str] = set()  # the workflow-command lines this process built (see ``inert``)
_MAX_ISSUED = 10_000


def workflow_command(name: str, message: str = "", **properties: object) -> str:
    """``::name key=value,...::message`` with GitHub's escaping; None-valued properties are left out."""
    props = ",".join(f"{k}={escape_property(str(v))}" for k, v in properties.items() if v is not None)
    head = f"::{name} {props}" if props else f"::{name}"
    line = f"{head}::{escape_data(message)}"
    if len(_ISSUED) >= _MAX_ISSUED:  # lines are printed as soon as they are built: old ones are done with
        _ISSUED.clear()
    _ISSUED.add(line)
    return line


def inert(line: str) -> str:
    """``line`` unable to act as a workflow command unless this process built it with ``workflow_command``:
    text from a pull request (a spec value with a line break, a column name) printed as it is could otherwise
    start a line with ``::add-mask::`` or ``::stop-commands::``. A zero-width space splits the ``::``."""
    if line.lstrip().startswith("::") and line not in _ISSUED and line not in ("::endgroup::",):
        head = line[: len(line) - len(line.lstrip())]
        return head + ":\u200b" + line.lstrip()[1:]
    return line


@dataclass(frozen=True)
class ActionsRuntime:
    """Where outputs and summaries go. ``active`` is False outside Actions (then writes are no-ops).
    Nothing written carries a value of ``secrets`` (outputs, summary and workflow commands are redacted)."""

    active: bool = False
    output_file: Path | None = None
    summary_file: Path | None = None
    stream: TextIO | None = None
    secrets: Secrets = field(default_factory=Secrets, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str], stream: TextIO | None = None) -> ActionsRuntime:
        out = env.get("GITHUB_OUTPUT")
        summary = env.get("GITHUB_STEP_SUMMARY")
        return cls(active=env.get("GITHUB_ACTIONS") == "true", output_file=Path(out) if out else None,
                   summary_file=Path(summary) if summary else None, stream=stream, secrets=Secrets.from_env(env))

    @property
    def out(self) -> TextIO:
        return self.stream or sys.stdout

    def command(self, name: str, message: str = "", **properties: object) -> None:
        if self.active:
            line = workflow_command(name, message, **properties)
            print(line if name == "add-mask" else self.secrets.redact(line), file=self.out, flush=True)

    def mask(self, secret: str) -> None:
        """Mask ``secret`` in the job's log: the whole value, and each line of a multi-line value."""
        if self.active and secret.strip():
            for line in Secrets.from_env({"SECRET": secret}).mask_lines():
                print(line, file=self.out, flush=True)

    def mask_all(self) -> None:
        """Mask every secret of the run's environment, before anything else is printed."""
        if self.active:
            for line in self.secrets.mask_lines():
                print(line, file=self.out, flush=True)

    def set_output(self, name: str, value: str) -> None:
        """Append ``name`` to ``$GITHUB_OUTPUT`` with a random heredoc delimiter (safe for any value)."""
        if self.output_file is None:
            return
        import secrets

        delimiter = f"ghadelimiter_{secrets.token_hex(8)}"
        text = f"{name}<<{delimiter}\n{self.secrets.redact(value)}\n{delimiter}\n"
        _append(self.output_file, "GITHUB_OUTPUT", text.encode("utf-8"))

    def append_summary(self, markdown: str) -> None:
        """Append Markdown to the job summary, cut to GitHub's 1 MiB limit with a note."""
        if self.summary_file is None:
            return
        existing = self.summary_file.stat().st_size if self.summary_file.is_file() else 0
        room = MAX_SUMMARY_BYTES - existing
        data = self.secrets.redact(markdown).encode("utf-8")
        if len(data) > room:
            note = b"\n\n_(summary cut: GitHub allows 1 MiB per step)_\n"
            data = data[: max(room - len(note), 0)].decode("utf-8", "ignore").encode("utf-8") + note
        _append(self.summary_file, "GITHUB_STEP_SUMMARY", data)

    @contextmanager
    def group(self, title: str) -> Iterator[None]:
        """A ``::group::`` block under Actions; a timed stage line everywhere."""
        start = time.perf_counter()
        if self.active:
            print(workflow_command("group", title), file=self.out, flush=True)
        else:
            print(f"==> {title}", file=sys.stderr, flush=True)
        try:
            yield
        finally:
            elapsed = time.perf_counter() - start
            if self.active:
                print(f"{title}: {elapsed:.2f}s", file=self.out)
                print("::endgroup::", file=self.out, flush=True)
            else:
                print(f"    {title}: {elapsed:.2f}s", file=sys.stderr, flush=True)


def _append(path: Path, variable: str, data: bytes) -> None:
    """Append ``data`` to ``path``, or an ``InputError`` naming the variable that points at it."""
    from mlops_actions.errors import InputError

    try:
        with path.open("ab") as fh:
            fh.write(data)
    except OSError as exc:
        raise InputError(f"{variable} {path}: cannot append to it: {exc.strerror or exc}",
                         hint=f"GitHub Actions sets {variable} to a file; outside Actions, unset it") from None
