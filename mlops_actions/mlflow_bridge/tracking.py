"""Mirror the loop into an MLflow tracking server and Model Registry, when a team has one.

``train`` logs one run per model (params, metrics, fairness summary, fingerprint, data hashes, git sha, PR),
``register`` mirrors each version into the registry (one registered model per model; version tags hold the
artifact sha256, approvers and PR; the version's MLflow model is logged with it), and ``deploy`` moves one
alias per environment to the version deployed there. Every step first looks for what it would write, so a
rerun writes nothing. MLflow is never the source of truth (git tags and GitHub Deployments are): a failure
to reach it is a warning, unless the policy says ``mlflow.required: true``.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from mlops_actions.errors import InputError, MlopsError
from mlops_actions.mlflow_bridge import INSTALL_HINT

TAG = "mlops."  # prefix of every tag we write
PARAM_LIMIT = 6000  # characters MLflow keeps of a param value
PROBE_TIMEOUT = 5.0
# quick failure instead of MLflow's minutes of retries when the server is down (unless the user set them)
HTTP_DEFAULTS = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1",
                 "MLFLOW_HTTP_REQUEST_TIMEOUT": "30"}
_RESERVED_ALIAS = re.compile(r"^(latest|v\d+)$", re.IGNORECASE)
_ALIAS = re.compile(r"^[\w-]{1,255}$")


@dataclass(frozen=True)
class MirrorConfig:
    """Where to mirror and how much it matters; ``None`` from ``mirror_config`` when there is nowhere."""

    tracking_uri: str
    required: bool = False
    origin: str = "MLFLOW_TRACKING_URI"


@dataclass(frozen=True)
class RunInfo:
    """What this workflow run is about: the commit and the pull request (when there is one)."""

    git_sha: str | None = None
    pr: int | None = None
    run_url: str | None = None


def mirror_config(env: Mapping[str, str], policy: Mapping[str, Any] | None) -> MirrorConfig | None:
    """``MLFLOW_TRACKING_URI`` wins over ``mlflow.tracking_uri`` in mlops.yaml; ``required`` is the policy's."""
    section = (policy or {}).get("mlflow") or {}
    required = bool(section.get("required", False))
    if env.get("MLFLOW_TRACKING_URI", "").strip():
        return MirrorConfig(env["MLFLOW_TRACKING_URI"].strip(), required)
    if section.get("tracking_uri"):
        return MirrorConfig(str(section["tracking_uri"]), required, "mlops.yaml mlflow.tracking_uri")
    if required:
        raise InputError("mlops.yaml says mlflow.required: true, but no tracking server is named",
                         hint="set MLFLOW_TRACKING_URI in the workflow, or mlflow.tracking_uri in mlops.yaml")
    return None


def _plain(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def run_params(record: Mapping[str, Any]) -> dict[str, str]:
    """The estimator and its parameters as MLflow params (text, cut to MLflow's limit)."""
    params = record.get("params") or {}
    found = {"estimator": _plain(params.get("class", ""))}
    found.update({str(k): _plain(v) for k, v in (params.get("params") or {}).items()})
    return {k: v[:PARAM_LIMIT] for k, v in sorted(found.items())}


def run_metrics(record: Mapping[str, Any]) -> dict[str, float]:
    """Held-out metrics and the fairness summary (``fairness.<name>``); undefined values are left out."""
    found = {str(k): v for k, v in (record.get("metrics") or {}).items()}
    found.update({f"fairness.{k}": v for k, v in (record.get("fairness") or {}).items()})
    return {k: float(v) for k, v in sorted(found.items()) if isinstance(v, int | float)}


def run_tags(model: str, record: Mapping[str, Any], info: RunInfo) -> dict[str, str]:
    data = [{"path": d.get("path"), "hash": d.get("hash")} for d in record.get("data") or ()]
    tags = {"model": model, "fingerprint": str(record.get("fingerprint", "")), "data": json.dumps(data),
            "artifact_sha256": str((record.get("artifact") or {}).get("sha256", "")),
            "git_sha": info.git_sha or "", "pr": str(info.pr or ""), "run_url": info.run_url or ""}
    return {f"{TAG}{k}": v for k, v in tags.items() if v}


def version_tags(record: Mapping[str, Any], tag: str) -> dict[str, str]:
    approvers = ",".join(str(a.get("login")) for a in record.get("approvers") or ())
    tags = {"version": str(record.get("version", "")), "tag": tag, "fingerprint": str(record.get("fingerprint", "")),
            "artifact_sha256": str(record["artifact"]["sha256"]), "approvers": approvers,
            "pr": str(record.get("pr", "")), "commit": str(record.get("commit", "")),
            "run_url": str(record.get("run_url", ""))}
    return {f"{TAG}{k}": v for k, v in tags.items() if v}


def alias_problem(environment: str) -> str | None:
    if _RESERVED_ALIAS.match(environment) or not _ALIAS.match(environment):
        return f"'{environment}' cannot be an MLflow alias (aliases are letters, digits, _ and -, not latest or v<N>)"
    return None


class Mirror:
    """Writes to one tracking server; each public method is one idempotent, guarded step."""

    def __init__(self, config: MirrorConfig, info: RunInfo, warn: Callable[[str], None],
                 allowed_prefixes: tuple[str, ...] = ("sklearn.",), root: Path | None = None) -> None:
        self.config = config
        self.info = info
        self.warn = warn
        self.allowed_prefixes = allowed_prefixes
        self.root = root  # the repository: the registry's model gets held-out rows as its input example
        self._client: Any = None

    # -- the three steps -------------------------------------------------------------------------------

    def log_training(self, model: str, folder: Path, record: Mapping[str, Any]) -> str | None:
        """The run of this training (found again by fingerprint and commit, else created); its id."""
        return self._guard(f"log the training run of {model}", lambda: self._log_training(model, folder, record))

    def register_versions(self, versions: Sequence[tuple[str, str, Mapping[str, Any], Path]]) -> None:
        """Mirror each (model, tag, record, results folder) as a version of the registered model ``model``."""
        for model, tag, record, folder in versions:
            self._guard(f"mirror {tag} into the MLflow Model Registry",
                        functools.partial(self._register, model, tag, record, folder))

    def move_aliases(self, deployed: Sequence[Mapping[str, Any]]) -> None:
        """Point the alias ``<environment>`` of each deployed model at the version deployed there."""
        for d in deployed:
            self._guard(f"move the alias {d['environment']} of {d['model']} to {d['version']}",
                        functools.partial(self._alias, str(d["model"]), str(d["version"]), str(d["environment"])))

    # -- guard: never the source of truth ---------------------------------------------------------------

    def _guard(self, what: str, step: Callable[[], Any]) -> Any:
        try:
            with _quick_http(), redirect_stdout(sys.stderr):  # MLflow prints run links to stdout
                return step()
        except MlopsError as exc:
            return self._failed(what, exc.message, exc.hint)
        except ImportError:
            return self._failed(what, "MLflow is not installed", INSTALL_HINT)
        except Exception as exc:  # MlflowException, connection errors: MLflow is a mirror, git is the record
            return self._failed(what, f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}",
                                "check the tracking server; rerun the job to mirror what is missing")

    def _failed(self, what: str, message: str, hint: str | None) -> None:
        text = f"MLflow ({self.config.tracking_uri}): could not {what}: {message}"
        if self.config.required:
            raise InputError(text + " (mlops.yaml says mlflow.required: true)", hint=hint)
        self.warn(text + "; git tags and GitHub Deployments stay the record, so this is a warning"
                  + (f" ({hint})" if hint else ""))
        return None

    @property
    def client(self) -> Any:
        if self._client is None:
            probe(self.config.tracking_uri)
            from mlflow.tracking import MlflowClient

            self._client = MlflowClient(tracking_uri=self.config.tracking_uri,
                                        registry_uri=self.config.tracking_uri)
        return self._client

    # -- runs -------------------------------------------------------------------------------------------

    def _experiment(self, model: str) -> str:
        found = self.client.get_experiment_by_name(model)
        return found.experiment_id if found is not None else self.client.create_experiment(model)

    def _find_run(self, model: str, fingerprint: str, git_sha: str | None) -> Any:
        query = f"tags.`{TAG}fingerprint` = '{fingerprint}'"
        if git_sha:
            query += f" and tags.`{TAG}git_sha` = '{git_sha}'"
        runs = self.client.search_runs([self._experiment(model)], filter_string=query, max_results=1)
        return runs[0] if runs else None

    def _log_training(self, model: str, folder: Path, record: Mapping[str, Any]) -> str:
        from mlflow.entities import Metric, Param, RunTag

        found = self._find_run(model, str(record.get("fingerprint", "")), self.info.git_sha)
        if found is not None:
            _say(f"{model}: run {found.info.run_id} already holds this training")
            return str(found.info.run_id)
        tags = run_tags(model, record, self.info)
        run = self.client.create_run(self._experiment(model), tags=tags,
                                     run_name=f"{model} {str(record.get('fingerprint', ''))[:12]}")
        run_id = run.info.run_id
        stamp = int(run.info.start_time or 0)
        self.client.log_batch(run_id, metrics=[Metric(k, v, stamp, 0) for k, v in run_metrics(record).items()],
                              params=[Param(k, v) for k, v in run_params(record).items()],
                              tags=[RunTag(k, v) for k, v in tags.items()])
        for name in ("record.json", "metrics.json", "fairness.json", "model-card.md"):  # aggregates, never rows
            if (folder / name).is_file():
                self.client.log_artifact(run_id, str(folder / name), "mlops")
        self.client.set_terminated(run_id, "FINISHED")
        _say(f"{model}: logged run {run_id} (experiment {model})")
        return str(run_id)

    # -- registry ---------------------------------------------------------------------------------------

    def _version_of(self, model: str, version: str) -> Any:
        for found in self.client.search_model_versions(f"name='{model}'"):
            if (found.tags or {}).get(f"{TAG}version") == version:
                return found
        return None

    def _register(self, model: str, tag: str, record: Mapping[str, Any], folder: Path) -> None:
        self._registered_model(model)
        tags = version_tags(record, tag)
        found = self._version_of(model, str(record.get("version")))
        if found is not None:
            for key, value in tags.items():
                if (found.tags or {}).get(key) != value:
                    self.client.set_model_version_tag(model, found.version, key, value)
            _say(f"{tag}: already MLflow version {found.version} of registered model {model}")
            return
        trained = self._find_run(model, str(record.get("fingerprint", "")), str(record.get("commit") or "") or None)
        run_id = str(trained.info.run_id) if trained is not None else self._log_training(model, folder, record)
        source = self._log_model(run_id, folder, record, tag)
        made = self.client.create_model_version(model, source, run_id=run_id, tags=tags,
                                                description=f"{tag}: PR #{record.get('pr')}, commit "
                                                            f"{str(record.get('commit', ''))[:12]} (mlops-actions)")
        _say(f"{tag}: mirrored as MLflow version {made.version} of registered model {model}")

    def _registered_model(self, model: str) -> None:
        from mlflow.exceptions import MlflowException

        try:
            self.client.get_registered_model(model)
        except MlflowException:
            self.client.create_registered_model(model, tags={f"{TAG}managed_by": "mlops-actions"},
                                                description="Mirrored from git tags <model>@v<N> by mlops-actions")

    def _log_model(self, run_id: str, folder: Path, record: Mapping[str, Any], tag: str) -> str:
        """Export the results folder's model (checked against the record) and log it to ``run_id``."""
        from mlops_actions.mlflow_bridge.export import export_model
        from mlops_actions.mlflow_bridge.heldout import HeldOut, held_out
        from mlops_actions.mlflow_bridge.loading import export_options
        from mlops_actions.mlflow_bridge.source import check_identity, from_folder

        source = from_folder(folder)  # checked against the folder's record; that must be the tag's
        check_identity(source.sha256, record, f"{folder}/{record['artifact']['file']}")
        source = replace(source, label=tag, record=record)  # the tag's record: registered, with approvers
        with tempfile.TemporaryDirectory(prefix="mlops-mirror-") as scratch:
            out = Path(scratch) / "model"
            rows = held_out(self.root, source.model, record) if self.root else HeldOut(None)
            export_model(source, out, rows, export_options(self.root, source, self.allowed_prefixes))
            self.client.log_artifacts(run_id, str(out), "model")
        return f"{self.client.get_run(run_id).info.artifact_uri}/model"

    def _alias(self, model: str, version: str, environment: str) -> None:
        problem = alias_problem(environment)
        if problem:
            raise InputError(problem)
        found = self._version_of(model, version)
        if found is None:
            raise InputError(f"{model}@{version} is not in the MLflow Model Registry (registered before MLflow was "
                             "set up?); the alias was not moved")
        current = (getattr(self.client.get_registered_model(model), "aliases", None) or {}).get(environment)
        if str(current) != str(found.version):
            self.client.set_registered_model_alias(model, environment, found.version)
        _say(f"{model}: alias {environment} -> MLflow version {found.version} ({model}@{version})")


def _say(message: str) -> None:
    print(f"mlflow: {message}", file=sys.stderr)


def probe(uri: str) -> None:
    """``InputError`` when an http(s) tracking server does not answer ``/health`` quickly."""
    if not uri.startswith(("http://", "https://")):
        return
    url = uri.rstrip("/") + "/health"
    try:
        with urllib.request.urlopen(url, timeout=PROBE_TIMEOUT):  # noqa: S310  # http(s) only, checked above
            return
    except urllib.error.HTTPError as exc:
        if exc.code < 500:
            return  # it answers; /health may be behind auth or absent in a proxy
        reason = f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError) as exc:
        reason = str(getattr(exc, "reason", exc))
    raise InputError(f"the tracking server does not answer ({reason})")


@contextmanager
def _quick_http() -> Iterator[None]:
    added = {k: v for k, v in HTTP_DEFAULTS.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)
