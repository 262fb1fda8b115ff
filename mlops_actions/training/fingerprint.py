"""A model's fingerprint: what training depends on, hashed. Equal fingerprints train byte-identical models.

fingerprint = sha256 over the canonical spec (comments and key order do not matter), the content hashes
of its data files, the code files its spec names, and the versions of the libraries that change training
results (scikit-learn, numpy, the estimator's distribution). Computed for the work tree or for any commit
(git plumbing, no checkout), at O(changed) cost: file hashes are git's object ids (see ``hashing``) and
parsed specs are cached by their blob id. No sklearn or pandas import here.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata
from pathlib import Path
from types import MappingProxyType
from typing import Any, NamedTuple

from mlops_actions.convention.discovery import MODELS_DIR, SPEC_FILE, model_names, spec_relpath
from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.yamlio import MAX_FILE_BYTES, decode, parse_text
from mlops_actions.errors import GitError
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git, read_batch, split_z
from mlops_actions.repodata.hashing import (
    MISSING,
    index_entries,
    modified,
    unvouched_links,
    worktree_hashes,
)
from mlops_actions.training.datahash import commit_hashes, worktree_overrides
from mlops_actions.training.dependencies import (
    Dependencies,
    commit_reader,
    dependencies,
    reads_files,
    worktree_reader,
)

FINGERPRINT_FORMAT = 1
BASE_LIBRARIES = ("scikit-learn", "numpy")
KNOWN_DISTRIBUTIONS = {"sklearn": "scikit-learn", "sklego": "scikit-lego", "numpy": "numpy",
                       "xgboost": "xgboost", "lightgbm": "lightgbm", "catboost": "catboost"}
NOT_INSTALLED = "not installed"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
LINKED_SPEC = "the spec is a symbolic link: git stores the link's text, not the spec (replace the link with the file)"


@dataclass(frozen=True)
class DataHash:
    """A data file (repository path, or URL) and its content hash ``git:<oid>``, ``lfs:<oid>``, ``sha256:<hex>``,
    ``dvc:<md5>`` (tracked by DVC) or ``parts:<sha256>`` (a partitioned dataset; see ``datahash``)."""

    path: str
    hash: str


@dataclass(frozen=True)
class Fingerprint:
    value: str
    spec_sha256: str
    data: tuple[DataHash, ...]
    code: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    libraries: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))

    def record_fields(self) -> dict[str, Any]:
        """The fields of a version record this fingerprint fills (schemas/version-record)."""
        return {"fingerprint": self.value, "spec_sha256": self.spec_sha256,
                "data": [{"path": d.path, "hash": d.hash} for d in self.data],
                "code": dict(self.code), "libraries": dict(self.libraries)}

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Fingerprint:
        """The fingerprint a (schema-valid) version record holds."""
        return cls(value=record["fingerprint"], spec_sha256=record.get("spec_sha256", ""),
                   data=tuple(DataHash(d["path"], d["hash"]) for d in record.get("data", ())),
                   code=MappingProxyType(dict(record.get("code", {}))),
                   libraries=MappingProxyType(dict(record.get("libraries", {}))))


@dataclass(frozen=True)
class Snapshot:
    """A model as one tree (work tree or commit) has it: its parsed spec and fingerprint, or why not."""

    name: str
    raw: Mapping[str, Any] | None
    fingerprint: Fingerprint | None
    problem: str | None = None


# -- canonical form ----------------------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """``value`` as plain JSON data: string keys, lists, and ``str()`` for anything YAML-only (dates)."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def canonical_json(value: Any) -> str:
    return json.dumps(plain(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def spec_sha256(raw: Mapping[str, Any]) -> str:
    """sha256 of the canonical spec: the parsed data, so comments, quoting and key order do not count."""
    return sha256_text(canonical_json(raw))


def combine(spec_hash: str, data: Iterable[DataHash], code: Mapping[str, str],
            libraries: Mapping[str, str]) -> str:
    """sha256 of the canonical JSON of the fingerprint's inputs (``payload_json``)."""
    return sha256_text(payload_json(spec_hash, [(d.path, d.hash) for d in data], code, libraries))


def payload_json(spec_hash: str, pairs: Iterable[tuple[str, str]], code: Mapping[str, str],
                 libraries: Mapping[str, str]) -> str:
    """``json.dumps({"format", "spec", "data", "code", "libraries"}, sort_keys=True, separators=(",", ":"),
    ensure_ascii=False)``, written out: the same bytes (strings escaped by json's own function) without the
    encoder's generic walk, which was a tenth of ``plan`` at 5,000 models."""
    q = _quote
    data = ",".join(f"[{q(p)},{q(h)}]" for p, h in pairs)
    codes = ",".join(f"{q(k)}:{q(v)}" for k, v in sorted(code.items()))
    libs = ",".join(f"{q(k)}:{q(v)}" for k, v in sorted(libraries.items()))
    return (f'{{"code":{{{codes}}},"data":[{data}],"format":{FINGERPRINT_FORMAT:d},"libraries":{{{libs}}},'
            f'"spec":{q(spec_hash)}}}')


_quote = json.encoder.encode_basestring  # what json.dumps(ensure_ascii=False) uses for every string


# -- what a spec depends on ------------------------------------------------------------------------------

def repo_path(path: Any) -> str | None:
    """A spec's repository path in git's form (``a/b``), or None when it is not a safe relative path."""
    if not isinstance(path, str) or not path or path.startswith(("/", "\\")):
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if not parts or ".." in parts:
        return None
    return "/".join(parts)


def data_source(raw: Mapping[str, Any]) -> tuple[str, str | None] | None:
    """(repository path or URL, pinned hash for a URL) of the spec's data; None when the spec names none."""
    data = raw.get("data")
    if not isinstance(data, Mapping):
        return None
    if isinstance(data.get("path"), str):
        return data["path"], None
    if isinstance(data.get("url"), str):
        pinned = data.get("sha256")
        return data["url"], f"sha256:{pinned}" if isinstance(pinned, str) and _SHA256.match(pinned) else MISSING
    return None


def data_paths(raws: Iterable[Mapping[str, Any]]) -> set[str]:
    """The repository data paths (not URLs) of the specs ``raws``, in git's form."""
    sources = (data_source(raw) for raw in raws)
    return {p for s in sources if s is not None and s[1] is None and (p := repo_path(s[0])) is not None}


def code_paths(raw: Mapping[str, Any]) -> list[str]:
    code = raw.get("code")
    return sorted({c for c in code if isinstance(c, str)}) if isinstance(code, list) else []


def estimator_class(raw: Mapping[str, Any]) -> str:
    est = raw.get("estimator")
    cls = est.get("class") if isinstance(est, Mapping) else None
    return cls if isinstance(cls, str) else ""


def files_of(raw: Mapping[str, Any]) -> list[str]:
    """The repository files a spec's fingerprint reads hashes of (data and code), in git's form."""
    source = data_source(raw)
    paths = [source[0]] if source and source[1] is None else []
    paths += code_paths(raw)
    return [p for p in (repo_path(x) for x in paths) if p]


# -- library versions --------------------------------------------------------------------------------------

@cache
def installed_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def forget_installed_versions() -> None:
    """Drop the cached versions and module-to-distribution lookups (after ``pip install`` in this process)."""
    installed_version.cache_clear()
    distribution_of.cache_clear()
    _library_names.cache_clear()


@cache
def distribution_of(module: str) -> str:
    """The distribution that provides top-level ``module`` (``sklearn`` -> ``scikit-learn``); never imports it."""
    if module in KNOWN_DISTRIBUTIONS:
        return KNOWN_DISTRIBUTIONS[module]
    found = metadata.packages_distributions().get(module)
    return sorted(found)[0] if found else module


def library_versions(class_path: str, versions: Mapping[str, str] | None = None,
                     modules: Iterable[str] = ()) -> dict[str, str]:
    """Versions of scikit-learn, numpy, the estimator's distribution and those of ``modules`` (third-party
    modules a factory or command imports); ``versions`` overrides the lookup."""
    wanted = _library_names(class_path.split(".", 1)[0] if class_path else None, tuple(modules))
    if versions is not None:
        return {n: versions.get(n, NOT_INSTALLED) for n in wanted}
    return {n: installed_version(n) for n in wanted}


@cache
def _library_names(top: str | None, modules: tuple[str, ...]) -> tuple[str, ...]:
    """The sorted distributions of scikit-learn, numpy, module ``top`` (when not None) and ``modules``."""
    names = list(BASE_LIBRARIES)
    if top is not None:
        names.append(distribution_of(top))
    names += [distribution_of(m) for m in modules]
    return tuple(sorted(set(names)))


# -- fingerprints from parsed specs and file hashes ---------------------------------------------------------

def fingerprint_of(raw: Mapping[str, Any], hashes: Mapping[str, str], versions: Mapping[str, str] | None = None,
                   spec_hash: str | None = None, deps: Dependencies | None = None) -> Fingerprint:
    """The fingerprint of a parsed spec, given the hashes of the repository files it names and depends on.

    ``spec_hash``, when given, must be ``spec_sha256(raw)`` of a plain ``raw``: what the spec names is then
    looked up by it (``spec_facts``) and equal inputs give the same ``Fingerprint`` object, built once."""
    deps = deps or _NO_DEPS
    facts = spec_facts(raw, spec_hash) if spec_hash else SpecFacts.of(raw)
    spec_hash = spec_hash or spec_sha256(raw)
    source = facts.source
    pair = None if source is None else (source[0], source[1] or hashes.get(facts.data_path, MISSING))
    names = sorted({*facts.code, *deps.files}) if deps.files else facts.code
    code = tuple((c, hashes.get(repo_path(c) or "", MISSING)) for c in names)
    libraries = library_versions(facts.estimator, versions, deps.modules)
    key = (spec_hash, pair, code, tuple(libraries.items()))
    found = _FINGERPRINTS.get(key)
    if found is None:
        data = () if pair is None else (DataHash(*pair),)
        found = Fingerprint(value=combine(spec_hash, data, dict(code), libraries), spec_sha256=spec_hash,
                            data=data, code=MappingProxyType(dict(code)), libraries=MappingProxyType(libraries))
        _remember(_FINGERPRINTS, key, found)
    return found


_NO_DEPS = Dependencies()
_FINGERPRINTS: dict[tuple[Any, ...], Fingerprint] = {}  # every input of the fingerprint -> it


class SpecFacts(NamedTuple):
    """What a parsed spec names that its fingerprint depends on: a pure function of the spec's data."""

    source: tuple[str, str | None] | None  # data_source
    data_path: str  # the data's repository path in git's form ("" for a URL or none)
    code: tuple[str, ...]  # code_paths
    files: tuple[str, ...]  # files_of
    estimator: str
    traced: bool  # ``dependencies.reads_files``: whether ``dependencies`` can find any file

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> SpecFacts:
        source = data_source(raw)
        data_path = (repo_path(source[0]) or "") if source is not None and source[1] is None else ""
        code = tuple(code_paths(raw))
        files = ([data_path] if data_path else []) + [p for p in map(repo_path, code) if p]  # = files_of(raw)
        return cls(source, data_path, code, tuple(files), estimator_class(raw), reads_files(raw))


def spec_facts(raw: Mapping[str, Any], sha: str) -> SpecFacts:
    """``SpecFacts.of(raw)`` for a plain ``raw`` whose canonical sha256 is ``sha``, computed once per process
    (the work tree and the base share most specs: 5,000 models are 5,000 lookups, not 30,000 walks)."""
    found = _FACTS.get(sha)
    if found is None:
        found = SpecFacts.of(raw)
        _remember(_FACTS, sha, found)
    return found


_FACTS: dict[str, SpecFacts] = {}


def _remember(memo: dict[Any, Any], key: Any, value: Any) -> None:
    if len(memo) >= 50_000:
        memo.clear()
    memo[key] = value


def fingerprint_worktree(root: Path, spec: ModelSpec, *, versions: Mapping[str, str] | None = None) -> Fingerprint:
    """Fingerprint of ``spec`` with its files as they are in the work tree."""
    raw = plain(spec.raw)
    git = Git(root)
    cache = RepoCache(git)
    deps = dependencies(raw, worktree_reader(root))
    overrides = worktree_overrides(git, cache, data_paths([raw]))
    hashes = worktree_hashes(git, cache, {*files_of(raw), *deps.files} - overrides.keys())
    hashes.update(overrides)
    cache.save()
    return fingerprint_of(raw, hashes, versions, deps=deps)


def fingerprint_at(root: Path, rev: str, name: str, *,
                   versions: Mapping[str, str] | None = None) -> Fingerprint | None:
    """Fingerprint of model ``name`` as committed in ``rev`` (no checkout); None when it does not exist there.

    ``GitError`` when ``rev`` names no commit; a spec that does not parse at ``rev`` raises ``GitError`` too.
    """
    snap = snapshots_at(root, rev, [name], versions=versions).get(name)
    if snap is None:
        return None
    if snap.fingerprint is None:
        raise GitError(f"{spec_relpath(name)} at {rev}: {snap.problem}")
    return snap.fingerprint


# -- many models at once (plan) ---------------------------------------------------------------------------

Parsed = tuple[dict[str, Any], str]  # (spec as plain JSON data, its canonical sha256)


def snapshots_worktree(root: Path, names: Iterable[str] | None = None, *, versions: Mapping[str, str] | None = None,
                       cache: RepoCache | None = None) -> dict[str, Snapshot]:
    """Every model of the work tree (or those of ``names`` that exist), each parsed and fingerprinted."""
    git = Git(root)
    store = cache or RepoCache(git)
    wanted = sorted(set(names) if names is not None else model_names(root))
    specs = _worktree_specs(git, store, wanted)
    deps = _dependencies(specs, worktree_reader(root))
    overrides = worktree_overrides(git, store, _data_paths(specs))
    hashes = worktree_hashes(git, store, _files(specs, deps) - overrides.keys())  # DVC's data: never hashed by git
    hashes.update(overrides)
    if cache is None:
        store.save()
    return {n: _snapshot(n, specs[n], hashes, versions, deps.get(n)) for n in sorted(specs)}


def snapshots_at(root: Path, rev: str, names: Iterable[str] | None = None, *,
                 versions: Mapping[str, str] | None = None, cache: RepoCache | None = None) -> dict[str, Snapshot]:
    """Every model committed in ``rev`` (or those of ``names``), from git objects only."""
    git = Git(root)
    commit = git.commit_of(rev)
    if commit is None:
        raise GitError(f"'{rev}' is not a commit in this repository",
                       hint="fetch it first (actions/checkout with fetch-depth: 0), or name another --base")
    store = cache or RepoCache(git)
    specs = _commit_specs(git, store, commit, names)
    deps = _dependencies(specs, commit_reader(git, commit))
    hashes = commit_hashes(git, store, commit, _files(specs, deps), _data_paths(specs))
    if cache is None:
        store.save()
    return {n: _snapshot(n, specs[n], hashes, versions, deps.get(n)) for n in sorted(specs)}


def _dependencies(specs: Mapping[str, Parsed | str], read: Any) -> dict[str, Dependencies]:
    """Code each spec's build depends on (only specs that name a factory, command, metric file or requirements)."""
    return {name: dependencies(spec[0], read) if spec_facts(*spec).traced else _NO_DEPS
            for name, spec in specs.items() if not isinstance(spec, str)}


def _data_paths(specs: Mapping[str, Parsed | str]) -> set[str]:
    """``data_paths`` of the parsed ``specs``."""
    return {f.data_path for spec in specs.values() if not isinstance(spec, str) and (f := spec_facts(*spec)).data_path}


def _files(specs: Mapping[str, Parsed | str], deps: Mapping[str, Dependencies]) -> set[str]:
    named = {p for spec in specs.values() if not isinstance(spec, str) for p in spec_facts(*spec).files}
    return named | {p for d in deps.values() for p in d.files}


def _snapshot(name: str, spec: Parsed | str, hashes: Mapping[str, str],
              versions: Mapping[str, str] | None, deps: Dependencies | None = None) -> Snapshot:
    if isinstance(spec, str):
        return Snapshot(name, None, None, spec)
    raw, sha = spec
    return Snapshot(name, raw, fingerprint_of(raw, hashes, versions, sha, deps))


def _worktree_specs(git: Git, cache: RepoCache, names: list[str]) -> dict[str, Parsed | str]:
    """Specs of the work tree; clean tracked ones come from the cache by blob id, parsed once ever."""
    paths = {spec_relpath(n): n for n in names}
    links: set[str] = set()
    index = index_entries(git, paths, links)
    changed = modified(git, index)
    linked = unvouched_links(git.root, paths, index, changed | links)
    specs: dict[str, Parsed | str] = {}
    for path, name in paths.items():
        if path in linked:  # git (and a cache keyed by git's blob id) would see the link's text
            specs[name] = LINKED_SPEC
            continue
        oid = index.get(path) if path not in changed else None
        cached = _cached_spec(cache, oid)
        content = None if cached is not None else _read_file(git.root / path)
        if cached is not None or content is not None:
            specs[name] = cached if cached is not None else _parse_spec(cache, oid, content or b"")
    return specs


def _commit_specs(git: Git, cache: RepoCache, commit: str, names: Iterable[str] | None) -> dict[str, Parsed | str]:
    found, links = _specs_in_tree(git, commit, names)
    missing = sorted({oid for oid in found.values() if _cached_spec(cache, oid) is None})
    blobs = read_batch(git.run("cat-file", "--batch", stdin=_lines(missing)), missing) if missing else {}
    specs: dict[str, Parsed | str] = {name: _cached_spec(cache, oid) or _parse_spec(cache, oid, blobs.get(oid) or b"")
                                      for name, oid in found.items()}
    return {**specs, **dict.fromkeys(links, LINKED_SPEC)}


def _cached_spec(cache: RepoCache, oid: str | None) -> Parsed | None:
    entry = cache.get("specs", oid) if oid is not None else None
    if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], dict):
        return entry[0], str(entry[1])
    return None


def _parse_spec(cache: RepoCache, oid: str | None, content: bytes) -> Parsed | str:
    parsed = _parse(content)
    if isinstance(parsed, str):
        return parsed
    sha = spec_sha256(parsed)
    if oid is not None:
        cache.put("specs", oid, [parsed, sha])
    return parsed, sha


def _specs_in_tree(git: Git, commit: str, names: Iterable[str] | None) -> tuple[dict[str, str], set[str]]:
    """model name -> blob id of its spec in ``commit``, and the models whose spec is a symbolic link."""
    wanted = None if names is None else set(names)
    out = git.run("ls-tree", "-r", "-z", commit, "--", MODELS_DIR)
    found: dict[str, str] = {}
    links: set[str] = set()
    for record in split_z(out):
        meta, _, path = record.partition("\t")
        parts = path.split("/")
        mode, kind, oid = meta.split()
        if kind == "blob" and len(parts) == 3 and parts[2] == SPEC_FILE and (wanted is None or parts[1] in wanted):
            if mode == "120000":
                links.add(parts[1])
            else:
                found[parts[1]] = oid
    return found, links


def _read_file(path: Path) -> bytes | None:
    try:
        return path.read_bytes() if path.is_file() else None
    except OSError:
        return None


def _parse(content: bytes) -> dict[str, Any] | str:
    """The spec's data as plain JSON, or a one-line reason it does not parse."""
    if len(content) > MAX_FILE_BYTES:
        return f"the spec is larger than {MAX_FILE_BYTES // 1024} KiB"
    text, problem = decode(content, "spec")
    loaded = parse_text(text or "", "spec") if problem is None else None
    if loaded is None or not loaded.ok:
        first = problem or (loaded.problems[0] if loaded else None)
        return first.message if first else "the spec does not parse"
    result: dict[str, Any] = plain(loaded.data)
    return result


def _lines(items: Iterable[str]) -> bytes:
    return "".join(f"{i}\n" for i in items).encode("utf-8", "surrogateescape")
