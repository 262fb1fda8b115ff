"""Secret values of a run, kept out of everything we write: logs, outputs, job summary, comments, crash logs.

Which values are secret: ``GITHUB_TOKEN`` and every environment variable whose name says it holds a secret
(``*TOKEN*``, ``*SECRET*``, ``*PASSWORD*``, ``*CREDENTIAL*``, ``*_KEY``, ``*_KEY_*``),
plus the password of any ``scheme://user:password@host`` URL in the environment (an MLflow or S3 endpoint).
Under Actions the same wrapper keeps text we print from becoming a workflow command (``actions_runtime.inert``).
A multi-line value is secret whole and line by line: GitHub's runner masks what one ``::add-mask::`` names, and
output is matched line by line, so each line is masked on its own as GitHub's docs advise for multi-line
secrets. Values shorter than ``MIN_LENGTH`` are left alone (masking "t" would blank every t of the log).

Built once by the composition root (``Secrets.from_env``) and handed down; ``redacting`` wraps stdout and
stderr so that no line we print carries a secret, whatever code printed it.
"""

from __future__ import annotations

import inspect
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import Any, TextIO
from urllib.parse import urlsplit

MIN_LENGTH = 4
REDACTED = "***"
_SECRET_NAME = re.compile(r"TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL|(^|_)(API_?|ACCESS_?|PRIVATE_?)?KEY($|_)", re.I)
_MASK_COMMAND = "::add-mask::"


def is_secret_name(name: str) -> bool:
    return _SECRET_NAME.search(name) is not None


def _url_password(value: str) -> str | None:
    if "://" not in value or "@" not in value:
        return None
    try:
        return urlsplit(value.strip()).password
    except ValueError:
        return None


def _forms(value: str) -> list[str]:
    """The value, and each of its lines when it has several (stripped, as the runner matches them)."""
    lines = [line.strip() for line in re.split(r"\r\n|[\r\n]", value)]
    return [value, *(line for line in lines if line != value)]


@dataclass(frozen=True)
class Secrets:
    """The secret values of a run, longest first (so a value inside a longer one never splits it)."""

    values: tuple[str, ...] = ()
    originals: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Secrets:
        found = [v for k, v in sorted(env.items()) if is_secret_name(k) and v.strip()]
        found += [p for p in (_url_password(v) for v in env.values()) if p]
        forms = {f for value in found for f in _forms(value) if len(f) >= MIN_LENGTH}
        return cls(tuple(sorted(forms, key=lambda v: (-len(v), v))), tuple(dict.fromkeys(found)))

    def redact(self, text: str) -> str:
        for value in self.values:
            if value in text:
                text = text.replace(value, REDACTED)
        return text

    def mask_lines(self) -> list[str]:
        """``::add-mask::`` commands for every value and every line of a multi-line value."""
        from mlops_actions.actions_runtime import workflow_command

        return [workflow_command("add-mask", v) for v in dict.fromkeys((*self.originals, *self.values))
                if len(v.strip()) >= MIN_LENGTH]


class _Redacting:
    """A text stream that writes whole lines, each with the secrets replaced (mask commands pass as they are:
    the runner consumes them and shows nothing)."""

    def __init__(self, inner: TextIO, secrets: Secrets, guard_commands: bool) -> None:
        self.inner = inner
        self.secrets = secrets
        self.guard_commands = guard_commands
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        if "\n" in self.pending:
            done, _, self.pending = self.pending.rpartition("\n")
            self.inner.write("\n".join(self._line(line) for line in done.split("\n")) + "\n")
        return len(text)

    def _line(self, line: str) -> str:
        if self.guard_commands:
            from mlops_actions.actions_runtime import inert

            line = inert(line)
        return line if line.startswith(_MASK_COMMAND) else self.secrets.redact(line)

    def flush(self) -> None:
        if self.pending:
            self.inner.write(self._line(self.pending))
            self.pending = ""
        self.inner.flush()

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)


@contextmanager
def redacting(secrets: Secrets, *, guard_commands: bool = False) -> Iterator[None]:
    """stdout and stderr with ``secrets`` replaced, for the duration of one command; with ``guard_commands``
    (under Actions) no printed line becomes a workflow command unless we built it (``actions_runtime.inert``)."""
    if not (secrets.values or guard_commands) or isinstance(sys.stdout, _Redacting):
        yield
        return
    out, err = sys.stdout, sys.stderr
    sys.stdout = _Redacting(out, secrets, guard_commands)
    sys.stderr = _Redacting(err, secrets, guard_commands)
    try:
        yield
    finally:
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        sys.stdout, sys.stderr = out, err


# The text a GitHub write publishes, by method of ``github.repo.GitHubRepo``: comments, check runs, issues,
# releases and statuses are shown to everyone who can read the repository. ``run.title``: the ``title`` of the
# value object passed as ``run`` (``github.values.CheckRun``).
PUBLISHED_TEXT: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "upsert_comment": ("body",), "check_run": ("run.title", "run.summary", "run.text"),
    "commit_status": ("description",),
    "release": ("name", "body"), "set_deployment_status": ("description",), "upsert_issue": ("title", "body"),
    "close_issue": ("comment",)})


class RedactedWrites:
    """A GitHub client whose published text never carries a secret; everything else passes through."""

    def __init__(self, inner: Any, secrets: Secrets) -> None:
        self._inner = inner
        self._secrets = secrets

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._inner, name)
        fields = PUBLISHED_TEXT.get(name)
        if fields is None or not callable(attribute) or not self._secrets.values:
            return attribute
        return self._redacting(attribute, fields)

    def _redacting(self, method: Callable[..., Any], fields: tuple[str, ...]) -> Callable[..., Any]:
        signature = inspect.signature(method)

        def call(*args: Any, **kwargs: Any) -> Any:
            bound = signature.bind(*args, **kwargs)
            for field_name in fields:
                name, _, attribute = field_name.partition(".")
                if name in bound.arguments:
                    bound.arguments[name] = self._redacted(bound.arguments[name], attribute)
            return method(*bound.args, **bound.kwargs)

        return call

    def _redacted(self, value: Any, attribute: str) -> Any:
        """``value`` redacted when it is text; with ``attribute``, a copy of the value object with that text
        field redacted."""
        if not attribute:
            return self._secrets.redact(value) if isinstance(value, str) else value
        text = getattr(value, attribute, None)
        return replace(value, **{attribute: self._secrets.redact(text)}) if isinstance(text, str) else value
