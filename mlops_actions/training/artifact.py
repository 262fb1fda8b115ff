"""Model artifacts in the skops format (never pickle or joblib), written byte for byte deterministically.

skops names array files after ``id()`` of the objects and stamps every zip entry with the current time, so
two runs of the same training differ. ``canonical_skops`` rewrites a dump: object ids and file names are
numbered in the order they first appear in ``schema.json``, entries are sorted, timestamps fixed and
nothing is compressed (zlib builds differ between machines; stored bytes do not).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.convention.model import estimator_allowed
from mlops_actions.errors import InputError, Place
from mlops_actions.evaluation.results import ARTIFACT_FILE, FILES_ARCHIVE  # the results folder's layout

SCHEMA_ENTRY = "schema.json"
FIXED_DATE = (1980, 1, 1, 0, 0, 0)
# Types skops does not trust by default but that run no code when loaded: a dtype is rebuilt from an .npy,
# an OrderedDict from its items (LightGBM keeps its parameters in one).
SAFE_TYPES = frozenset({"numpy.dtype", "collections.OrderedDict"})
# Fitted attributes that hold a memory address, not a learned value: dropped before saving (sklearn keeps
# ``TfidfVectorizer._stop_words_id = id(self.stop_words)`` only to skip a repeated check, read with getattr).
_ADDRESS_ATTRIBUTES = ("_stop_words_id",)


@dataclass(frozen=True)
class Artifact:
    """The bytes of a model file and what the version record says about them."""

    data: bytes
    file: str = ARTIFACT_FILE
    format: str = "skops"

    @property
    def sha256(self) -> str:
        """sha256 of the bytes (skops); of the canonical listing of the files in the zip (``files``)."""
        if self.format == "files":
            return files_identity(read_zip(self.data))
        return hashlib.sha256(self.data).hexdigest()

    def to_record(self) -> dict[str, Any]:
        record = {"file": self.file, "sha256": self.sha256, "format": self.format, "size": len(self.data)}
        parts = artifact_parts(self.data, self.format)
        if parts:
            record["parts"] = parts
        return record


def dump_model(model: Any) -> Artifact:
    """The model as canonical skops bytes."""
    import skops.io as sio

    forget_addresses(model)
    fast = _skops_parts(model)
    if fast is None:
        return Artifact(canonical_skops(sio.dumps(model)))
    return Artifact(canonical_parts(*fast))


def _skops_parts(model: Any) -> tuple[Any, dict[str, bytes]] | None:
    """skops' schema and array files without its indented JSON (pure-Python encoding: seconds for a forest);
    None when this skops has another layout (``sio.dumps`` then; the canonical bytes are the same)."""
    try:
        import skops
        from skops.io import _persist

        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            context = _persist.SaveContext(zip_file=archive)
            state = _persist.get_state(model, context)
            context.clear_memo()
            state["protocol"] = context.protocol
            state["_skops_version"] = skops.__version__
    except (ImportError, AttributeError, TypeError):
        return None
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src:
        files = {name: src.read(name) for name in src.namelist()}
    return json.loads(json.dumps(state)), files  # what reading skops' schema.json back gives


def forget_addresses(model: Any) -> None:
    """Drop attributes that hold memory addresses from every estimator in ``model`` (a fitted pipeline)."""
    seen: set[int] = set()
    stack = [model]
    while stack:
        node = stack.pop()
        if id(node) in seen or isinstance(node, str | bytes | int | float):
            continue
        seen.add(id(node))
        if isinstance(node, list | tuple):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())
        elif hasattr(node, "get_params") and hasattr(node, "__dict__"):
            for name in _ADDRESS_ATTRIBUTES:
                node.__dict__.pop(name, None)
            stack.extend(vars(node).values())


# -- the parts of an artifact: what a rebuild that is not byte-identical names -----------------------------

MAX_PARTS = 128  # beyond this many steps or files a record keeps no parts (a refusal then says they are unknown)
ROOT_PART = "(pipeline)"  # the top object's own attributes (a pipeline's; a lone estimator's: all of it)
_STEP_LISTS = ("steps", "transformers_", "transformer_list")  # Pipeline, fitted ColumnTransformer, FeatureUnion


def artifact_parts(data: bytes, fmt: str) -> dict[str, str]:
    """sha256 of each part of an artifact: each file of a command's folder (``files``), or each fitted step of
    a skops model by its path of step names (``preprocess/numeric/impute``; a container step's own attributes
    under its own path, the top object's under ``(pipeline)``). A step's hash covers its schema (object ids
    left out, so one step's change does not renumber the others) and the bytes of the arrays it holds.
    Empty when there are more than ``MAX_PARTS`` parts or the bytes are not an artifact."""
    try:
        files = read_zip(data)
        if fmt == "files":
            parts = {path: hashlib.sha256(content).hexdigest() for path, content in sorted(files.items())}
        elif SCHEMA_ENTRY in files:
            arrays = {name: hashlib.sha256(content).hexdigest() for name, content in files.items()}
            parts = {}
            _step_parts(json.loads(files[SCHEMA_ENTRY]), ROOT_PART, arrays, parts)
        else:
            return {}
    except (zipfile.BadZipFile, ValueError, TypeError, AttributeError):  # not a layout we know: no parts
        return {}
    return parts if len(parts) <= MAX_PARTS else {}


def _step_parts(node: Any, path: str, arrays: dict[str, str], parts: dict[str, str]) -> None:
    attributes = _attributes(node)
    listed = next((key for key in _STEP_LISTS if key in attributes), None) if attributes else None
    if listed is None or attributes is None:
        parts[path] = _node_sha256(node, arrays)
        return
    own = {key: value for key, value in attributes.items() if key != listed}
    parts[path] = _node_sha256({"__class__": node.get("__class__"), "attributes": own}, arrays)
    for item in _items(attributes[listed]):
        named = _items(item)
        if len(named) >= 2 and named[0].get("__loader__") == "JsonNode":
            name = str(json.loads(named[0].get("content", '""')))
            _step_parts(named[1], name if path == ROOT_PART else f"{path}/{name}", arrays, parts)


def _attributes(node: Any) -> dict[str, Any] | None:
    """An object node's attributes by name (skops: ``ObjectNode`` > ``DictNode`` > attributes)."""
    if not isinstance(node, dict) or node.get("__loader__") != "ObjectNode":
        return None
    state = node.get("content")
    if isinstance(state, dict) and state.get("__loader__") == "DictNode" and isinstance(state.get("content"), dict):
        return state["content"]
    return None


def _items(node: Any) -> list[Any]:
    content = node.get("content") if isinstance(node, dict) else None
    return [item for item in content if isinstance(item, dict)] if isinstance(content, list) else []


def _node_sha256(node: Any, arrays: dict[str, str]) -> str:
    return hashlib.sha256(json.dumps(_without_ids(node, arrays), sort_keys=True,
                                     separators=(",", ":")).encode("utf-8")).hexdigest()


def _without_ids(node: Any, arrays: dict[str, str]) -> Any:
    if isinstance(node, list):
        return [_without_ids(item, arrays) for item in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "__id__":
            continue
        out[key] = arrays.get(value, value) if key == "file" and isinstance(value, str) else _without_ids(value, arrays)
    return out


# -- a command's artifact: a folder of files --------------------------------------------------------------

def files_identity(files: dict[str, bytes]) -> str:
    """sha256 of the canonical listing: one ``<sha256>  <path>`` line per file, sorted by path (what
    ``sha256sum`` prints, so anyone can check a folder by hand)."""
    return hashlib.sha256(files_listing(files).encode("utf-8")).hexdigest()


def files_listing(files: dict[str, bytes]) -> str:
    return "".join(f"{hashlib.sha256(data).hexdigest()}  {path}\n" for path, data in sorted(files.items()))


def files_artifact(files: dict[str, bytes]) -> Artifact:
    """A folder of files as a deterministic zip (sorted, stored, fixed dates); its identity is the listing's."""
    return Artifact(_write_zip(sorted(files.items())), FILES_ARCHIVE, "files")


def read_zip(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as src:
        return {name: src.read(name) for name in src.namelist() if not name.endswith("/")}


def artifact_sha256(path: Path, fmt: str) -> str:
    """The identity of an artifact file as its record states it (see ``Artifact.sha256``); a skops file is
    hashed streamed (a model file can be large)."""
    if fmt == "files":
        return Artifact(path.read_bytes(), path.name, fmt).sha256
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def canonical_skops(raw: bytes) -> bytes:
    """Rewrite a skops dump so that the same model always gives the same bytes."""
    with zipfile.ZipFile(io.BytesIO(raw)) as src:
        schema = json.loads(src.read(SCHEMA_ENTRY))
        files = {name: src.read(name) for name in src.namelist() if name != SCHEMA_ENTRY}
    return canonical_parts(schema, files)


def canonical_parts(schema: Any, files: dict[str, bytes]) -> bytes:
    """The canonical zip of a skops schema and its array files."""
    renames = _Renamer()
    schema = renames.walk(schema)
    entries = {renames.files.get(name, name): data for name, data in files.items()}
    entries[SCHEMA_ENTRY] = json.dumps(schema, separators=(",", ":")).encode("utf-8")  # the C encoder: fast
    return _write_zip(sorted(entries.items()))


class _Renamer:
    """Numbers ``__id__`` values and stored file names by first appearance in a depth-first walk."""

    def __init__(self) -> None:
        self.ids: dict[int, int] = {}
        self.files: dict[str, str] = {}

    def walk(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.walk(item) for item in node]
        if not isinstance(node, dict):
            return node
        return {key: self._value(key, value) for key, value in node.items()}

    def _value(self, key: str, value: Any) -> Any:
        if key == "__id__" and isinstance(value, int):
            return self.ids.setdefault(value, len(self.ids) + 1)
        if key == "file" and isinstance(value, str):
            suffix = value.rsplit(".", 1)[-1] if "." in value else "bin"
            return self.files.setdefault(value, f"{len(self.files) + 1:06d}.{suffix}")
        return self.walk(value)


def _write_zip(entries: Iterable[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as out:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.create_system = 3
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_STORED
            out.writestr(info, data)
    return buffer.getvalue()


def untrusted_types(data: bytes) -> list[str]:
    """Types in a dump that skops does not trust by default."""
    import skops.io as sio

    return list(sio.get_untrusted_types(data=data))


def refused_types(untrusted: Iterable[str], allowed_prefixes: tuple[str, ...],
                  modules: Iterable[str] = ()) -> list[str]:
    """The untrusted types we do not accept either: not known-safe, not under the policy's prefixes and not
    defined in one of ``modules`` (the repository's own modules a pipeline factory imported)."""
    own = tuple(f"{m}." for m in modules)
    return sorted(t for t in untrusted if t not in SAFE_TYPES and not estimator_allowed(t, allowed_prefixes)
                  and not (own and t.startswith(own)))


def load_artifact(path: Path, allowed_prefixes: tuple[str, ...], modules: Iterable[str] = ()) -> Any:
    """Load a skops file, trusting only what skops trusts, known-safe types, the policy's prefixes and the
    types of the repository modules ``modules`` (which must be importable: the repository on sys.path)."""
    try:
        return load_trusted(path.read_bytes(), allowed_prefixes, modules)
    except InputError as exc:
        raise InputError(exc.message, place=Place(str(path)), hint=exc.hint) from None
    except OSError as exc:
        raise InputError(f"cannot read the model: {exc.strerror or exc}", place=Place(str(path)),
                         hint="run `mlops-actions train MODEL` to write it again") from None


def load_trusted(data: bytes, allowed_prefixes: tuple[str, ...], modules: Iterable[str] = ()) -> Any:
    """Load skops bytes; ``InputError`` naming the types when any is not trusted (nothing is run)."""
    import skops.io as sio

    try:
        untrusted = untrusted_types(data)
    except (zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:  # nothing was loaded or run
        raise InputError(f"not a skops model file ({type(exc).__name__}: {exc}); refusing to load it",
                         hint="use the model.skops that `mlops-actions train` wrote; other formats (pickle, "
                              "joblib) are never loaded") from None
    refused = refused_types(untrusted, allowed_prefixes, modules)
    if refused:
        raise InputError(
            f"the model holds types that are not trusted: {', '.join(refused)}; refusing to load it",
            hint="only types skops trusts, types under estimators.allowed_prefixes in mlops.yaml and types "
                 "defined in the repository modules the pipeline factory imports are loaded; review these "
                 "types and allow their module only if you trust it")
    try:
        return sio.loads(data, trusted=untrusted)
    except (AttributeError, ImportError, TypeError, ValueError) as exc:  # trusted types that cannot be rebuilt
        raise InputError(f"the model cannot be loaded back from its skops bytes: {type(exc).__name__}: "
                         f"{' '.join(str(exc).split())[:300]}",
                         hint="skops saves a function by its module and name, so a lambda or a function defined "
                              "inside another function cannot be loaded; define it at the top level of a module "
                              "(def drop_columns(X): ...) and pass that") from None
