"""A model's extra packages (``requirements: models/x/requirements.txt``, pinned ``name==version`` lines).

The file's content is in the fingerprint (``dependencies``); the action installs it before training; training
records the installed versions and refuses to train when one differs from its pin (the fingerprint would then
name packages that did not run).
"""

from __future__ import annotations

import re
from importlib import metadata
from pathlib import Path

from mlops_actions.errors import InputError, Place

NOT_INSTALLED = "not installed"
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*===?\s*([^\s;#]+)")


def pins(text: str) -> dict[str, str]:
    """name -> pinned version of each requirement line (comments and blank lines skipped)."""
    found = {}
    for line in text.splitlines():
        match = _PIN.match(line.strip())
        if match:
            found[match.group(1)] = match.group(3)
    return found


def installed_requirements(root: Path, relpath: str) -> dict[str, str]:
    """name -> installed version for every pinned requirement; ``InputError`` when one differs from its pin."""
    try:
        wanted = pins((root / relpath).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the requirements file: {exc}", place=Place(relpath)) from None
    installed = {name: _version(name) for name in sorted(wanted)}
    wrong = [f"{n}=={wanted[n]} ({installed[n]})" for n in sorted(wanted) if not _same(installed[n], wanted[n])]
    if wrong:
        raise InputError(f"installed packages differ from their pins: {', '.join(wrong)}", place=Place(relpath),
                         hint=f"run `pip install -r {relpath}` first (the action does: input requirements)")
    return installed


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def _same(installed: str, pinned: str) -> bool:
    return installed == pinned or installed.split("+", 1)[0] == pinned
