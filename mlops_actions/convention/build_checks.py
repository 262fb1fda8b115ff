"""Semantic checks of how a model is built and judged: the factory or command, metrics, threshold, split,
requirements. Like ``semantic``, nothing is imported and no data row is read (only headers and small files).
"""

from __future__ import annotations

import difflib
import re
import shlex
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from mlops_actions.convention.model import BUILT_IN_METRICS, CLASSIFICATION_METRICS, REGRESSION_METRICS
from mlops_actions.convention.problems import ERROR, WARNING

if TYPE_CHECKING:
    from mlops_actions.convention.checking import Context, Finding

# scikit-learn's named scorers (``sklearn.metrics.get_scorer_names()``), listed so that validate imports nothing.
SKLEARN_SCORERS = frozenset({
    "accuracy", "adjusted_mutual_info_score", "adjusted_rand_score", "average_precision", "balanced_accuracy",
    "completeness_score", "d2_absolute_error_score", "d2_brier_score", "d2_log_loss_score", "explained_variance",
    "f1", "f1_macro", "f1_micro", "f1_samples", "f1_weighted", "fowlkes_mallows_score", "homogeneity_score",
    "jaccard", "jaccard_macro", "jaccard_micro", "jaccard_samples", "jaccard_weighted", "matthews_corrcoef",
    "mutual_info_score", "neg_brier_score", "neg_log_loss", "neg_max_error", "neg_mean_absolute_error",
    "neg_mean_absolute_percentage_error", "neg_mean_gamma_deviance", "neg_mean_poisson_deviance",
    "neg_mean_squared_error", "neg_mean_squared_log_error", "neg_median_absolute_error",
    "neg_negative_likelihood_ratio", "neg_root_mean_squared_error", "neg_root_mean_squared_log_error",
    "normalized_mutual_info_score", "positive_likelihood_ratio", "precision", "precision_macro",
    "precision_micro", "precision_samples", "precision_weighted", "r2", "rand_score", "recall", "recall_macro",
    "recall_micro", "recall_samples", "recall_weighted", "roc_auc", "roc_auc_ovo", "roc_auc_ovo_weighted",
    "roc_auc_ovr", "roc_auc_ovr_weighted", "top_k_accuracy", "v_measure_score",
})
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9_,.-]+\])?\s*===?\s*[A-Za-z0-9][A-Za-z0-9.+!_-]*"
                     r"(\s*;.*)?$")


def is_repo_metric(name: str) -> bool:
    """True for a ``path/to/file.py:function`` metric (the repository's own code)."""
    return ".py:" in name


def not_importable(ref: str) -> str | None:
    """Why ``path/to/file.py:function`` cannot be imported as the module ``path.to.file``, or None."""
    parts = PurePosixPath(ref.rpartition(":")[0]).with_suffix("").parts
    dotted = [p for p in parts if "." in p]
    if dotted:
        return (f"folder or file name {dotted[0]!r} holds a '.', so Python cannot import it as a module "
                f"({'.'.join(parts)}); rename it, or (for a model named with a '.') keep the code in a folder "
                "without one, such as src/")
    return None


def command_argv(command: str) -> list[str]:
    """The command line split as a POSIX shell would, never run by one; ``ValueError`` on bad quoting."""
    argv = shlex.split(command)
    if not argv:
        raise ValueError("the command is empty")
    return argv


def check_build(relpath: str, spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    """Factory file, command, preprocessing, threshold, reproducibility and requirements."""
    from mlops_actions.convention.paths import repo_path_problem

    if "pipeline" in spec:
        pipe = spec["pipeline"]
        ref, parts = (pipe, ["pipeline"]) if isinstance(pipe, str) else (pipe["factory"], ["pipeline", "factory"])
        reason = repo_path_problem(ctx.root, ref.rpartition(":")[0], must_exist=True) or not_importable(ref)
        if reason:
            yield parts, "value", f"factory file {ref.rpartition(':')[0]!r}: {reason}", ERROR
        else:
            yield from _check_imports(ref.rpartition(":")[0], parts, ctx)
    if "train" in spec:
        yield from _check_command(spec["train"]["command"])
        if isinstance(spec["train"].get("loader"), str):
            yield from _check_loader(spec["train"]["loader"], ctx)
    if "preprocessing" in spec and "estimator" not in spec:
        yield (["preprocessing"], "key", "preprocessing applies to the declarative path (estimator) only; a "
               "factory or a command does its own", ERROR)
    yield from _check_threshold(spec)
    if spec.get("requirements") is not None:
        yield from _check_requirements(spec["requirements"], ctx)


def _check_imports(path: str, parts: list[Any], ctx: Context) -> Iterator[Finding]:
    """The repository code's imports, read (never run): those train would refuse, with their file and line."""
    from mlops_actions.convention.imports import missing_module_file, refused_modules, trace, worktree_reader

    traced = trace(path, worktree_reader(ctx.root))
    for broken, why in traced.broken.items():
        yield parts, "value", f"{broken} cannot be read as Python: {why}", ERROR
    for module, (where, line) in traced.missing.items():
        yield (parts, "value", f"{where}:{line} imports '{module}', a module of the repository with no file "
               f"({missing_module_file(module)} does not exist); add the file or fix the import", ERROR)
    for module, where, line in refused_modules(traced, ctx.policy.allowed_prefixes):
        yield (parts, "value", f"{where}:{line} imports module '{module}', which is neither in the repository nor "
               "allowed (estimators.allowed_prefixes in mlops.yaml); train would refuse it", ERROR)


SHELL_WORDS = frozenset({"&&", "||", "|", ";", ">", ">>", "<", "2>", "2>&1", "&"})


def _check_command(command: str) -> Iterator[Finding]:
    try:
        argv = command_argv(command)
    except ValueError as exc:
        yield (["train", "command"], "value", f"the command cannot be split into words ({exc}); it runs without "
               "a shell, so quote as a POSIX shell would", ERROR)
        return
    shell = [w for w in argv if w in SHELL_WORDS or w.startswith("$")]
    if shell:
        yield (["train", "command"], "value", f"the command runs without a shell, so {shell[0]!r} is passed to "
               f"{argv[0]} as an argument; put shell syntax in a script (`bash models/<name>/train.sh`)", WARNING)


def _check_loader(ref: str, ctx: Context) -> Iterator[Finding]:
    """``train.loader``: a repository Python file (read, never run here) whose imports train would accept."""
    from mlops_actions.convention.paths import repo_path_problem

    path = ref.rpartition(":")[0]
    reason = repo_path_problem(ctx.root, path, must_exist=True)
    if reason:
        yield ["train", "loader"], "value", f"loader file {path!r}: {reason}", ERROR
    else:
        yield from _check_imports(path, ["train", "loader"], ctx)


def _check_threshold(spec: Mapping[str, Any]) -> Iterator[Finding]:
    if "threshold" in spec and spec["task"] != "classification":
        yield ["threshold"], "key", "threshold applies to binary classifiers only", ERROR
    elif "threshold" in spec and spec["data"].get("positive_label") is None:
        yield (["threshold"], "key", "threshold is a bound on the positive class's probability, and "
               "data.positive_label is not set, so the positive class is the last class in sorted order "
               "(for labels approved/denied: denied); set data.positive_label to the class it means", WARNING)
    if "tolerance" in spec and spec.get("reproducibility") != "metrics" and "train" not in spec:
        yield (["tolerance"], "key", "tolerance applies to reproducibility: metrics only (this model must "
               "rebuild byte for byte)", WARNING)


def _check_requirements(path: str, ctx: Context) -> Iterator[Finding]:
    from mlops_actions.convention.paths import repo_path_problem

    reason = repo_path_problem(ctx.root, path, must_exist=True)
    if reason:
        yield ["requirements"], "value", f"requirements file {path!r}: {reason}", ERROR
        return
    try:
        text = (ctx.root / path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        yield ["requirements"], "value", f"cannot read requirements file {path!r}: {exc}", ERROR
        return
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.split(" #", 1)[0].strip()
        if stripped and not stripped.startswith("#") and not _PINNED.match(stripped):
            yield (["requirements"], "value", f"{path}:{number}: {stripped[:80]!r} is not pinned; write "
                   "`name==version` so that the same fingerprint installs the same packages", ERROR)
            return


def check_metric_names(spec: Mapping[str, Any], ctx: Context) -> Iterator[Finding]:
    """Built-in names, scikit-learn scorers (any task may ask for them) and repository functions."""
    from mlops_actions.convention.paths import repo_path_problem

    wrong = REGRESSION_METRICS if spec["task"] == "classification" else CLASSIFICATION_METRICS
    for name in spec["metrics"]:
        if is_repo_metric(name):
            reason = repo_path_problem(ctx.root, name.rpartition(":")[0], must_exist=True) or not_importable(name)
            if reason:
                yield ["metrics", name], "key", f"metric file {name.rpartition(':')[0]!r}: {reason}", ERROR
            else:
                yield from _check_imports(name.rpartition(":")[0], ["metrics", name], ctx)
        elif name in wrong:
            yield ["metrics", name], "key", f"metric '{name}' does not apply to a {spec['task']} model", ERROR
        elif name not in BUILT_IN_METRICS and name not in SKLEARN_SCORERS:
            close = difflib.get_close_matches(name, sorted(BUILT_IN_METRICS | SKLEARN_SCORERS), n=1, cutoff=0.8)
            hint = f"did you mean '{close[0]}'? " if close else ""
            yield (["metrics", name], "key", f"unknown metric '{name}': not a built-in metric nor a scikit-learn "
                   f"scorer name; {hint}(see sklearn.metrics.get_scorer_names()); a repository metric is written "
                   "`path/to/file.py:function`", ERROR)


def check_split(spec: Mapping[str, Any], columns: list[str] | str | None) -> Iterator[Finding]:
    """The split's columns exist; a time split has something to order by; random splits of dated data warn."""
    split = spec.get("split") or {}
    features = spec["data"]["features"]
    by = split.get("by")
    dated = [name for name, kind in features.items() if kind == "datetime"]
    if by is None and dated:
        yield (["data", "features", dated[0]], "key", f"a random split of time-ordered data ('{dated[0]}' is a "
               "datetime feature) tests on the past with the future in training; consider "
               f"split.by: {{column: {dated[0]}}}", WARNING)
    group = split.get("group")
    for kind in ("sensitive", "control"):
        if group is not None and group in (spec["data"].get(kind) or []):
            yield (["split", "group"], "value", f"split.group '{group}' is a {kind} column: each of its groups lies "
                   "wholly on one side of the split, so the held-out rows hold only some of them and fairness "
                   f"between them is not measured; group by another column (e.g. a customer id)", WARNING)
    if by is not None and split.get("stratify"):
        yield ["split", "stratify"], "value", "stratify does not apply to a time-ordered split (split.by)", ERROR
    if by is not None and "test_after" in by and not _orderable(by["test_after"]):
        yield (["split", "by", "test_after"], "value", f"test_after {by['test_after']!r} is not a date "
               "(2024-01-01), a timestamp or a number", ERROR)
    if isinstance(columns, list):
        have = set(columns)
        for parts, name in ((["split", "by", "column"], (by or {}).get("column")), (["split", "group"],
                                                                                   split.get("group"))):
            if name is not None and name not in have:
                yield parts, "value", f"split column '{name}' is not in the header of {spec['data']['path']}", ERROR


def _orderable(value: Any) -> bool:
    import datetime

    if isinstance(value, bool):
        return False
    if isinstance(value, int | float | datetime.date):
        return True
    if isinstance(value, str):
        try:
            datetime.datetime.fromisoformat(value.strip())
        except ValueError:
            return False
        return True
    return False


def repo_files_in_command(command: str) -> list[str]:
    """Words of the command that look like repository files (``models/x/train.py``): code it depends on."""
    try:
        argv = command_argv(command)
    except ValueError:
        return []
    found = []
    for word in argv:
        pure = PurePosixPath(word)
        if "/" in word and not pure.is_absolute() and ".." not in pure.parts and pure.suffix:
            found.append(pure.as_posix())
    return sorted(set(found))
