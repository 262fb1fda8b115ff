"""``mlops-actions history [MODEL]``: every registered version with its date, fingerprint, key metrics,
approvers, and where it runs now.

Versions are the local annotated tags ``<model>@v<N>`` (one ``git for-each-ref`` for all of them); a tag
whose record is invalid is listed with its problem and nothing else from it is shown. "Where it runs now"
comes from GitHub Deployments when the composition root passes a GitHub client (token and repository
set), else from ``environments/*.yaml`` at HEAD -- labelled as the desired state, since the files say what
should run, not what GitHub deployed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from mlops_actions import bounded
from mlops_actions.convention.discovery import ENVIRONMENTS_DIR, POLICY_FILE, spec_relpath
from mlops_actions.convention.model import Policy
from mlops_actions.convention.schemas import ENVIRONMENT, POLICY, VERSION_RECORD, fast_check, is_valid
from mlops_actions.errors import EXIT_OK, InputError, Place
from mlops_actions.gitcache import RepoCache
from mlops_actions.gitio import Git, read_batch
from mlops_actions.registry import records
from mlops_actions.registry.history import FILES, GITHUB, History, LastDeployment, Placement, Row, last_deployments
from mlops_actions.registry.history import history as build_history
from mlops_actions.registry.tag import parse_tag
from mlops_actions.registry.version_index import listed_versions
from mlops_actions.resources import schema_path

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort

FORMATS = ("text", "json")
MAX_METRICS_SHOWN = 3
MAX_CELL = 60
RECORDS = "records"  # cache section: tag object id -> 1 when its record was found valid
VALID_FILES = "history-files"  # cache section: schema:schema hash:content hash -> the valid file's data


def history(root: Path, model: str | None, *, fmt: str = "text", gh: GitHubPort | None = None) -> int:
    """Print the history of ``model`` (every model when None); ``gh`` (a GitHubRepo) reads deployments."""
    cache = RepoCache(Git(root))
    versions = listed_versions(Git(root), cache, model)
    if model is not None:
        _check_model(root, model, versions)
    policy = load_policy(root, cache)
    placement, last = github_state(gh, policy) if gh is not None else (file_placement(root, policy, cache), ())
    cache.save()
    result = build_history(versions, placement, model, last)
    print(as_json(result, model) if fmt == "json" else as_text(result, model))
    return EXIT_OK


def _check_model(root: Path, model: str, versions: list[records.VersionRef]) -> None:
    if versions or (parse_tag(f"{model}@v1") is not None and (root / spec_relpath(model)).is_file()):
        return
    raise InputError(f"unknown model '{_clean(model)}': no version tag {_clean(model)}@v<N> and no "
                     f"{spec_relpath(_clean(model))}",
                     hint="run `mlops-actions history` without MODEL to list every model's versions")


# versions -----------------------------------------------------------------------------------------------


def read_versions(root: Path, model: str | None = None, cache: RepoCache | None = None
                  ) -> list[records.VersionRef]:
    """Like ``records.local_versions`` (same refs, same answers), faster for valid records.

    A record that is JSON naming its tag's model and version, and whose tag object (by id, immutable) was
    found valid before (the ``records`` section of the repository cache, shared with ``plan``) or passes
    the compiled schema check now, is trusted as ``records.check`` would; every other tag goes through
    ``records.check`` itself, which says why it is not trusted.
    """
    git = Git(root)
    store = cache or RepoCache(git)
    raws = records._raw_tags(git)  # the one for-each-ref of all tags (records' own reader)
    found = [_fast(raw, store) or records.check(raw) for raw in raws if model is None or raw.model == model]
    if cache is None:
        store.save()
    return found


def _fast(raw: Any, cache: RepoCache) -> records.VersionRef | None:
    if raw.kind != "tag":
        return None
    try:
        data = bounded.loads(records._without_signature(raw.message))
    except ValueError:
        return None
    names_its_tag = isinstance(data, dict) and data.get("model") == raw.model and \
        data.get("version", f"v{raw.number}") == f"v{raw.number}"
    if not names_its_tag:
        return None
    if not cache.get(RECORDS, raw.oid):
        check = fast_check(VERSION_RECORD)
        if check is None or not check(data):
            return None
        cache.put(RECORDS, raw.oid, 1)
    return records.VersionRef(raw.model, raw.number, raw.tag, MappingProxyType(data), None, raw.created)


# where versions run -------------------------------------------------------------------------------------


def load_policy(root: Path, cache: RepoCache) -> Policy:
    """The policy, as ``convention.validation.load_policy`` reads it, through the repository cache."""
    path = root / POLICY_FILE
    if not path.is_file():
        return Policy()
    try:
        raw = path.read_bytes()
    except OSError:
        raw = None
    data = _valid_file(cache, raw, POLICY_FILE, POLICY) if raw is not None else None
    if data is None:
        raise InputError("the policy is not valid", place=Place(POLICY_FILE),
                         hint=f"run `mlops-actions validate {POLICY_FILE}` to see the problems")
    return Policy.from_dict(data)


def file_placement(root: Path, policy: Policy, cache: RepoCache) -> Placement:
    """environment -> model -> version from ``environments/<env>.yaml`` at HEAD (policy order)."""
    paths = {env.name: f"{ENVIRONMENTS_DIR}/{env.name}.yaml" for env in policy.environments}
    specs = [f"HEAD:{path}" for path in paths.values()]
    out = Git(root).run("cat-file", "--batch", stdin="".join(f"{s}\n" for s in specs).encode())
    blobs = read_batch(out, specs)
    state = {}
    for env, path in paths.items():
        blob = blobs[f"HEAD:{path}"]
        if blob is None:
            continue
        data = _valid_file(cache, blob, path, ENVIRONMENT)
        if data is None:
            raise InputError("invalid environment file at HEAD; cannot say what runs there", place=Place(path),
                             hint=f"run `mlops-actions validate {path}` to see the problems")
        state[env] = {str(k): str(v) for k, v in data.items()}
    return Placement(FILES, state)


def _valid_file(cache: RepoCache, raw: bytes, relpath: str, schema: str) -> dict[str, Any] | None:
    """The YAML file's data when it parses and is valid against ``schema``, else None.

    A valid answer is remembered by the file's content hash and the schema's: the next run needs
    neither the YAML parser nor the schema check.
    """
    key = f"{schema}:{_digest(schema_path(schema).read_bytes())[:16]}:{_digest(raw)}"
    known = cache.get(VALID_FILES, key)
    if isinstance(known, dict):
        return known
    from mlops_actions.convention.yamlio import MAX_FILE_BYTES, decode, parse_text

    text, problem = decode(raw, relpath) if len(raw) <= MAX_FILE_BYTES else (None, "too big")
    loaded = parse_text(text, relpath) if text is not None and problem is None else None
    if loaded is None or not loaded.ok or not is_valid(schema, loaded.data):
        return None
    data: dict[str, Any] = loaded.data
    if _plain_json(data):
        cache.put(VALID_FILES, key, data)
    return data


def _digest(raw: bytes) -> str:
    return hashlib.sha256(raw).hexdigest()


def _plain_json(data: Any) -> bool:
    try:
        return json.loads(json.dumps(data)) == data
    except (TypeError, ValueError):
        return False


def github_placement(gh: GitHubPort, policy: Policy) -> Placement:
    """environment -> model -> version of the newest successful GitHub Deployment, per environment."""
    return github_state(gh, policy)[0]


def github_state(gh: GitHubPort, policy: Policy) -> tuple[Placement, tuple[LastDeployment, ...]]:
    """What runs where (newest successful deployment), and each model's last deployment and its status
    (active, failed, in progress, queued), per environment: one read of GitHub's deployments for both."""
    from mlops_actions.registry.promotion import DEPLOYMENTS_READ, current_state, deployed_from

    found = {env.name: gh.deployments(env.name, DEPLOYMENTS_READ) for env in policy.environments}
    state = {env: current_state(deployed_from(env, ds)) for env, ds in found.items()}
    return Placement(GITHUB, state), tuple(d for env, ds in found.items() for d in last_deployments(env, ds))


# output -------------------------------------------------------------------------------------------------


def as_json(result: History, model: str | None) -> str:
    return json.dumps({"model": model, **result.to_dict()}, indent=2, sort_keys=True, ensure_ascii=False)


def as_text(result: History, model: str | None) -> str:
    if not result.rows:
        return f"{_clean(model)}: no version yet (versions are tagged by `mlops-actions register` on merge)" \
            if model else "no versions yet (versions are tagged by `mlops-actions register` on merge)"
    table = simple_table(["version", "date (UTC)", "fingerprint", "metrics", "approvers", "deployed"],
                         [_cells(row) for row in result.rows])
    lines = [f"deployed: {result.placement.label}", "", table]
    if result.invalid:
        lines += ["", f"{len(result.invalid)} version record(s) are invalid and not trusted:"]
        lines += [f"  {row.tag}: {_clean(row.problem or '')}" for row in result.invalid]
    if result.last:
        lines += ["", "last deployment per environment (GitHub Deployments):", _last_table(result)]
    if result.notes:
        lines += ["", "notes:"] + [f"  {_clean(note)}" for note in result.notes]
    return "\n".join(lines)


def simple_table(headers: list[str], rows: list[list[str]]) -> str:
    """``tabulate(rows, headers, tablefmt="simple", disable_numparse=True)``, the same text, written here for
    the printable-ASCII case: tabulate takes seconds on 15,000 rows (it measures every cell several times)."""
    cells = [[c.strip() for c in row] for row in rows]
    columns = [[h] for h in headers]
    for row in cells:
        for column, cell in zip(columns, row, strict=True):
            column.append(cell)
    text = "".join("".join(col) for col in columns)
    if not (text.isascii() and text.isprintable()):
        from tabulate import tabulate

        return tabulate(rows, tablefmt="simple", disable_numparse=True, headers=headers)
    widths = [max(len(col[0]) + 2, max(map(len, col[1:]), default=0)) for col in columns]
    pattern = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [pattern.format(*headers).rstrip(), "  ".join("-" * w for w in widths)]
    lines += [pattern.format(*row).rstrip() for row in cells]
    return "\n".join(lines)


def _last_table(result: History) -> str:
    from tabulate import tabulate

    rows = [[d.environment, f"{d.model}@{d.version}", d.label, _date(d.date), str(d.deployment_id),
             _cut(d.environment_url or d.description) or "-"] for d in result.last]
    return tabulate(rows, tablefmt="simple", disable_numparse=True,
                    headers=["environment", "version", "status", "since (UTC)", "deployment", "url / description"])


def _cells(row: Row) -> list[str]:
    deployed = ", ".join(row.deployed) or "-"
    if row.problem is not None:
        return [row.tag, _date(row.date), "-", _cut("INVALID: " + row.problem), "-", deployed]
    return [row.tag, _date(row.date), row.short_fingerprint, _metrics(row), _cut(", ".join(row.approvers)) or "-",
            deployed]


def _metrics(row: Row) -> str:
    values = dict(row.metrics)
    shown = [f"{name}={_number(values[name])}" for name in row.key_metrics[:MAX_METRICS_SHOWN]]
    more = len(row.key_metrics) - MAX_METRICS_SHOWN
    return _cut(" ".join(shown) + (f" (+{more})" if more > 0 else "")) or "-"


def _number(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def _date(stamp: str) -> str:
    return stamp[:16].replace("T", " ") if len(stamp) >= 16 else _clean(stamp)


def _cut(text: str) -> str:
    text = _clean(text)
    return text if len(text) <= MAX_CELL else text[:MAX_CELL - 1] + "…"


def _clean(text: str) -> str:
    """Text from a tag or record, safe for a terminal: control characters become '?'."""
    text = str(text)
    return text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)
