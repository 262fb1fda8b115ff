"""The folder ``train`` writes (``DIR/MODEL/``): what it may hold, and the check, before any work, that
``--out`` can take it (``train`` and ``run`` both make it)."""

from __future__ import annotations

from pathlib import Path

from mlops_actions.errors import InputError
from mlops_actions.writing import probe

# what train (and report's model card) put in DIR/MODEL/: train replaces that folder, so it must hold only these
OUTPUT_NAMES = frozenset({"evaluation.json", "fairness.json", "metrics.json", "model.skops", "model.zip",
                          "predictions.parquet",
                          "record.json", "model-card.md"})


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
