"""``mlops-actions init [DIR] [--example NAME]``: scaffold a repository that follows the convention.

The files come from the package's ``templates/`` (``repo/`` always, ``examples/<name>/`` on request; a
top-level ``github/`` folder there is written as ``.github/``). Idempotent: a file that already holds what
we would write is left alone. A file the user changed is never overwritten: every target is checked first
and, when any differs, the command names them and stops with nothing written.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlops_actions.errors import EXIT_OK, InputError, UsageError
from mlops_actions.resources import DEFAULT_OWNER, example_names, template_path

PROJECT = "mlops-actions"
_OWNER_TOKEN = f"{DEFAULT_OWNER}/{PROJECT}"
_GITHUB_DIR = "github"


@dataclass(frozen=True)
class ScaffoldFile:
    """One file init writes: its path relative to the target folder (POSIX) and its exact bytes."""

    relpath: str
    content: bytes


@dataclass(frozen=True)
class ScaffoldPlan:
    """What init would do: the files to create and the ones already up to date."""

    create: tuple[ScaffoldFile, ...]
    unchanged: tuple[str, ...]


def _arrests_csv() -> bytes:
    from sklego.datasets import load_arrests  # lazy: pandas and sklearn only when the example is asked for

    return load_arrests(as_frame=True).to_csv(index=False, lineterminator="\n").encode("utf-8")


# example name -> (data file it needs, relative to the repository, and how to produce its bytes)
EXAMPLE_DATA: dict[str, tuple[str, Callable[[], bytes]]] = {"arrests": ("data/arrests.csv", _arrests_csv)}


_DOTTED = (_GITHUB_DIR, "gitignore")  # stored without the dot so packaging and tools do not skip them


def target_relpath(template_relpath: PurePosixPath) -> str:
    """Where a template file goes: ``github/...`` becomes ``.github/...``, ``gitignore`` ``.gitignore``."""
    parts = template_relpath.parts
    if parts and parts[0] in _DOTTED:
        parts = (f".{parts[0]}", *parts[1:])
    return PurePosixPath(*parts).as_posix()


def render(text: str, owner: str) -> str:
    """The template with our repository ``mlops-actions/mlops-actions`` replaced by ``<owner>/mlops-actions``."""
    return text.replace(_OWNER_TOKEN, f"{owner}/{PROJECT}")


def _tree(folder: Path, owner: str) -> list[ScaffoldFile]:
    files = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        rel = PurePosixPath(path.relative_to(folder).as_posix())
        text = render(path.read_text(encoding="utf-8"), owner)
        files.append(ScaffoldFile(target_relpath(rel), text.encode("utf-8")))
    return files


def scaffold_files(owner: str, example: str | None) -> list[ScaffoldFile]:
    """Every file init writes for these options, in a stable order."""
    files = _tree(template_path("repo"), owner)
    if example is not None:
        overlay = _tree(template_path("examples", example), owner)  # an example's mlops.yaml replaces the base one
        replaced = {f.relpath for f in overlay}
        files = [f for f in files if f.relpath not in replaced] + overlay
        data_path, produce = EXAMPLE_DATA[example]
        files.append(ScaffoldFile(data_path, produce()))
    return files


def plan_scaffold(dest: Path, files: list[ScaffoldFile]) -> ScaffoldPlan:
    """Sort the files into to-create and unchanged; ``InputError`` naming every file the user changed."""
    create, unchanged, changed = [], [], []
    for item in files:
        target = dest / item.relpath
        if _blocked(dest, target):  # a file where a folder must go (.github as a file): the user's, kept
            changed.append(item.relpath)
        elif not target.exists() and not target.is_symlink():
            create.append(item)
        elif target.is_file() and not target.is_symlink() and target.read_bytes() == item.content:
            unchanged.append(item.relpath)
        else:
            changed.append(item.relpath)
    if changed:
        raise InputError(
            f"{dest}: {len(changed)} file(s) already exist with other content: {', '.join(changed)}; "
            "nothing was written",
            hint="init never overwrites your changes: move or rename these files, or compare them with "
                 "`mlops-actions init` in an empty folder and merge by hand")
    return ScaffoldPlan(tuple(create), tuple(unchanged))


def _blocked(dest: Path, target: Path) -> bool:
    """Whether something that is not a folder sits where a folder above ``target`` (below ``dest``) must be."""
    folder = target.parent
    while folder != dest and dest in folder.parents:
        if (folder.exists() or folder.is_symlink()) and not folder.is_dir():
            return True
        folder = folder.parent
    return False


def _write_atomic(target: Path, content: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        os.chmod(tmp, 0o644)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def check_options(dest: Path, owner: str, example: str | None) -> None:
    blocker = next(p for p in (dest, *dest.parents) if p.exists() or p.is_symlink())
    if not blocker.is_dir():
        raise UsageError(f"{blocker} exists and is not a folder" + (f", so {dest} cannot be created" if blocker != dest
                                                                     else ""), hint="pass a folder to scaffold")
    if example is not None and example not in example_names():
        raise UsageError(f"unknown example '{example}'; choose from {', '.join(example_names())}")
    if not owner or not all(c.isalnum() or c == "-" for c in owner) or owner.startswith("-"):
        raise UsageError(f"--owner {owner!r} is not a GitHub account name (letters, digits and '-')")


def init(dest: Path, *, owner: str = DEFAULT_OWNER, example: str | None = None) -> int:
    """Scaffold ``dest``; print what was created and what was already there."""
    check_options(dest, owner, example)
    plan = plan_scaffold(dest, scaffold_files(owner, example))
    for item in plan.create:
        _write_atomic(dest / item.relpath, item.content)
        print(f"created    {item.relpath}")
    for relpath in plan.unchanged:
        print(f"unchanged  {relpath}")
    print(f"{dest}: {len(plan.create)} file(s) created, {len(plan.unchanged)} already up to date.")
    if plan.create:
        print("Next: replace your-org/... in mlops.yaml and .github/CODEOWNERS with your teams, then commit "
              "and push; `mlops-actions validate` checks the convention files.")
    return EXIT_OK
