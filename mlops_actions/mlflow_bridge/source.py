"""Which model to export or serve, and its bytes: ``MODEL@vN``, ``MODEL@ENV`` or a training folder.

A version's record comes from its annotated tag (the local clone's, else GitHub's); its artifact is the
release asset the record names, accepted only when its sha256 is the record's. A training folder (what
``train`` wrote) is read as it is, its artifact checked against its own ``record.json``.
"""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mlops_actions.convention.discovery import ENVIRONMENTS_DIR
from mlops_actions.convention.names import is_environment_name
from mlops_actions.convention.schemas import ENVIRONMENT, VERSION_RECORD, is_valid
from mlops_actions.convention.validation import load_valid
from mlops_actions.errors import InputError, Place, UsageError
from mlops_actions.registry.records import local_versions, parse_record
from mlops_actions.registry.tag import parse_tag

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

RECORD_FILE = "record.json"
CARD_FILE = "model-card.md"


@dataclass(frozen=True)
class Target:
    """What the user named: a version (model + number), an environment's version, or a folder."""

    text: str
    model: str | None = None
    number: int | None = None
    environment: str | None = None
    folder: Path | None = None

    @property
    def tag(self) -> str:
        return f"{self.model}@v{self.number}"


@dataclass(frozen=True)
class ModelSource:
    """A model ready to export: its record, its verified artifact bytes (or folder) and its model card."""

    model: str
    label: str  # arrests@v3, or the training folder
    record: Mapping[str, Any]
    artifact: bytes | None  # the skops file, sha256-checked against the record
    files: Mapping[str, bytes] | None = None  # a command-trained model's artifact folder, checked likewise
    card: str | None = None

    @property
    def version(self) -> str | None:
        return self.record.get("version")

    @property
    def sha256(self) -> str:
        return str(self.record["artifact"]["sha256"])


def parse_target(text: str, cwd: Path) -> Target:
    """``arrests@v3`` / ``arrests@production`` / a folder; ``UsageError`` for anything else."""
    folder = Path(text) if Path(text).is_absolute() else cwd / text
    if "@" not in text or folder.is_dir():
        if not folder.is_dir():
            raise UsageError(f"{text!r} is neither MODEL@vN, MODEL@ENVIRONMENT nor a training folder",
                             hint="e.g. arrests@v3, arrests@production, or mlops-out/arrests (written by train)")
        return Target(text, folder=folder)
    tagged = parse_tag(text)
    if tagged is not None:
        return Target(text, model=tagged[0], number=tagged[1])
    model, _, env = text.partition("@")
    if re.fullmatch(r"v\d+", env):
        raise UsageError(f"{text!r}: versions are numbered from v1 (v1, v2, ...)")
    if parse_tag(f"{model}@v1") is None or not is_environment_name(env):
        raise UsageError(f"{text!r} is neither MODEL@vN nor MODEL@ENVIRONMENT",
                         hint="model names are lowercase (arrests), versions v1, v2, ... and environments are "
                              "the names of environments/*.yaml")
    return Target(text, model=model, environment=env)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# -- a training folder ----------------------------------------------------------------------------------


def from_folder(folder: Path) -> ModelSource:
    record = _folder_record(folder)
    path = folder / str(record["artifact"]["file"])
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the model: {exc.strerror or exc}", place=Place(str(path)),
                         hint="run `mlops-actions train MODEL` to write the training folder again") from None
    return _checked(record["model"], str(folder), record, data, f"{path}", _card(folder))


def _checked(model: str, label: str, record: Mapping[str, Any], data: bytes, where: str,
             card: str | None) -> ModelSource:
    """The artifact ``data`` (a skops file, or a command's zip of files) once its identity is the record's."""
    fmt = record["artifact"].get("format", "skops")
    if fmt == "skops":
        check_bytes(data, record, where)
        return ModelSource(model, label, record, data, None, card)
    if fmt != "files":
        raise InputError(f"{label}: a {fmt} artifact cannot be exported", hint="export skops or command models")
    from mlops_actions.training.artifact import files_identity, read_zip

    try:
        files = read_zip(data)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise InputError(f"{where} is not a zip of the model's files ({exc}); refusing it",
                         hint="the artifact was replaced or damaged after training") from None
    check_identity(files_identity(files), record, where)
    return ModelSource(model, label, record, None, files, card)


def _folder_record(folder: Path) -> dict[str, Any]:
    path = folder / RECORD_FILE
    hint = "pass the folder `mlops-actions train MODEL` wrote (mlops-out/MODEL), or a version: MODEL@vN"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError(f"{folder} is not a training folder: it has no {RECORD_FILE}", hint=hint) from None
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read the version record: {exc}", place=Place(str(path)), hint=hint) from None
    if not is_valid(VERSION_RECORD, record):
        raise InputError("the version record does not follow schemas/version-record", place=Place(str(path)),
                         hint="it was edited or written by another tool; run `mlops-actions train MODEL` again")
    return record


def _card(folder: Path) -> str | None:
    path = folder / CARD_FILE
    return path.read_text(encoding="utf-8") if path.is_file() else None


def check_bytes(data: bytes, record: Mapping[str, Any], where: str) -> None:
    """Refuse artifact bytes whose sha256 is not the one the record names (both are named)."""
    check_identity(sha256(data), record, where)


def check_identity(got: str, record: Mapping[str, Any], where: str) -> None:
    want = str(record["artifact"]["sha256"])
    if got != want:
        raise InputError(f"{where} has sha256 {got}, but the version record names {want}; refusing it",
                         hint="the artifact was replaced or damaged after training; only the bytes that were "
                              "reviewed and registered are exported")


# -- a version --------------------------------------------------------------------------------------------


def version_record(root: Path, target: Target, gh: GitHubPort | None) -> Mapping[str, Any]:
    """The trusted record of ``target`` (a version): the local tag's, else GitHub's."""
    local = next((v for v in local_versions(root, target.model) if v.number == target.number), None)
    if local is not None:
        if local.record is None:
            raise InputError(f"version {target.tag} is not trusted: {local.problem}",
                             hint="only versions made by `mlops-actions register` are exported")
        return local.record
    info = gh.tag(target.tag) if gh is not None else None
    if info is None:
        raise InputError(f"there is no version {target.tag} (no such tag{'' if gh else ' in this clone'})",
                         hint="`mlops-actions history` lists the versions; in CI check out with fetch-depth: 0")
    record, problem = parse_record(info.message, str(target.model), int(target.number or 0)) if info.annotated \
        else (None, "it is a lightweight tag, not a version record")
    if record is None:
        raise InputError(f"version {target.tag} is not trusted: {problem}",
                         hint="only versions made by `mlops-actions register` are exported")
    return record


def from_release(root: Path, target: Target, gh: GitHubPort | None) -> ModelSource:
    """The version's record and its release asset, refused unless the bytes are the record's."""
    record = version_record(root, target, gh)
    if gh is None:
        raise InputError(f"downloading the artifact of {target.tag} from its release needs GitHub "
                         "(GITHUB_TOKEN and GITHUB_REPOSITORY)",
                         hint="set them, or export the training folder instead: mlops-actions export mlops-out/MODEL")
    file = str(record["artifact"]["file"])
    release = gh.get_release(target.tag)
    assets = {a.name: a for a in (release.assets if release is not None else ())}
    if file not in assets:
        where = f"the release of {target.tag} has no asset {file}" if release is not None \
            else f"{target.tag} has no release"
        raise InputError(f"{where} (deleted?); the version's artifact cannot be fetched",
                         hint=f"re-upload the original {file} (sha256 {record['artifact']['sha256']}) to the "
                              "release, or register a new version")
    data = gh.download_asset(assets[file])
    card = gh.download_asset(assets[CARD_FILE]).decode("utf-8", "replace") if CARD_FILE in assets else None
    return _checked(str(target.model), target.tag, record, data, f"the release asset {file} of {target.tag}", card)


def deployed_version(root: Path, target: Target, gh: GitHubPort | None) -> Target:
    """``MODEL@ENV`` as the version that runs there: GitHub Deployments with a client, else the file."""
    model, env = str(target.model), str(target.environment)
    if gh is not None:
        from mlops_actions.registry.promotion import current_state, read_deployments

        version = current_state(read_deployments(gh, [env])[env]).get(model)
        where = f"GitHub Deployments to {env}"
    else:
        version, where = _desired(root, model, env), f"{ENVIRONMENTS_DIR}/{env}.yaml"
    if version is None:
        raise InputError(f"{model} does not run in {env} ({where} name no version of it)",
                         hint=f"name a version instead, e.g. {model}@v1 (`mlops-actions history {model}` lists them)")
    return Target(target.text, model=model, number=int(version[1:]))


def _desired(root: Path, model: str, env: str) -> str | None:
    relpath = f"{ENVIRONMENTS_DIR}/{env}.yaml"
    if not (root / relpath).is_file():
        raise InputError(f"no environment '{env}': {relpath} does not exist",
                         hint="environments are the files environments/<env>.yaml")
    data = load_valid(root, relpath, ENVIRONMENT)
    if data is None:
        raise InputError("invalid environment file", place=Place(relpath),
                         hint=f"run `mlops-actions validate {relpath}` to see the problems")
    version = data.get(model)
    return str(version) if version is not None else None


def resolve(root: Path, target: Target, gh: GitHubPort | None) -> ModelSource:
    """The model ``target`` names, with verified bytes."""
    if target.folder is not None:
        return from_folder(target.folder)
    if target.environment is not None:
        target = deployed_version(root, target, gh)
    return from_release(root, target, gh)
