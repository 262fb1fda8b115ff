"""Value objects of the convention, built from schema-valid data. Past this point nothing is a dict of dicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from mlops_actions.convention.units import parse_size

DEFAULT_ALLOWED_PREFIXES = ("sklearn.",)
DEFAULT_MAX_MEMORY = 4 * 2**30  # 4 GiB: room on a 7 GB GitHub-hosted runner for the data, the model and us
DEFAULT_ENVIRONMENTS = ("staging", "production")
CLASSIFICATION_METRICS = frozenset(
    {"accuracy", "balanced_accuracy", "precision", "recall", "f1", "roc_auc", "log_loss"})
REGRESSION_METRICS = frozenset({"mae", "rmse", "r2", "mape"})
REGRESSION_FAIRNESS = frozenset({"mae_difference", "rmse_difference"})
BUILT_IN_METRICS = CLASSIFICATION_METRICS | REGRESSION_METRICS
# The three ways a spec says how its model is built (exactly one per spec; the schema says so).
DECLARATIVE, FACTORY, COMMAND = "estimator", "pipeline", "command"
EXACT, METRICS_RULE = "exact", "metrics"
DEFAULT_COMMAND_TIMEOUT = 3600


def _frozen(mapping: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class DataSpec:
    format: str
    target: str
    features: Mapping[str, str]
    path: str | None = None
    url: str | None = None
    sha256: str | None = None
    version_id: str | None = None
    positive_label: str | int | bool | None = None
    sensitive: tuple[str, ...] = ()
    control: tuple[str, ...] = ()
    missing_features: str = "impute"
    missing_sensitive: str = "error"

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> DataSpec:
        missing = d.get("missing", {})
        return cls(format=d["format"], target=d["target"], features=_frozen(d["features"]),
                   path=d.get("path"), url=d.get("url"), sha256=d.get("sha256"),
                   version_id=d.get("version_id"),
                   positive_label=d.get("positive_label"), sensitive=tuple(d.get("sensitive", ())),
                   control=tuple(d.get("control", ())), missing_features=missing.get("features", "impute"),
                   missing_sensitive=missing.get("sensitive", "error"))

    @property
    def source(self) -> str:
        return self.path or self.url or ""


@dataclass(frozen=True)
class SplitSpec:
    """Random (seeded), time-ordered (``by``: the last ``test_fraction`` of rows by ``by``, or the rows after
    ``test_after``) and/or grouped (``group``: no group on both sides)."""

    seed: int = 0
    test_fraction: float = 0.25
    stratify: bool | None = None
    by: str | None = None
    test_after: Any = None
    group: str | None = None

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> SplitSpec:
        d = d or {}
        by = d.get("by") or {}
        return cls(seed=d.get("seed", 0), test_fraction=d.get("test_fraction", 0.25), stratify=d.get("stratify"),
                   by=by.get("column"), test_after=by.get("test_after"), group=d.get("group"))

    @property
    def time_ordered(self) -> bool:
        return self.by is not None


@dataclass(frozen=True)
class Gate:
    """A metric gate (``kind="metric"``) or a fairness gate (``kind="fairness"``)."""

    kind: str
    name: str
    min: float | None = None
    max: float | None = None
    max_regression: float | None = None
    method: str = "between_groups"
    action: str = "fail"
    source: str = "spec"
    undefined: str = "fail"  # what an undefined value does: it never passes
    significant: bool = False  # max_regression: only a regression beyond noise counts

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], source: str = "spec") -> Gate:
        kind = "metric" if "metric" in d else "fairness"
        return cls(kind=kind, name=d[kind], min=d.get("min"), max=d.get("max"),
                   max_regression=d.get("max_regression"), method=d.get("method", "between_groups"),
                   action=d.get("action", "fail"), source=source, undefined=d.get("undefined", "fail"),
                   significant=bool(d.get("significant", False)))


DEFAULT_MIN_GROUP_SIZE = 30


@dataclass(frozen=True)
class FairnessSpec:
    """The spec's ``fairness`` section: smallest group measured, intersections, classes, value names."""

    min_group_size: int | None = None  # None: the policy's, else DEFAULT_MIN_GROUP_SIZE
    intersections: bool | tuple[tuple[str, str], ...] = False
    classes: tuple[str | int | bool, ...] = ()
    labels: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: MappingProxyType({}))

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> FairnessSpec:
        d = d or {}
        pairs = d.get("intersections", False)
        return cls(min_group_size=d.get("min_group_size"),
                   intersections=pairs if isinstance(pairs, bool) else tuple(tuple(p) for p in pairs),
                   classes=tuple(d.get("classes", ())),
                   labels=_frozen({str(k): _frozen(v) for k, v in (d.get("labels") or {}).items()}))


@dataclass(frozen=True)
class EstimatorSpec:
    class_path: str
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class BuildSpec:
    """How the model is built: ``kind`` is estimator (declarative), pipeline (a factory in the repository:
    ``target`` is ``path.py:function``) or command (``target`` is the command line, ``artifact`` the folder
    under MLOPS_OUT it writes)."""

    kind: str
    target: str = ""
    params: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    artifact: str = ""
    timeout: int = DEFAULT_COMMAND_TIMEOUT

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> BuildSpec:
        if "pipeline" in d:
            pipe = d["pipeline"]
            if isinstance(pipe, str):
                return cls(FACTORY, pipe)
            return cls(FACTORY, pipe["factory"], _frozen(pipe.get("params")))
        if "train" in d:
            t = d["train"]
            return cls(COMMAND, t["command"], _frozen(t.get("params")), t.get("artifact", "model/").strip("/"),
                       t.get("timeout", DEFAULT_COMMAND_TIMEOUT))
        return cls(DECLARATIVE, d["estimator"]["class"], _frozen(d["estimator"].get("params")))

    @property
    def factory_file(self) -> str:
        return self.target.rpartition(":")[0] if self.kind == FACTORY else ""

    @property
    def factory_name(self) -> str:
        return self.target.rpartition(":")[2] if self.kind == FACTORY else ""


@dataclass(frozen=True)
class ModelSpec:
    name: str
    task: str
    data: DataSpec
    split: SplitSpec
    estimator: EstimatorSpec
    metrics: Mapping[str, str]
    preprocessing: Mapping[str, Any]
    build: BuildSpec = field(default_factory=lambda: BuildSpec(DECLARATIVE))
    threshold: float | None = None
    reproducibility: str = EXACT
    tolerance: float = 0.0
    requirements: str | None = None
    gates: tuple[Gate, ...] = ()
    code: tuple[str, ...] = ()
    owners: tuple[str, ...] = ()
    description: str = ""
    intended_use: str = ""
    limitations: str = ""
    spec_path: str = ""
    raw: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))
    fairness: FairnessSpec = field(default_factory=FairnessSpec)

    @classmethod
    def from_dict(cls, d: Mapping[str, Any], spec_path: str = "") -> ModelSpec:
        build = BuildSpec.from_dict(d)
        est = d.get("estimator") or {"class": build.target}
        default_rule = METRICS_RULE if build.kind == COMMAND else EXACT
        return cls(name=d["name"], task=d["task"], data=DataSpec.from_dict(d["data"]),
                   split=SplitSpec.from_dict(d.get("split")),
                   estimator=EstimatorSpec(est["class"], _frozen(est.get("params"))),
                   metrics=_frozen(d["metrics"]), preprocessing=_frozen(d.get("preprocessing")),
                   build=build, threshold=d.get("threshold"),
                   reproducibility=d.get("reproducibility", default_rule), tolerance=d.get("tolerance", 0.0),
                   requirements=d.get("requirements"),
                   gates=tuple(Gate.from_dict(g) for g in d.get("gates", ())), code=tuple(d.get("code", ())),
                   owners=tuple(d.get("owners", ())), description=d.get("description", ""),
                   intended_use=d.get("intended_use", ""), limitations=d.get("limitations", ""),
                   spec_path=spec_path, raw=_frozen(d), fairness=FairnessSpec.from_dict(d.get("fairness")))

    @property
    def stratify(self) -> bool:
        if self.split.stratify is None:
            return self.task == "classification" and not self.split.time_ordered and self.split.group is None
        return self.split.stratify

    @property
    def declarative(self) -> bool:
        return self.build.kind == DECLARATIVE


@dataclass(frozen=True)
class ApprovalRule:
    required: int = 1
    users: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    codeowners: bool = False
    stale_approvals_count: bool = False

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None, default_required: int = 1) -> ApprovalRule:
        d = d or {}
        return cls(required=d.get("required", default_required), users=tuple(d.get("users", ())),
                   teams=tuple(t.lstrip("@") for t in d.get("teams", ())),
                   codeowners=d.get("codeowners", False),
                   stale_approvals_count=d.get("stale_approvals_count", False))

    @property
    def restricted(self) -> bool:
        """True when only listed reviewers count (any of users, teams, CODEOWNERS is named)."""
        return bool(self.users or self.teams or self.codeowners)


GOVERNANCE_DEFAULT = ApprovalRule(required=2, codeowners=True)


def governance_rule(d: Mapping[str, Any] | None) -> ApprovalRule:
    """``approvals.governance``: 2 approvals from CODEOWNERS unless the policy says otherwise."""
    if d is None:
        return GOVERNANCE_DEFAULT
    rule = ApprovalRule.from_dict(d, default_required=2)
    return ApprovalRule(rule.required, rule.users, rule.teams, d.get("codeowners", True), rule.stale_approvals_count)


@dataclass(frozen=True)
class EnvironmentPolicy:
    name: str
    requires: tuple[str, ...] = ()
    approvals: ApprovalRule = field(default_factory=ApprovalRule)
    required_contexts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Policy:
    allowed_prefixes: tuple[str, ...] = DEFAULT_ALLOWED_PREFIXES
    register: ApprovalRule = field(default_factory=ApprovalRule)
    environments: tuple[EnvironmentPolicy, ...] = tuple(EnvironmentPolicy(n) for n in DEFAULT_ENVIRONMENTS)
    gates: tuple[Gate, ...] = ()
    baseline_environment: str | None = None
    upload_predictions: bool = False
    min_group_size: int = DEFAULT_MIN_GROUP_SIZE
    max_memory: int = DEFAULT_MAX_MEMORY  # bytes a dataset may need once loaded (limits.max_memory)
    governance: ApprovalRule = GOVERNANCE_DEFAULT

    @classmethod
    def from_dict(cls, d: Mapping[str, Any] | None) -> Policy:
        if d is None:
            return cls()
        envs = tuple(
            EnvironmentPolicy(e["name"], tuple(e.get("requires", ())), ApprovalRule.from_dict(e.get("approvals")),
                              tuple(e.get("required_contexts", ())))
            for e in d["environments"])
        return cls(
            allowed_prefixes=tuple(d.get("estimators", {}).get("allowed_prefixes", DEFAULT_ALLOWED_PREFIXES)),
            register=ApprovalRule.from_dict(d.get("approvals", {}).get("register")),
            environments=envs,
            gates=tuple(Gate.from_dict(g, source="policy") for g in d.get("gates", ())),
            baseline_environment=d.get("baseline_environment"),
            upload_predictions=d.get("artifacts", {}).get("upload_predictions", False),
            min_group_size=d.get("fairness", {}).get("min_group_size", DEFAULT_MIN_GROUP_SIZE),
            max_memory=max_memory(d),
            governance=governance_rule(d.get("approvals", {}).get("governance")))

    def environment(self, name: str) -> EnvironmentPolicy | None:
        return next((e for e in self.environments if e.name == name), None)

    @property
    def baseline(self) -> str:
        return self.baseline_environment or self.environments[-1].name


def max_memory(policy: Mapping[str, Any]) -> int:
    """``limits.max_memory`` in bytes (schema-valid policy); the default when absent or not a size."""
    try:
        return max(parse_size(policy.get("limits", {}).get("max_memory", DEFAULT_MAX_MEMORY)), 1)
    except ValueError:
        return DEFAULT_MAX_MEMORY


# Modules that can never provide an estimator, whatever a policy says.
DENIED_MODULES = frozenset({
    "builtins", "os", "posix", "nt", "sys", "subprocess", "importlib", "shutil", "pickle", "marshal",
    "socket", "ctypes", "code", "codeop", "runpy", "pty", "multiprocessing", "io", "pathlib", "tempfile",
    "urllib", "http", "requests", "webbrowser", "eval", "exec", "compile", "joblib", "dill", "cloudpickle",
})


def estimator_allowed(class_path: str, prefixes: tuple[str, ...]) -> bool:
    """True when ``class_path`` is under one of ``prefixes`` (respecting module boundaries) and not denied.

    A string check only: the path is never imported here.
    """
    return class_path.split(".", 1)[0] not in DENIED_MODULES and _under_prefixes(class_path, prefixes)


def _under_prefixes(class_path: str, prefixes: tuple[str, ...]) -> bool:
    for prefix in prefixes:
        if prefix.endswith("."):
            if class_path.startswith(prefix):
                return True
        elif class_path == prefix or class_path.startswith(prefix + "."):
            return True
    return False


def estimator_refusal(class_path: str, prefixes: tuple[str, ...]) -> str:
    """Why ``class_path`` is not allowed: a denied module the prefixes list anyway, else the prefixes."""
    top = class_path.split(".", 1)[0]
    if top in DENIED_MODULES and _under_prefixes(class_path, prefixes):
        return (f"module '{top}' can run commands or load pickles, so it is refused whatever "
                "estimators.allowed_prefixes in mlops.yaml says")
    return (f"import paths must start with one of [{', '.join(prefixes)}] "
            "(estimators.allowed_prefixes in mlops.yaml)")
