"""The command build as a builder of ``train``: one run of the command gives both the fit and the predictions."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mlops_actions.convention.model import ModelSpec
from mlops_actions.training.artifact import Artifact
from mlops_actions.training.command import CommandOutput, run_command
from mlops_actions.training.data import Dataset
from mlops_actions.training.metrics import Predictions
from mlops_actions.training.repo_code import CheckedRepo
from mlops_actions.training.split import Split


@dataclass
class CommandBuilder:
    repo: CheckedRepo
    spec: ModelSpec
    skip: tuple[Path, ...] = ()
    artifact_kind: str = "files"
    _output: CommandOutput | None = field(default=None, repr=False)

    @property
    def title(self) -> str:
        return f"`{self.spec.build.target}`"

    def fit(self, dataset: Dataset, split: Split) -> tuple[str, ...]:
        self._output = run_command(self.repo, self.spec, dataset, split, skip=self.skip, echo=_echo)
        return self._output.notes

    def predict(self, dataset: Dataset, split: Split) -> Predictions:
        assert self._output is not None  # fit ran first
        return self._output.predictions

    def save(self, dataset: Dataset, split: Split) -> Artifact:
        assert self._output is not None
        return self._output.artifact

    def params(self) -> dict[str, Any]:
        assert self._output is not None
        return {"command": self.spec.build.target, "params": dict(self.spec.build.params),
                "files": list(self._output.files)}


def _echo(output: str) -> None:
    """The command's output, inside the stage's folded group (``::group::`` in Actions)."""
    text = output.rstrip()
    if text:
        print(text, flush=True)
