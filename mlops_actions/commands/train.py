"""``mlops-actions train MODEL [--out DIR]``: deterministic training of one model of the repository."""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from mlops_actions.actions_runtime import ActionsRuntime
from mlops_actions.convention.discovery import POLICY_FILE, ConventionFile, model_names, spec_relpath
from mlops_actions.convention.model import ModelSpec, Policy
from mlops_actions.convention.problems import Problem
from mlops_actions.convention.schemas import MODEL_SPEC, POLICY
from mlops_actions.convention.validation import load_valid, validate
from mlops_actions.errors import EXIT_OK, InputError, Place
from mlops_actions.reporting.markdown import md_cell, md_code
from mlops_actions.writing import probe

DEFAULT_OUT = "mlops-out"
# what train (and report's model card) put in DIR/MODEL/: train replaces that folder, so it must hold only these
OUTPUT_NAMES = frozenset({"evaluation.json", "fairness.json", "metrics.json", "model.skops", "model.zip",
                          "predictions.parquet",
                          "record.json", "model-card.md"})


def train(root: Path, name: str, *, out: Path, runtime: ActionsRuntime, install: bool = False,
          pip_args: str = "", mirror: Any = None) -> int:
    """Train model ``name`` into ``out/<name>/``; prints where the outputs are and the metrics. With ``install``,
    the model's pinned requirements are pip-installed first (folded output)."""
    from mlops_actions.training.train import train_model

    check_out_dir(out, name)
    spec, policy = load_model(root, name)
    if install and spec.requirements:
        from mlops_actions.training.requirements import install_requirements

        with runtime.group(f"{name}: pip install -r {spec.requirements}"):
            install_requirements(root, spec.requirements, pip_args)
    result = train_model(root, spec, policy, out, stage=runtime.group)
    for note in result.notes:
        print(f"note: {note}", file=sys.stderr)
    print(f"{name}: trained; outputs in {result.folder}")
    print(f"  {result.artifact_file} sha256 {result.artifact_sha256}")
    for metric, value in result.metrics.items():
        print(f"  {metric} = {_number(value)}")
    runtime.set_output("folder", str(result.folder))
    runtime.set_output("sha256", result.artifact_sha256)
    runtime.set_output("upload-predictions", "true" if policy.upload_predictions else "false")
    runtime.append_summary(summary_markdown(name, result.artifact_sha256, result.metrics, result.artifact_file))
    if mirror is not None:  # MLflow, when configured: a run per training (never the record)
        mirror.log_training(name, result.folder, result.record)
    return EXIT_OK


def check_out_dir(out: Path, name: str | None = None) -> None:
    """``InputError`` before any work when ``out`` (or a folder above it) is a file, or when ``out/name``,
    which train replaces as a whole, holds anything train did not write (``--out models`` would else
    delete the model's own spec)."""
    blocker = next((p for p in (out, *out.parents) if p.exists() or p.is_symlink()), None)
    if blocker is not None and not blocker.is_dir():
        raise InputError(f"--out {out}: {blocker} is not a folder",
                         hint="pass a folder with --out (it is created when missing), e.g. --out mlops-out")
    probe(out, "the training outputs")
    target = out / name if name else None
    if target is None or not (target.exists() or target.is_symlink()):
        return
    if target.is_symlink() or not target.is_dir():
        what = "is a file or a link, not a folder of training outputs"
    else:
        foreign = sorted(p.name for p in target.iterdir() if p.name not in OUTPUT_NAMES)
        what = f"holds files train did not write ({', '.join(foreign)})" if foreign else ""
    if what:
        raise InputError(f"--out {out}: {target} {what}; train replaces it as a whole, so it refuses",
                         hint="pass --out a folder kept for training outputs, e.g. --out mlops-out (the default)")


def load_model(root: Path, name: str) -> tuple[ModelSpec, Policy]:
    """The spec of model ``name`` and the repository policy, both valid, or ``InputError`` with problems."""
    relpath = spec_relpath(name)
    if name not in model_names(root):  # also refuses names with path characters: models/a/../b is no model
        known = ", ".join(model_names(root)) or "none"
        raise InputError(f"there is no model '{name}' ({relpath} does not exist)", hint=f"models: {known}")
    files = [ConventionFile(relpath, MODEL_SPEC)]
    if (root / POLICY_FILE).exists() or (root / POLICY_FILE).is_symlink():  # a folder or a loop: refused
        files.insert(0, ConventionFile(POLICY_FILE, POLICY))
    errors = validate(root, files).errors
    if errors:
        raise _invalid(errors)
    raw = load_valid(root, relpath, MODEL_SPEC)
    policy_raw = load_valid(root, POLICY_FILE, POLICY) if (root / POLICY_FILE).is_file() else None
    if raw is None:  # validation passed, so this cannot happen; a guard, not a user path
        raise InputError(f"{relpath} could not be loaded", place=Place(relpath))
    return ModelSpec.from_dict(raw, relpath), Policy.from_dict(policy_raw)


def _invalid(errors: list[Problem]) -> InputError:
    first, rest = errors[0], errors[1:]
    message = f"{first.json_path}: {first.message}"
    for p in rest:
        place = p.file if p.line is None else f"{p.file}:{p.line}:{p.column}"
        message += f"\n  also {place}: {p.json_path}: {p.message}"
    return InputError(message, place=Place(first.file, first.line, first.column, first.pointer),
                      hint="fix the spec or its data first (`mlops-actions validate` lists every problem); "
                           "nothing was trained")


def _number(value: float | None) -> str:
    return "null" if value is None else f"{value:.6g}"


def summary_markdown(name: str, sha256: str, metrics: Mapping[str, float | None],
                     artifact_file: str = "model.skops") -> str:
    """Job-summary Markdown: the model, its artifact hash and metrics (names escaped, no rows)."""
    lines = [f"### Trained {md_code(name)}", "", f"{artifact_file} sha256 {md_code(sha256)}", "",
             "| metric | value |", "|---|---|"]
    lines += [f"| {md_cell(k)} | {_number(v)} |" for k, v in metrics.items()]
    return "\n".join(lines) + "\n\n"
