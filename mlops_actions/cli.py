"""Argument parsing → commands. The composition root: only here are the environment, git and GitHub read.

Each subcommand is parsed here into typed values and handed to a function in ``mlops_actions.commands``
that returns an exit code. Commands import their heavy dependencies lazily, so ``validate`` starts fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from mlops_actions import __version__
from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.errors import EXIT_USAGE, UsageError, run_guarded

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
    fmt = args.format or ("github" if ctx.runtime.active else "text")
    return validate(ctx.root, list(args.paths), fmt=fmt, schema=args.schema, runtime=ctx.runtime)


COMMANDS: tuple[Callable[[argparse._SubParsersAction], None], ...] = (_add_validate,)


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


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    env = dict(os.environ)

    def call() -> int:
        root = (args.repo_root or Path.cwd()).resolve()
        if not root.is_dir():
            raise UsageError(f"repository root {root} is not a folder")
        return int(args.handler(args, Context(root, env)))

    return run_guarded(call, debug=args.debug)
