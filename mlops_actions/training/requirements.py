"""A model's extra packages (``requirements: models/x/requirements.txt``, pinned ``name==version`` lines).

The file's content is in the fingerprint (``dependencies``); the action installs it before training; training
records the installed versions and refuses to train when one differs from its pin (the fingerprint would then
name packages that did not run).
"""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
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
                         hint=f"run `pip install -r {relpath}` first, or `mlops-actions train --install-requirements` "
                              "(the action installs it: input install-requirements, default true)")
    return installed


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def _same(installed: str, pinned: str) -> bool:
    return installed == pinned or installed.split("+", 1)[0] == pinned


def install_requirements(root: Path, relpath: str, pip_args: str = "") -> None:
    """``pip install -r`` the file into the running interpreter (no shell; ``pip_args`` split like a shell would,
    e.g. ``--no-index --find-links /wheels``); ``InputError`` with pip's last lines when it fails."""
    try:
        extra = shlex.split(pip_args)
    except ValueError as exc:
        raise InputError(f"MLOPS_ACTIONS_PIP_ARGS cannot be split into words: {exc}") from None
    argv = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", *extra, "-r", str(root / relpath)]
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    print(done.stdout + done.stderr, flush=True)
    if done.returncode != 0:
        tail = "\n    ".join((done.stdout + done.stderr).strip().splitlines()[-8:])
        raise InputError(f"pip could not install the requirements (exit {done.returncode}):\n    {tail}",
                         place=Place(relpath), hint="fix the pins (name==version of a release that exists for "
                                                   "this Python), or the package index settings; nothing was trained")
    metadata_cache_clear()


def metadata_cache_clear() -> None:
    """Forget cached distribution lookups: versions read after an install must be the new ones (the import
    system's and the fingerprint's, which caches each distribution's version for the run)."""
    import importlib

    from mlops_actions.training.fingerprint import forget_installed_versions

    importlib.invalidate_caches()
    forget_installed_versions()
