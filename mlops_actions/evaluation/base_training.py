"""The model trained at the base ref: the baseline of last resort, when no version is deployed or registered.

Opt-in (``mlops-actions report --train-base``): the base commit is checked out in a temporary ``git worktree``
(the user's checkout is never touched) and each model is trained there with the same deterministic training
as ``train``. The worktree is removed afterwards; the results stay in a temporary folder the caller owns.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlops_actions.convention.discovery import spec_relpath
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.errors import MlopsError
from mlops_actions.gitio import Git


@dataclass(frozen=True)
class BaseTraining:
    """Where the base-ref results are, and why a model could not be trained there."""

    results: Path
    problems: dict[str, str]


def _quiet(_title: str) -> AbstractContextManager[None]:
    return nullcontext()


@contextmanager
def worktree(root: Path, commit: str, where: Path) -> Iterator[Path]:
    """A detached worktree of ``commit`` at ``where``, removed on exit (also after an error)."""
    git = Git(root)
    git.run("worktree", "add", "--detach", "--quiet", str(where), commit)
    try:
        yield where
    finally:
        git.run("worktree", "remove", "--force", str(where), ok=(0, 128))
        git.run("worktree", "prune", ok=(0, 128))


LoadModel = Callable[[Path, str], tuple[ModelSpec, Policy]]
TrainModel = Callable[..., Any]  # training.train.train_model(root, spec, policy, out, stage=...)


def train_at_base(root: Path, commit: str, models: Sequence[str], scratch: Path, *,
                  load_model: LoadModel, train_model: TrainModel) -> BaseTraining:
    """Train each of ``models`` that exists at ``commit`` into ``scratch/out/<model>/``, with the loader and
    trainer the caller passes (``commands.train.load_model``, ``training.train.train_model``): evaluation
    sits below both layers."""
    out, problems = scratch / "out", {}
    with worktree(root, commit, scratch / "tree") as tree:
        for name in models:
            if not (tree / spec_relpath(name)).is_file():
                problems[name] = "the model does not exist at the base ref"
                continue
            try:
                spec, policy = load_model(tree, name)
                train_model(tree, spec, policy, out, stage=_quiet)
            except MlopsError as exc:
                problems[name] = f"training at the base ref failed: {exc.message}"
    return BaseTraining(out, problems)
