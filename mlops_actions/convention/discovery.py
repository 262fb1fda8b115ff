"""Where the convention's files live, and which schema each one follows."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from mlops_actions.convention.schemas import ENVIRONMENT, MODEL_SPEC, POLICY
from mlops_actions.errors import UsageError

POLICY_FILE = "mlops.yaml"
MODELS_DIR = "models"
SPEC_FILE = "model.yaml"
ENVIRONMENTS_DIR = "environments"
RESULTS_DIR = "mlops-out"  # where train writes and report, register read by default (gitignored by init)


@dataclass(frozen=True, order=True)
class ConventionFile:
    """A file of the convention: its repository-relative path (POSIX) and the schema it follows."""

    relpath: str
    schema: str

    def absolute(self, root: Path) -> Path:
        return root / self.relpath


def kind_of(relpath: str) -> str | None:
    """The schema a repository-relative path follows by the convention, or None."""
    parts = PurePosixPath(relpath).parts
    if parts == (POLICY_FILE,):
        return POLICY
    if len(parts) == 3 and parts[0] == MODELS_DIR and parts[2] == SPEC_FILE:
        return MODEL_SPEC
    if len(parts) == 2 and parts[0] == ENVIRONMENTS_DIR and parts[1].endswith((".yaml", ".yml")):
        return ENVIRONMENT
    return None


def discover(root: Path) -> list[ConventionFile]:
    """Every convention file under ``root``, policy first, then models, then environments."""
    found: list[ConventionFile] = []
    if (root / POLICY_FILE).exists() or (root / POLICY_FILE).is_symlink():  # a folder or a loop: reported
        found.append(ConventionFile(POLICY_FILE, POLICY))
    found.extend(ConventionFile(spec_relpath(name), MODEL_SPEC) for name in model_names(root))
    found.extend(ConventionFile(f"{ENVIRONMENTS_DIR}/{p.name}", ENVIRONMENT)
                 for p in sorted((root / ENVIRONMENTS_DIR).glob("*.y*ml")) if kind_of(f"{ENVIRONMENTS_DIR}/{p.name}"))
    return found


def model_names(root: Path) -> list[str]:
    """The folders under models/ holding a model.yaml, sorted: ``(root / "models").glob("*/model.yaml")`` by
    ``os.scandir`` and ``os.path`` (pathlib made two path objects per model: a tenth of plan at 5,000 models)."""
    folder = os.path.join(str(root), MODELS_DIR)
    if not os.path.isdir(folder):
        return []
    try:
        with os.scandir(folder) as listing:
            entries = list(listing)
    except PermissionError:
        return []
    return sorted(e.name for e in entries if _is_dir(e) and os.path.exists(os.path.join(folder, e.name, SPEC_FILE)))


def misplaced_specs(root: Path, depth: int = 3) -> list[str]:
    """``model.yaml`` files in folders under models/ that hold no spec of their own, up to ``depth`` levels
    below them (``models/team/churn/model.yaml``): never read, since a spec is ``models/<name>/model.yaml``."""
    folder = os.path.join(str(root), MODELS_DIR)
    found: list[str] = []
    if not os.path.isdir(folder):
        return found
    try:
        with os.scandir(folder) as listing:
            others = sorted(e.name for e in listing
                            if _is_dir(e) and not os.path.exists(os.path.join(e.path, SPEC_FILE)))
    except OSError:
        return found
    for name in others:
        top = os.path.join(folder, name)
        for here, dirs, files in os.walk(top):
            level = os.path.relpath(here, top).count(os.sep) + 1
            dirs[:] = sorted(dirs) if level < depth else []
            if SPEC_FILE in files and here != top:
                found.append(PurePosixPath(os.path.relpath(os.path.join(here, SPEC_FILE), root)).as_posix())
    return found


def _is_dir(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def spec_relpath(name: str) -> str:
    return f"{MODELS_DIR}/{name}/{SPEC_FILE}"


def resolve_targets(root: Path, paths: list[str], schema: str | None) -> list[ConventionFile]:
    """Files named on the command line (files or folders), each with the schema it follows."""
    if not paths:
        return discover(root)
    files: list[ConventionFile] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(_in_folder(root, path, schema))
        else:
            files.append(_one_file(root, path, schema))
    return sorted(set(files))


def _in_folder(root: Path, folder: Path, schema: str | None) -> list[ConventionFile]:
    if schema is not None:
        return [ConventionFile(_rel(root, p), schema) for p in sorted(folder.rglob("*.y*ml"))]
    if not _is_under(folder, root):
        raise UsageError(f"{folder}: a folder outside the repository {root} holds no convention files",
                         hint="pass a folder inside the repository (or -C its repository root), or --schema NAME "
                              "to check its YAML files against a schema")
    found = [f for f in discover(root) if _is_under(root / f.relpath, folder)]
    return found


def _one_file(root: Path, path: Path, schema: str | None) -> ConventionFile:
    rel = _rel(root, path)
    kind = schema or kind_of(rel)
    if kind is None and PurePosixPath(rel).is_absolute():
        raise UsageError(f"{rel}: outside the repository {root}, so it is no convention file",
                         hint="pass a file inside the repository (or -C its repository root), or --schema NAME "
                              "to check any file against a schema")
    if kind is None:
        raise UsageError(
            f"{rel}: cannot tell which schema this file follows",
            hint=f"convention files are {POLICY_FILE}, {MODELS_DIR}/<name>/{SPEC_FILE} and "
                 f"{ENVIRONMENTS_DIR}/<env>.yaml; pass --schema NAME for other files")
    return ConventionFile(rel, kind)


def _rel(root: Path, path: Path) -> str:
    absolute = path if path.is_absolute() else Path.cwd() / path
    try:
        resolved = absolute.resolve()
    except (RuntimeError, OSError):  # a symlink loop (RuntimeError before Python 3.13)
        raise UsageError(f"{absolute.as_posix()}: a symbolic link that loops (or cannot be followed)",
                         hint="pass the path of a real file") from None
    try:
        return resolved.relative_to(root.resolve()).as_posix()
    except ValueError:
        return absolute.as_posix()


def _is_under(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
    except ValueError:
        return False
    return True
