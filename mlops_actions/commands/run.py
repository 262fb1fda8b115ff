"""``mlops-actions run [--base REF] [--out DIR]``: plan, then train every planned model, in one command.

The local counterpart of the CI pipeline's plan → train matrix. A model that fails to train does not stop
the others; the exit code is 1 when any failed, and each failure is reported with its place.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Protocol

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.errors import EXIT_INVALID, EXIT_OK, MlopsError


class Trainer(Protocol):
    """Trains one model into ``out/<name>/`` (the ``train`` command, which the composition root passes in)."""

    def __call__(self, root: Path, name: str, *, out: Path, runtime: ActionsRuntime) -> int: ...


def run(root: Path, *, base: str | None, out: Path, runtime: ActionsRuntime, train: Trainer,
        base_branch: str | None = None) -> int:
    """Train each model the plan lists (see ``registry.planning``) into ``out/<model>/`` with ``train``."""
    from mlops_actions.gitio import Git
    from mlops_actions.registry.planning import compute_plan, resolve_base
    from mlops_actions.reporting.plan import as_text
    from mlops_actions.training.changes import PlanResult
    from mlops_actions.training.outputs import check_out_dir

    check_out_dir(out)
    chosen = resolve_base(Git(root), base, base_branch)
    plans = compute_plan(root, chosen)
    print(as_text(PlanResult(tuple(plans), chosen.label if chosen else None)))
    names = [p.model for p in plans if p.train]
    failed = [name for name in names if not _train_one(train, root, name, out, runtime)]
    trained = [n for n in names if n not in failed]
    runtime.set_output("trained", json.dumps(trained))
    print(f"run: trained {len(trained)} of {len(names)} planned model(s)"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return EXIT_INVALID if failed else EXIT_OK


def _train_one(train: Trainer, root: Path, name: str, out: Path, runtime: ActionsRuntime) -> bool:
    """Train one model; a user-facing error is printed and the run goes on with the next model."""
    try:
        train(root, name, out=out, runtime=runtime)
    except MlopsError as exc:
        print(f"error: {name}: {exc}", file=sys.stderr)
        runtime.command("error", f"{name}: {exc.message}", title=f"mlops-actions train {name}",
                        file=exc.place.file if exc.place else None, line=exc.place.line if exc.place else None)
        return False
    return True
