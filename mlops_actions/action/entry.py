"""The composite action's run step: its inputs (from ``env:``) → ``mlops-actions`` command lines.

``action.yml`` hands every input over as an environment variable (``MLOPS_COMMAND``, ``MLOPS_MODELS``,
``MLOPS_BASE_REF``, ...), never pasted into a script, so no input can become shell code. Like ``cli.py``
this is a composition root: the only place that reads those variables. Each command line is run by the CLI's
own ``main`` in this process; ``fail-on`` then decides whether a failed verdict fails the step.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions import bounded
from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.names import RULE, is_model_name
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, UsageError, run_guarded
from mlops_actions.secrets import redacting

COMMANDS = ("validate", "plan", "fetch", "train", "report", "govern", "register", "deploy", "monitor", "refresh",
            "ship")
DEPLOYMENT_STATUSES = ("success", "queued", "in_progress")
PER_MODEL = ("fetch", "train", "monitor", "refresh")
PUBLISHING = ("monitor", "refresh")  # with a token: the drift issue; the pull request that re-pins the data
FLAGS = ("drift", "retrain")  # monitor's outputs: "true" when any of the models says so
FAIL_ON = ("fail", "warn", "never")
RESULTS_SUBDIR = "mlops-results"
_OUTPUT_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_-]*)(<<(.*)|=.*)$")

Cli = Callable[[Sequence[str]], int]


@dataclass(frozen=True)
class ActionInputs:
    """The action's inputs, checked: what to run, on which models, where, and how strictly."""

    command: str
    root: Path
    results_dir: Path
    models: tuple[str, ...] = ()
    base_ref: str = ""
    fail_on: str = "fail"
    current_data: str = ""
    environment: str = ""
    publish: bool = False
    max_jobs: str = ""
    install_requirements: bool = True
    fork_results: bool = False  # report in the workflow_run job: the results are a fork's artifact
    deployment_status: str = "success"
    deploy_command: str = ""
    environment_url: str = ""


def parse_models(text: str) -> tuple[str, ...]:
    """Model names from ``a,b`` / one per line / a JSON list / plan's matrix ``{"include": [...]}``."""
    text = text.strip()
    if text.startswith(("[", "{")):
        return _models_from_json(text)
    return tuple(name for name in re.split(r"[\s,]+", text) if name)


def _models_from_json(text: str) -> tuple[str, ...]:
    try:
        value = bounded.loads(text)
    except ValueError as exc:
        raise UsageError(f"input 'models' looks like JSON but is not: {exc}") from exc
    if isinstance(value, dict):
        value = [item.get("model") if isinstance(item, dict) else item for item in value.get("include", [])]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError("input 'models' must be names, a JSON list of names, or plan's matrix output")
    return tuple(value)


def check_models(models: tuple[str, ...]) -> tuple[str, ...]:
    for name in models:
        if not is_model_name(name):
            raise UsageError(f"input 'models': {name!r} is not a model name (a model name is {RULE})")
    return tuple(dict.fromkeys(models))


def _choice(env: Mapping[str, str], var: str, input_name: str, choices: tuple[str, ...], default: str) -> str:
    value = env.get(var, "").strip() or default
    if value not in choices:
        raise UsageError(f"input '{input_name}' is {value!r}; choose one of {', '.join(choices)}")
    return value


def _root(env: Mapping[str, str]) -> Path:
    workspace = Path(env.get("GITHUB_WORKSPACE") or Path.cwd())
    root = (workspace / env.get("MLOPS_WORKING_DIRECTORY", "").strip()).resolve()
    if not root.is_dir():
        raise UsageError(f"input 'working-directory': {root} is not a folder of the checked-out repository")
    return root


def _results_dir(env: Mapping[str, str]) -> Path:
    explicit = env.get("MLOPS_RESULTS_DIR", "").strip()
    if explicit:
        return Path(explicit)
    return Path(env.get("RUNNER_TEMP") or Path.cwd()) / RESULTS_SUBDIR


def read_event(env: Mapping[str, str]) -> dict[str, Any]:
    """The event payload (``$GITHUB_EVENT_PATH``), or {} when there is none or it is unreadable."""
    path = env.get("GITHUB_EVENT_PATH", "")
    try:
        event = bounded.loads(bounded.read_text(Path(path))) if path else {}
    except (OSError, ValueError):
        return {}
    return event if isinstance(event, dict) else {}


def default_base(env: Mapping[str, str]) -> str:
    """The pull request's base SHA, else the commit before the push, from the event payload; else ""."""
    event = read_event(env)
    pull = event.get("pull_request")
    if isinstance(pull, dict) and isinstance(pull.get("base"), dict):
        return str(pull["base"].get("sha") or "")
    before = event.get("before")
    return before if isinstance(before, str) and before.strip("0") else ""


def may_publish(env: Mapping[str, str]) -> bool:
    """Whether ``report`` posts the comment and check run: on a same-repository pull request, and in the
    ``workflow_run`` job that comments for forks. A fork's own run has a read-only token: it only renders."""
    if not env.get("GITHUB_TOKEN"):
        return False
    if env.get("GITHUB_EVENT_NAME") == "workflow_run":
        return True
    pull = read_event(env).get("pull_request")
    head = pull.get("head") if isinstance(pull, dict) else None
    repo = head.get("repo") if isinstance(head, dict) else None
    return isinstance(repo, dict) and repo.get("full_name") == env.get("GITHUB_REPOSITORY")


def head_ref(env: Mapping[str, str]) -> str:
    """The pull request's head branch for the report: ``GITHUB_HEAD_REF``, else (in the ``workflow_run`` job
    that comments for forks, which runs on the default branch) the branch of the run it reports on."""
    if env.get("GITHUB_HEAD_REF") or env.get("GITHUB_EVENT_NAME") != "workflow_run":
        return env.get("GITHUB_HEAD_REF", "")
    run = read_event(env).get("workflow_run")
    branch = run.get("head_branch") if isinstance(run, dict) else None
    return branch if isinstance(branch, str) else ""


def has_token(env: Mapping[str, str]) -> bool:
    """``monitor`` and ``refresh`` publish (drift issue, re-pin pull request) whenever there is a token; the
    job's ``permissions:`` say whether it may (a refusal names the permission that is missing)."""
    return bool(env.get("GITHUB_TOKEN", "").strip())


def _max_jobs(env: Mapping[str, str]) -> str:
    value = env.get("MLOPS_MAX_JOBS", "").strip()
    if value and not (value.isdigit() and 1 <= int(value) <= 256):
        raise UsageError(f"input 'max-jobs' is {value!r}; give a number of jobs from 1 to 256 (default 64)")
    return value


def read_inputs(env: Mapping[str, str]) -> ActionInputs:
    """The action's inputs from the environment ``action.yml`` sets; ``UsageError`` when one is wrong."""
    command = _choice(env, "MLOPS_COMMAND", "command", COMMANDS, "")
    inputs = ActionInputs(
        command=command, root=_root(env), results_dir=_results_dir(env),
        models=check_models(parse_models(env.get("MLOPS_MODELS", ""))),
        base_ref=env.get("MLOPS_BASE_REF", "").strip() or default_base(env),
        fail_on=_choice(env, "MLOPS_FAIL_ON", "fail-on", FAIL_ON, "fail"),
        current_data=env.get("MLOPS_CURRENT_DATA", "").strip(),
        environment=env.get("MLOPS_ENVIRONMENT", "").strip(),
        max_jobs=_max_jobs(env),
        publish=may_publish(env) if command == "report" else command in PUBLISHING and has_token(env),
        install_requirements=_choice(env, "MLOPS_INSTALL_REQUIREMENTS", "install-requirements", ("true", "false"),
                                     "true") == "true",
        fork_results=command == "report" and env.get("GITHUB_EVENT_NAME") == "workflow_run",
        deployment_status=_choice(env, "MLOPS_DEPLOYMENT_STATUS", "deployment-status", DEPLOYMENT_STATUSES,
                                  "success"),
        deploy_command=env.get("MLOPS_DEPLOY_COMMAND", "").strip(),
        environment_url=env.get("MLOPS_ENVIRONMENT_URL", "").strip())
    if command in PER_MODEL and not inputs.models:
        raise UsageError(f"command '{command}' needs input 'models' (e.g. models: ${{{{ matrix.model }}}})")
    if command == "ship" and not inputs.deploy_command:
        raise UsageError("command 'ship' needs input 'deploy-command' (what deploys the exported MLflow model)")
    if command == "monitor" and not inputs.current_data:
        raise UsageError("command 'monitor' needs input 'current-data' (a csv or parquet file of live inputs)")
    return inputs


def invocations(inputs: ActionInputs) -> list[list[str]]:
    """The ``mlops-actions`` argument lists the command stands for, in order."""
    root = ["-C", str(inputs.root)]
    base = ["--base", inputs.base_ref] if inputs.base_ref else []
    publish = ["--publish"] if inputs.publish else []
    if inputs.command == "fetch":
        return [[*root, "fetch", "--", m] for m in inputs.models]
    if inputs.command == "train":
        install = ["--install-requirements"] if inputs.install_requirements else []
        return [[*root, "train", "--out", str(inputs.results_dir), *install, "--", m] for m in inputs.models]
    if inputs.command == "monitor":
        env = ["--env", inputs.environment] if inputs.environment else []
        current = str(inputs.root / inputs.current_data)  # the step runs in the action's folder, not the repo
        return [[*root, "monitor", "--current", current, *env, *publish, "--", m] for m in inputs.models]
    if inputs.command == "refresh":
        return [[*root, "refresh", *publish, "--skip-unpinned", "--", m] for m in inputs.models]
    single = {
        "validate": ["validate", "--format", "github"],
        "plan": ["plan", "--format", "json", *base, *(["--max-jobs", inputs.max_jobs] if inputs.max_jobs else [])],
        "report": ["report", "--results", str(inputs.results_dir), *base, "--out", str(report_path(inputs)),
                   *publish, *(["--fork-results"] if inputs.fork_results else [])],
        "govern": ["govern"],
        "register": ["register", "--results", str(inputs.results_dir)],
        "deploy": ["deploy", *(["--status", inputs.deployment_status] if inputs.deployment_status != "success"
                               else [])],
        "ship": ["ship", "--run", inputs.deploy_command, "--environment-url", inputs.environment_url],
    }
    return [[*root, *single[inputs.command]]]


def report_path(inputs: ActionInputs) -> Path:
    return inputs.results_dir / "report.md"


def worst(codes: Sequence[int]) -> int:
    """One exit code for several runs: internal (3) > usage (2) > invalid (1) > ok (0)."""
    return max(codes, default=EXIT_OK)


def apply_fail_on(code: int, fail_on: str, runtime: ActionsRuntime, *, errored: bool = False) -> int:
    """``warn`` / ``never`` turn a failed verdict (exit 1) into a warning / a notice. Errors always fail:
    exit 2 and 3, and an exit 1 that came from an error (the CLI's ``error`` output, e.g. a missing
    permission) rather than from a verdict."""
    if code != EXIT_INVALID or fail_on == "fail" or errored:
        return code
    kind = "warning" if fail_on == "warn" else "notice"
    runtime.command(kind, f"mlops-actions: the verdict failed; the step passes because fail-on is {fail_on}",
                    title="mlops-actions")
    return EXIT_OK


def outputs_written(output_file: Path | None, offset: int) -> set[str]:
    """Names written to ``$GITHUB_OUTPUT`` after byte ``offset`` (both ``k=v`` and heredoc forms)."""
    return set(output_values(output_file, offset))


def output_values(output_file: Path | None, offset: int) -> dict[str, list[str]]:
    """Every value written to each output name after byte ``offset``, in order."""
    if output_file is None or not output_file.is_file():
        return {}
    with output_file.open("rb") as fh:
        fh.seek(offset)
        lines = fh.read().decode("utf-8", "replace").splitlines()
    values: dict[str, list[str]] = {}
    name, delimiter, body = "", None, list[str]()
    for line in lines:
        if delimiter is not None:
            if line == delimiter:
                values.setdefault(name, []).append("\n".join(body))
                delimiter, body = None, []
            else:
                body.append(line)
            continue
        match = _OUTPUT_LINE.match(line)
        if match:
            name, delimiter = match.group(1), match.group(3)
            if delimiter is None:
                values.setdefault(name, []).append(match.group(2)[1:])
    return values


def _size(path: Path | None) -> int:
    return path.stat().st_size if path is not None and path.is_file() else 0


def _call(cli: Cli, argv: list[str]) -> int:
    print(f"$ mlops-actions {' '.join(argv)}", flush=True)
    try:
        return int(cli(argv))
    except SystemExit as exc:  # argparse ends a bad command line with SystemExit(2)
        return exc.code if isinstance(exc.code, int) else EXIT_INVALID


def run_action(inputs: ActionInputs, runtime: ActionsRuntime, cli: Cli) -> int:
    """Run every invocation, set the outputs the commands did not set, apply ``fail-on``."""
    offset = _size(runtime.output_file)
    try:
        inputs.results_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"results folder {inputs.results_dir}: cannot create it: {exc.strerror or exc}",
                         hint="set RUNNER_TEMP (or MLOPS_RESULTS_DIR) to a folder the job can write") from None
    codes = [_call(cli, argv) for argv in invocations(inputs)]
    code = worst(codes)
    values = output_values(runtime.output_file, offset)
    written = set(values)
    if inputs.command == "monitor" and len(inputs.models) > 1:  # the last model's value would win
        for flag in FLAGS:
            if flag in values:
                runtime.set_output(flag, "true" if "true" in values[flag] else "false")
    if "verdict" not in written:
        runtime.set_output("verdict", "pass" if code == EXIT_OK else "fail")
    if inputs.command == "report" and "report-path" not in written and report_path(inputs).exists():
        runtime.set_output("report-path", str(report_path(inputs)))
    return apply_fail_on(code, inputs.fail_on, runtime, errored="error" in written)


def main(env: Mapping[str, str] | None = None) -> int:
    """The run step. ``env`` defaults to the process environment (tests hand in their own)."""
    real = env is None
    env = dict(os.environ) if env is None else dict(env)
    runtime = ActionsRuntime.from_env(env)
    runtime.mask_all()  # every secret of the environment, whole and line by line, before anything is printed
    from mlops_actions.cli import main as cli

    def run() -> int:
        inputs = read_inputs(env)
        # every command finds train's results where the workflow uploads and downloads them, and the
        # report names the PR's head (not the checked-out default branch of a workflow_run job)
        cli_env = {**env, "MLOPS_RESULTS_DIR": str(inputs.results_dir)}
        if head_ref(env):
            cli_env["GITHUB_HEAD_REF"] = head_ref(env)
        if real:
            os.environ.update(cli_env)
        return run_action(inputs, runtime, lambda argv: cli(argv, env=cli_env))

    with redacting(runtime.secrets, guard_commands=runtime.active):
        return run_guarded(run, redact=runtime.secrets.redact)
