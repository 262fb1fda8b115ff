"""Argument parsing → commands. The composition root: only here are the environment, git and GitHub read.

Each subcommand is parsed here into typed values and handed to a function in ``mlops_actions.commands``
that returns an exit code. Commands import their heavy dependencies lazily, so ``validate`` starts fast.
"""

from __future__ import annotations

import argparse
import functools
import gc
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, cast

from mlops_actions import __version__
from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import RESULTS_DIR
from mlops_actions.errors import EXIT_USAGE, UsageError, run_guarded
from mlops_actions.secrets import redacting

if TYPE_CHECKING:
    from mlops_actions.github.port import GitHubPort
    from mlops_actions.mlflow_bridge.tracking import Mirror
    from mlops_actions.reporting.render import Format

Handler = Callable[[argparse.Namespace, "Context"], int]


class Context:
    """What the composition root builds once: repository root, environment, Actions runtime."""

    def __init__(self, root: Path, env: dict[str, str]) -> None:
        self.root = root
        self.env = env
        self.runtime = ActionsRuntime.from_env(env)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # usage errors exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


GC_THRESHOLD = (100_000, 50, 100)  # allocations before a young collection (CPython's default: 700)


@contextmanager
def _few_collections() -> Iterator[None]:
    """Rare garbage collections for the commands that read thousands of files or tags (plan, history,
    validate): they build hundreds of thousands of short-lived objects, freed by reference counting, and
    CPython's default threshold ran its collector over all of them again and again (a fifth of their CPU
    time at 5,000 specs or 15,000 tags). Collections still happen, so memory stays bounded; the objects of
    the modules imported so far are set aside (``gc.freeze``), as they live until exit anyway."""
    before = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        yield
    finally:
        gc.set_threshold(*before)
        gc.unfreeze()


def _csv_list(value: str) -> list[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _add_validate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("validate", help="check every spec, policy and environment file against the convention",
                       description="Validate convention files (schemas + semantic checks). With no PATH, "
                                   "discovers mlops.yaml, models/*/model.yaml and environments/*.yaml.")
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or folders to check (default: all)")
    p.add_argument("--format", choices=("text", "json", "github"), default=None,
                   help="output format (default: github under GitHub Actions, else text)")
    p.add_argument("--schema", default=None, help="validate the files against this schema, whatever their path")
    p.set_defaults(handler=_run_validate)


def _run_validate(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.validate import validate
    from mlops_actions.resources import schema_names

    if args.schema is not None and args.schema not in schema_names():
        raise UsageError(f"unknown schema '{args.schema}'; choose from {', '.join(schema_names())}")
    fmt: Format = args.format or ("github" if ctx.runtime.active else "text")
    with _few_collections():
        return validate(ctx.root, list(args.paths), fmt=fmt, schema=args.schema, runtime=ctx.runtime)


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("train", help="train one model deterministically (skops artifact, metrics, record)",
                       description="Check the model's data against its spec, fit the pipeline, evaluate it on "
                                   "the held-out split and write DIR/MODEL/ (model.skops, metrics.json, "
                                   "predictions.parquet, record.json) atomically.")
    p.add_argument("model", metavar="MODEL", help="model name (its spec is models/MODEL/model.yaml)")
    p.add_argument("--out", type=Path, default=Path(RESULTS_DIR), metavar="DIR",
                   help=f"output folder, relative to the repository root (default: {RESULTS_DIR})")
    p.add_argument("--install-requirements", action="store_true",
                   help="first pip-install the model's pinned requirements file (spec key requirements) into "
                        "this Python; extra pip arguments from MLOPS_ACTIONS_PIP_ARGS")
    p.set_defaults(handler=_run_train)


def _pin_blas_kernels() -> None:
    """Same kernels on every x86-64 machine, so training is byte-identical (before numpy's first import)."""
    import platform

    from mlops_actions.training.determinism import cpu_flags, reproducible_env

    pins = reproducible_env(os.environ, machine=platform.machine(), cpu_flags=cpu_flags())
    if pins and "numpy" in sys.modules:
        print("warning: numpy was loaded before mlops-actions could pin the BLAS kernels; the model's bytes may "
              "differ from a run in a fresh process (run `mlops-actions train` as its own command, or set "
              + ", ".join(f"{k}={v}" for k, v in sorted(pins.items())) + " before starting Python)",
              file=sys.stderr)
    os.environ.update(pins)


def _run_train(args: argparse.Namespace, ctx: Context) -> int:
    _pin_blas_kernels()
    from mlops_actions.commands.train import train

    pip_args = ctx.env.get("MLOPS_ACTIONS_PIP_ARGS", "") if args.install_requirements else None
    return train(ctx.root, args.model, out=ctx.root / args.out, runtime=ctx.runtime, pip_args=pip_args,
                 mirror=_mirror(ctx))


def _add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="plan, then train every planned model (the CI pipeline, locally)",
                       description="Compute the plan (see `plan`) and train each model it lists into "
                                   "DIR/MODEL/, as `train` does. A failing model does not stop the others; "
                                   "exit 1 when any failed.")
    p.add_argument("--base", default=None, metavar="REF",
                   help="commit, branch or tag to compare with (default: as for `plan`)")
    p.add_argument("--out", type=Path, default=Path(RESULTS_DIR), metavar="DIR",
                   help=f"output folder, relative to the repository root (default: {RESULTS_DIR})")
    p.set_defaults(handler=_run_run)


def _run_run(args: argparse.Namespace, ctx: Context) -> int:
    _pin_blas_kernels()
    from mlops_actions.commands.run import run
    from mlops_actions.commands.train import train

    return run(ctx.root, base=args.base, out=ctx.root / args.out, runtime=ctx.runtime, train=train,
               base_branch=ctx.env.get("GITHUB_BASE_REF") or None)


MAX_REPLICATES = 100_000  # more adds nothing to a 95% interval, and 10**8 ran for hours


def _replicates(value: str) -> int:
    number = _count(value)
    if number > MAX_REPLICATES:
        raise argparse.ArgumentTypeError(f"'{value}' is more than {MAX_REPLICATES:,} replicates")
    return number


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{value}' is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"'{value}' is negative")
    return number


def _add_fairness(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fairness", help="group fairness of a predictions file (CSV or Parquet)",
                       description="Per-group rates with Wilson intervals and fairlearn-defined disparities "
                                   "(demographic parity, equal opportunity, equalized odds) of any predictions "
                                   "file, as Markdown or JSON.")
    p.add_argument("predictions", type=Path, metavar="PREDICTIONS", help="CSV or Parquet file of predictions")
    p.add_argument("--y-true", required=True, metavar="COL", help="column of true labels (or values)")
    p.add_argument("--y-pred", required=True, metavar="COL", help="column of predicted labels (or values)")
    p.add_argument("--sensitive", required=True, type=_csv_list, metavar="COL[,COL]",
                   help="sensitive feature column(s); several give intersectional groups")
    p.add_argument("--control", type=_csv_list, default=(), metavar="COL[,COL]",
                   help="control feature column(s): the same measures within each stratum")
    p.add_argument("--pos-label", default=None, metavar="V",
                   help="the positive outcome (needed unless labels are 0/1); compared as text with the "
                        "column values when the column does not hold text")
    p.add_argument("--task", choices=("classification", "regression"), default="classification",
                   help="classification (rates, disparities) or regression (MAE, RMSE, gaps)")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown", help="output format")
    p.add_argument("--min-group-size", type=_count, default=30, metavar="N",
                   help="warn about groups with fewer rows (or positives/negatives) than N (default 30)")
    p.add_argument("--bootstrap", type=_replicates, default=1000, metavar="B",
                   help=f"bootstrap replicates for the disparity intervals, 0 to skip (default 1000, at most "
                        f"{MAX_REPLICATES:,})")
    p.add_argument("--seed", type=_count, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--fairlearn-compat", action="store_true",
                   help="a rate with a zero denominator is 0 as in fairlearn, instead of n/a")
    p.set_defaults(handler=_run_fairness)


def _run_fairness(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.fairness import Columns, Measure, fairness

    path = args.predictions if args.predictions.is_absolute() else ctx.root / args.predictions
    columns = Columns(args.y_true, args.y_pred, tuple(args.sensitive), tuple(args.control))
    if not columns.sensitive:
        raise UsageError("--sensitive needs at least one column name")
    measure = Measure(args.task, args.pos_label, args.min_group_size, args.bootstrap, args.seed,
                      compat=args.fairlearn_compat)
    return fairness(path, columns, measure, fmt=args.format, runtime=ctx.runtime)


def _add_init(sub: argparse._SubParsersAction) -> None:
    from mlops_actions.resources import DEFAULT_OWNER, example_names

    p = sub.add_parser("init", help="scaffold a repository that follows the convention (workflows, policy, ...)",
                       description="Write the caller workflows, mlops.yaml, CODEOWNERS and environments/ into "
                                   "DIR; with --example also a model spec and its data. Idempotent: files that "
                                   "already hold the same content are left alone; if any file differs, nothing "
                                   "is written and the files are named (exit 1).")
    p.add_argument("dir", nargs="?", type=Path, default=None, metavar="DIR",
                   help="folder to scaffold (default: the repository root, -C or the current directory)")
    p.add_argument("--example", choices=example_names(), default=None,
                   help="also add this example model with its data")
    p.add_argument("--owner", default=DEFAULT_OWNER, metavar="NAME",
                   help=f"GitHub owner of the mlops-actions repository the workflows use (default: {DEFAULT_OWNER})")
    p.set_defaults(handler=_run_init)


def _run_init(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.init import init

    dest = args.dir if args.dir is None or args.dir.is_absolute() else Path.cwd() / args.dir
    return init((dest or ctx.root).resolve(), owner=args.owner, example=args.example)


def _add_plan(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("plan", help="list the models that need training, and why (a GitHub Actions matrix)",
                       description="Compare each model's fingerprint (canonical spec, data and code hashes, "
                                   "library versions) in the work tree with the base commit and with its latest "
                                   "version record. A model needs training when it has no valid version record or "
                                   "its fingerprint differs from its latest record's; the reasons list spec keys "
                                   "(old -> new), data, code and library changes. Reads no unchanged data file "
                                   "(git object ids; modified or untracked files are hashed once and cached in "
                                   ".git/mlops-actions). Default base: the merge-base of HEAD with "
                                   "origin/$GITHUB_BASE_REF (origin/main outside pull requests); when that is HEAD "
                                   "itself or absent, HEAD~1; in a repository without history, no base (models are "
                                   "compared with their version records only). In CI, check out with "
                                   "fetch-depth: 0 so that the base and the version tags are present.")
    p.add_argument("--base", default=None, metavar="REF", help="commit, branch or tag to compare with "
                   "(default: see above)")
    p.add_argument("--format", choices=("text", "json", "github"), default=None,
                   help="output format: json prints {\"include\": [...]} for strategy.matrix "
                        "(default: github under GitHub Actions, else text)")
    p.add_argument("--models", type=_csv_list, default=None, metavar="NAME,...",
                   help="only plan these models (comma-separated names)")
    p.add_argument("--max-jobs", type=int, default=64, metavar="N",
                   help="at most N training jobs (1-256, default 64): with more models to train, the matrix holds "
                        "N batches balanced by data size, each entry's `models` naming its models")
    p.set_defaults(handler=_run_plan)


def _run_plan(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.plan import PlanOptions, plan

    fmt: Format = args.format or ("github" if ctx.runtime.active else "text")
    options = PlanOptions(fmt, base=args.base, base_branch=ctx.env.get("GITHUB_BASE_REF") or None,
                          models=args.models, max_jobs=args.max_jobs)
    with _few_collections():
        return plan(ctx.root, options, runtime=ctx.runtime)


def _add_report(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("report", help="render the PR report (diffs vs baseline, fairness, gates) and model cards",
                       description="Render the Markdown PR comment from the results `train` wrote: per model what "
                                   "changed, metrics vs the baseline (deployed, else latest version), fairness per "
                                   "group, gates and the artifact sha256. Needs no token or network. Exit 1 when "
                                   "the verdict is fail.")
    p.add_argument("--base", default=None, metavar="REF", help="base git ref: lists why each model was retrained")
    p.add_argument("--results", type=Path, default=Path(RESULTS_DIR), metavar="DIR",
                   help=f"results folder written by train, relative to the repository root (default: {RESULTS_DIR})")
    p.add_argument("--base-results", type=Path, default=None, metavar="DIR",
                   help="results of training at the base ref: the baseline when no version is registered")
    p.add_argument("--train-base", action="store_true",
                   help="train models without a deployed or registered version at the base ref (in a temporary "
                        "git worktree) and compare with that")
    p.add_argument("--out", type=Path, default=None, metavar="FILE", help="write the report here (default: stdout)")
    p.add_argument("--summary", action="store_true",
                   help="render the job-summary variant (up to 1 MiB) instead of the comment (up to 65,536 chars)")
    p.add_argument("--publish", action="store_true",
                   help="also post it on GitHub: the sticky PR comment (edited in place) and a check run; needs "
                        "GITHUB_TOKEN with pull-requests: write and checks: write")
    p.add_argument("--fork-results", action="store_true",
                   help="the results are a fork's artifact: read only their metrics/record/fairness JSON files "
                        "(size-bounded), never other files, and say so in the comment (the workflow_run job)")
    p.set_defaults(handler=_run_report)


def _run_report(args: argparse.Namespace, ctx: Context) -> int:
    from dataclasses import replace

    from mlops_actions.commands.report import ReportFindings, ReportOptions, report
    from mlops_actions.reporting.comment import RenderedReport

    options = ReportOptions(results=ctx.root / args.results, base=args.base, out=args.out, summary=args.summary,
                            head_ref=ctx.env.get("GITHUB_HEAD_REF") or None,
                            base_branch=ctx.env.get("GITHUB_BASE_REF") or None, train_base=args.train_base,
                            base_results=ctx.root / args.base_results if args.base_results else None,
                            fork=args.fork_results)
    if not args.publish:
        return report(ctx.root, options, runtime=ctx.runtime)
    from mlops_actions.commands.publish import deployed_versions, deployment_history, publish

    gh = _github(ctx)
    sha = ctx.env.get("GITHUB_SHA") or None
    history = deployment_history(ctx.root, gh)
    found = ReportFindings(deployed=deployed_versions(ctx.root, history), deployments=history)

    def on_rendered(rendered: RenderedReport) -> None:
        redact = ctx.runtime.secrets.redact  # the comment and the check run never carry a secret
        safe = replace(rendered, comment=redact(rendered.comment), check_text=redact(rendered.check_text))
        publish(gh, safe, results=options.results, sha=sha)

    return report(ctx.root, options, runtime=ctx.runtime, found=found, on_rendered=on_rendered)


def _add_monitor(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("monitor", help="drift of current data against the deployed version's training data",
                       description="Compare current data (CSV or Parquet; optionally with the target and a "
                                   "'prediction' column) with the training data of the version of MODEL deployed "
                                   "in ENV: PSI, KS / chi-square, missing rates, prediction drift and metrics. "
                                   "Exit 0 when no column fails; exit 1 on drift (a fail verdict).")
    p.add_argument("model", metavar="MODEL", help="model name (its spec is models/MODEL/model.yaml)")
    p.add_argument("--current", type=Path, required=True, metavar="PATH", help="current data: a CSV or Parquet file")
    p.add_argument("--env", default=None, metavar="ENV",
                   help="environment whose deployed version is the reference (default: the policy's baseline)")
    p.add_argument("--reference", type=Path, default=None, metavar="PATH",
                   help="compare against this CSV or Parquet file instead of looking up the deployed version")
    p.add_argument("--format", choices=("markdown", "json"), default="markdown", help="output format")
    p.add_argument("--threshold", action="append", default=[], type=_threshold, metavar="KEY=VALUE",
                   help="override a threshold, e.g. psi_fail=0.3 (keys: psi_warn, psi_fail, p_value, "
                        "missing_warn, missing_fail, metric_regression, bins)")
    p.add_argument("--publish", action="store_true",
                   help="also keep one GitHub issue per model and environment: opened (or updated) when retraining "
                        "is needed, closed when the drift resolves; needs GITHUB_TOKEN with issues: write")
    p.add_argument("--stream", action="store_true",
                   help="read both tables in record batches (memory O(batch), for data larger than memory; implied "
                        "for files over 512 MiB); KS is then exact at a fine grid, with its error bound stated")
    p.set_defaults(handler=_run_monitor)


def _threshold(text: str) -> tuple[str, float]:
    key, _, value = text.partition("=")
    try:
        return key.strip(), (int(value) if value.strip().isdigit() else float(value))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected KEY=NUMBER, got '{text}'") from None


def _run_monitor(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.monitor import MonitorOptions, monitor

    publisher = None
    if args.publish:
        from mlops_actions.commands.drift_issue import drift_publisher

        publisher = drift_publisher(_github(ctx), ctx.runtime)
    options = MonitorOptions(args.model, args.current, env=args.env, reference=args.reference, fmt=args.format,
                             thresholds=dict(args.threshold), stream=args.stream)
    return monitor(ctx.root, options, runtime=ctx.runtime, publisher=publisher)


def _add_refresh(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("refresh", help="re-pin data pinned by URL + sha256 when its source changed (a PR with "
                                       "--publish)",
                       description="Read the URL of MODEL's data twice (refused when the two reads differ). When "
                                   "it serves the pinned bytes: up to date, exit 0. Otherwise update data.sha256 in "
                                   "models/MODEL/model.yaml in place (comments kept) and store the bytes in train's "
                                   "cache; with --publish also open or update the pull request from the branch "
                                   "mlops-actions/refresh-MODEL, which then runs the normal pipeline. --verify "
                                   "instead checks that the pin still holds (exit 1 when not) and writes nothing.")
    p.add_argument("model", metavar="MODEL", help="model name (its spec is models/MODEL/model.yaml)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--verify", action="store_true",
                      help="only check that the source still serves the pinned bytes; exit 1 when it does not")
    mode.add_argument("--publish", action="store_true",
                      help="also open (or update) the pull request that updates the pin, through the GitHub API; "
                           "needs GITHUB_TOKEN with contents: write and pull-requests: write")
    p.add_argument("--skip-unpinned", action="store_true",
                   help="a model whose data is a repository file gets a notice and exit 0 instead of an error "
                        "(for workflows that refresh every monitored model)")
    p.set_defaults(handler=_run_refresh)


def _run_refresh(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.refresh import RefreshOptions, proposer, refresh, require_committed

    propose = None
    if args.publish:
        sha = _commit(ctx, None)
        require_committed(ctx.root, args.model, sha)
        branch = ctx.env.get("GITHUB_REF_NAME") if ctx.env.get("GITHUB_REF_TYPE") == "branch" else None
        propose = proposer(_github(ctx), sha, runtime=ctx.runtime, base=branch or None)
    options = RefreshOptions(args.model, verify=args.verify, skip_unpinned=args.skip_unpinned)
    return refresh(ctx.root, options, runtime=ctx.runtime, propose=propose)


def _add_fetch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch", help="put MODEL's data where train reads it: a pinned URL (https, s3, gs, az) or a "
                                     "DVC-tracked file",
                       description="For data pinned by url + sha256 (and version_id): stream the object into "
                                   "train's cache .mlops/cache/data/<sha256>, refused (exit 1, nothing written) when "
                                   "its sha256 is not the pinned one. For a data.path tracked by DVC: `dvc pull` of "
                                   "just that target, then check it against the recorded md5. Credentials come from "
                                   "the environment (AWS_*, GOOGLE_APPLICATION_CREDENTIALS, AZURE_STORAGE_*).")
    p.add_argument("model", metavar="MODEL", help="model name (its spec is models/MODEL/model.yaml)")
    p.add_argument("--dvc", default=None, metavar="COMMAND",
                   help="the dvc executable (default: the one installed beside mlops-actions, else dvc on PATH)")
    p.set_defaults(handler=_run_fetch)


def _run_fetch(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.fetch import fetch

    beside = Path(sys.executable).with_name("dvc")
    return fetch(ctx.root, args.model, dvc_command=args.dvc or (str(beside) if beside.is_file() else "dvc"))


def _add_govern(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("govern", help="on push to main: record the governance in force as mlops-policy@v<N>",
                       description="Replay main's history: each merge that changed mlops.yaml or CODEOWNERS comes "
                                   "into force only with the approvals the rules in force before it ask for "
                                   "(approvals.governance, default 2 CODEOWNERS). Tags each change in force as "
                                   "mlops-policy@v<N> (record: commit, PR, approvers) and reports a change that is "
                                   "not in force in the check run 'mlops-actions governance' (exit 1). Needs "
                                   "GITHUB_TOKEN with contents: write, checks: write and pull-requests: write.")
    p.add_argument("--sha", default=None, metavar="SHA", help="the pushed commit (default: GITHUB_SHA, else HEAD)")
    p.set_defaults(handler=_run_govern)


def _run_govern(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.govern import GovernOptions, govern

    gh = _github(ctx)
    options = GovernOptions(sha=_commit(ctx, args.sha), run_url=gh.context.run_url, now=_now())
    return govern(ctx.root, gh, options, runtime=ctx.runtime)


def _add_register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("register", help="on push to main: tag and release each retrained model as <name>@v<N>",
                       description="Register the models the merge retrained: checks the merged PR's approvals "
                                   "(mlops.yaml approvals.register), the gates, and that each artifact equals the one "
                                   "the PR's report showed; then an annotated tag <name>@v<N> holding the version "
                                   "record, a release with model.skops, metrics.json and the model card, and a "
                                   "comment on the PR. Nothing is created when a check fails. Needs GITHUB_TOKEN "
                                   "with contents: write and pull-requests: write.")
    p.add_argument("--results", type=Path, default=Path(RESULTS_DIR), metavar="DIR",
                   help=f"results folder written by train on main (default: {RESULTS_DIR})")
    p.add_argument("--sha", default=None, metavar="SHA", help="the pushed commit (default: GITHUB_SHA, else HEAD)")
    p.set_defaults(handler=_run_register)


def _run_register(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.register import RegisterOptions, register

    gh = _github(ctx)
    sha = _commit(ctx, args.sha)
    options = RegisterOptions(results=ctx.root / args.results, sha=sha, run_url=gh.context.run_url, now=_now())
    return register(ctx.root, gh, options, runtime=ctx.runtime, mirror=_mirror(ctx))


def _add_deploy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="on push to main: deploy what environments/*.yaml now say, if approved",
                       description="Compare environments/<env>.yaml with the newest successful GitHub Deployment "
                                   "per environment and model. Each change needs the approvals mlops.yaml requires "
                                   "for that environment, an existing version whose gates passed, and the "
                                   "environment order; then a GitHub Deployment of the version tag is created. "
                                   "Any refusal creates nothing, fails the check and comments on the PR. Needs "
                                   "GITHUB_TOKEN with deployments: write, checks: write and pull-requests: write.")
    p.add_argument("--sha", default=None, metavar="SHA", help="the pushed commit (default: GITHUB_SHA, else HEAD)")
    p.add_argument("--status", choices=("success", "queued", "in_progress"), default="success",
                   help="status to give each new deployment (default success; use queued when your own deploy "
                        "step reports the outcome)")
    p.set_defaults(handler=_run_deploy)


def _run_deploy(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.deploy import DeployOptions, deploy

    gh = _github(ctx)
    options = DeployOptions(sha=_commit(ctx, args.sha), run_url=gh.context.run_url, status=args.status)
    return deploy(ctx.root, gh, options, runtime=ctx.runtime, mirror=_mirror(ctx))


def _add_history(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("history", help="registered versions: date, fingerprint, metrics, approvers, where deployed",
                       description="List the versions (local tags <model>@v<N>, newest first) with their date, "
                                   "fingerprint, key metrics, approvers and where each runs now: from GitHub "
                                   "Deployments when GITHUB_TOKEN and GITHUB_REPOSITORY are set, else the desired "
                                   "state in environments/*.yaml at HEAD. Invalid version records are listed with "
                                   "their problem, never trusted.")
    p.add_argument("model", nargs="?", default=None, metavar="MODEL", help="only this model (default: every model)")
    p.add_argument("--format", choices=("text", "json"), default="text", help="output format (default text)")
    p.add_argument("--offline", action="store_true",
                   help="read environments/*.yaml even when a GitHub token is set (no network)")
    p.set_defaults(handler=_run_history)


def _run_history(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.history import history

    online = not args.offline and ctx.env.get("GITHUB_TOKEN") and ctx.env.get("GITHUB_REPOSITORY")
    with _few_collections():
        return history(ctx.root, args.model, fmt=args.format, gh=_github(ctx) if online else None)


def _port(value: str) -> int:
    number = _count(value)
    if not 1 <= number <= 65535:
        raise argparse.ArgumentTypeError(f"'{value}' is not a TCP port (1-65535)")
    return number


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="a version (or a training folder) as an MLflow model directory",
                       description="Write MODEL@vN, the version running in MODEL@ENV, or a training folder as an "
                                   "MLflow model: the artifact from the version's release (refused unless its "
                                   "sha256 is the record's), the sklearn flavor in skops format (never pickle), a "
                                   "signature from the record's columns, an input example from held-out rows, pip "
                                   "requirements pinned to the record's libraries, and the version record and "
                                   "model card alongside. Needs the extra mlops-actions[mlflow].")
    p.add_argument("target", metavar="MODEL@vN|MODEL@ENV|PATH", help="a version, an environment's version, or a "
                   "folder written by train (e.g. mlops-out/arrests, relative to the repository root)")
    p.add_argument("--format", choices=("mlflow",), default="mlflow", help="model format (default mlflow)")
    p.add_argument("--flavor", choices=("auto", "sklearn", "pyfunc"), default="auto",
                   help="auto (default): MLflow's sklearn flavor in skops format when the installed MLflow offers "
                        "it, else pyfunc: a models-from-code model that loads the skops file (also loads where "
                        "MLFLOW_ALLOW_PICKLE_DESERIALIZATION=false)")
    p.add_argument("--out", type=Path, required=True, metavar="DIR",
                   help="a new or empty folder for the MLflow model (relative paths: from the repository root)")
    p.set_defaults(handler=_run_export)


def _run_export(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.export import export

    return export(ctx.root, args.target, out=ctx.root / args.out, gh=_github_if_set(ctx, args.target),
                  cwd=ctx.root, flavor=args.flavor)


def _add_serve(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="serve a version with MLflow's scoring server on 127.0.0.1",
                       description="Export MODEL@vN (or MODEL@ENV, or a training folder) as `export` does, into "
                                   "a temporary folder, and run MLflow's scoring server on it in this environment "
                                   "(--env-manager local) on 127.0.0.1 until Ctrl-C: POST /invocations, GET /ping "
                                   "and /health. Needs the extra mlops-actions[mlflow].")
    p.add_argument("target", metavar="MODEL@vN|MODEL@ENV|PATH", help="what to serve")
    p.add_argument("--port", type=_port, default=5000, help="TCP port on 127.0.0.1 (default 5000)")
    p.set_defaults(handler=_run_serve)


def _run_serve(args: argparse.Namespace, ctx: Context) -> int:
    from mlops_actions.commands.serve import serve

    return serve(ctx.root, args.target, port=args.port, gh=_github_if_set(ctx, args.target), cwd=ctx.root)


def _add_ship(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("ship", help="on the deployment event: export the version and run your deploy command",
                       description="Carry out the GitHub Deployment of the `deployment` event (GITHUB_EVENT_PATH): "
                                   "status in_progress, download the version's artifact and verify it against its "
                                   "tag's record, export it as an MLflow model, run --run with MLOPS_MODEL_DIR, "
                                   "MLOPS_MODEL, MLOPS_VERSION, MLOPS_ENVIRONMENT ... set, then status success "
                                   "(environment_url, log_url) or failure (the command's last line), or error "
                                   "when the version could not be prepared. Needs GITHUB_TOKEN with deployments: "
                                   "write and contents: read, and the extra mlops-actions[mlflow].")
    p.add_argument("--run", required=True, metavar="COMMAND",
                   help="the deploy command, run with bash -c in the repository root")
    p.add_argument("--environment-url", default="", metavar="URL",
                   help="the endpoint's URL for the success status (the command may write one into "
                        "$MLOPS_ENVIRONMENT_URL_FILE instead)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="new or empty folder for the exported model (default: a new folder under RUNNER_TEMP)")
    p.set_defaults(handler=_run_ship)


def _run_ship(args: argparse.Namespace, ctx: Context) -> int:
    import tempfile

    from mlops_actions.commands.ship import ShipOptions, ship

    gh = _github(ctx)
    out = ctx.root / args.out if args.out else \
        Path(tempfile.mkdtemp(prefix="mlops-ship-", dir=ctx.env.get("RUNNER_TEMP") or None)) / "model"
    options = ShipOptions(args.run, out, args.environment_url, gh.context.run_url, _mirror(ctx))
    return ship(ctx.root, gh, options, runtime=ctx.runtime)


def _github_if_set(ctx: Context, target: str) -> GitHubPort | None:
    """The GitHub client when a token and repository are set and ``target`` is not a local folder."""
    if "@" not in target or not (ctx.env.get("GITHUB_TOKEN") and ctx.env.get("GITHUB_REPOSITORY")):
        return None
    return _github(ctx)


def _mirror(ctx: Context) -> Mirror | None:
    """The MLflow mirror when MLFLOW_TRACKING_URI or mlops.yaml's mlflow.tracking_uri names a server, else None."""
    from mlops_actions.mlflow_bridge.hooks import mirror_from, warn_both

    return mirror_from(ctx.root, ctx.env, warn_both(ctx.runtime))


def _github(ctx: Context) -> GitHubPort:
    """The GitHub client of this run (only the composition root builds it)."""
    from mlops_actions.github.env import connect
    from mlops_actions.secrets import RedactedWrites

    # RedactedWrites passes every attribute of the GitHubRepo through (redacting published text): the port
    return cast("GitHubPort", RedactedWrites(connect(ctx.env, None, ctx.runtime), ctx.runtime.secrets))


def _commit(ctx: Context, given: str | None) -> str:
    from mlops_actions.gitio import Git

    rev = given or ctx.env.get("GITHUB_SHA") or "HEAD"
    sha = Git(ctx.root).commit_of(rev)
    if sha is None:
        raise UsageError(f"'{rev}' does not name a commit in {ctx.root}",
                         hint="check out the repository with actions/checkout (fetch-depth: 0), or pass another --sha")
    return sha


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="the whole story offline: PR, report, approvals, merge, register, deploy",
                       description="Run the full loop on the example model against a local GitHub emulator: a PR "
                                   "retrains (validate, plan, train, report), a second push updates the same "
                                   "comment, approval and merge register arrests@v1, staging deploys, production is "
                                   "refused without two ml-lead approvals and deploys with them. Offline; about "
                                   "half a minute.")
    p.add_argument("--keep", type=Path, default=None, metavar="DIR",
                   help="build the demo repository in DIR (new or empty) and keep it, instead of a temporary one")
    p.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace, ctx: Context) -> int:
    _pin_blas_kernels()
    from mlops_actions.commands.demo import demo

    return demo(main, keep=args.keep.resolve() if args.keep else None)


COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (  # in the order of the loop
    _add_validate, _add_plan, _add_fetch, _add_train, _add_run, _add_report, _add_govern, _add_register,
    _add_deploy, _add_history, _add_export, _add_serve, _add_ship,
    _add_monitor, _add_refresh, _add_fairness, _add_init, _add_demo)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mlops-actions", description="The MLOps loop on GitHub: validate, plan, train, "
                     "report, register, deploy and monitor models kept in a repository.")
    parser.add_argument("--version", action="version", version=f"mlops-actions {__version__}")
    parser.add_argument("-C", "--repo-root", type=Path, default=None, metavar="DIR",
                        help="repository root (default: the current directory)")
    parser.add_argument("--debug", action="store_true", help="print tracebacks of internal errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for add in COMMANDS:
        add(sub)
    return parser


@functools.cache
def _parser() -> argparse.ArgumentParser:
    """The parser ``main`` reads the command line with: built once per process (parsing never changes it;
    tests and the demo call ``main`` thousands of times), where ``build_parser`` gives a fresh one."""
    return build_parser()


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """Run one command. ``env`` replaces ``os.environ`` (the demo and tests pass their own)."""
    args = _parser().parse_args(argv)
    env = dict(os.environ if env is None else env)

    def call() -> int:
        root = (args.repo_root or Path.cwd()).resolve()
        if not root.is_dir():
            raise UsageError(f"repository root {root} is not a folder")
        return int(args.handler(args, Context(root, env)))

    runtime = ActionsRuntime.from_env(env)
    with redacting(runtime.secrets, guard_commands=runtime.active):
        return run_guarded(call, debug=args.debug, on_error=lambda kind: runtime.set_output("error", kind),
                           redact=runtime.secrets.redact)
