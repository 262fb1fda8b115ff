"""``mlops-actions train MODEL [--out DIR]``: deterministic training of one model of the repository."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.loading import load_model
from mlops_actions.errors import EXIT_OK
from mlops_actions.reporting.train import number, summary_markdown
from mlops_actions.training.outputs import check_out_dir

if TYPE_CHECKING:
    from mlops_actions.mlflow_bridge.tracking import Mirror

def train(root: Path, name: str, *, out: Path, runtime: ActionsRuntime, pip_args: str | None = None,
          mirror: Mirror | None = None) -> int:
    """Train model ``name`` into ``out/<name>/``; prints where the outputs are and the metrics. With
    ``pip_args`` (``--install-requirements``; "" for none), the model's pinned requirements are first
    pip-installed with those extra arguments (folded output); None installs nothing."""
    from mlops_actions.training.train import train_model

    check_out_dir(out, name)
    spec, policy = load_model(root, name)
    if pip_args is not None and spec.requirements:
        from mlops_actions.training.requirements import install_requirements

        with runtime.group(f"{name}: pip install -r {spec.requirements}"):
            install_requirements(root, spec.requirements, pip_args)
    result = train_model(root, spec, policy, out, stage=runtime.group)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{name}: trained; outputs in {result.folder}")
    print(f"  {result.artifact_file} sha256 {result.artifact_sha256}")
    for metric, value in result.metrics.items():
        print(f"  {metric} = {number(value)}")
    runtime.set_output("folder", str(result.folder))
    runtime.set_output("sha256", result.artifact_sha256)
    runtime.set_output("upload-predictions", "true" if policy.upload_predictions else "false")
    runtime.append_summary(summary_markdown(name, result.artifact_sha256, result.metrics, result.artifact_file))
    if mirror is not None:  # MLflow, when configured: a run per training (never the record)
        mirror.log_training(name, result.folder, result.record)
    return EXIT_OK
