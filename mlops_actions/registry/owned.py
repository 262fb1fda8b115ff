"""What a model owns, for CODEOWNERS: the paths whose owners may approve its registration.

Every file under ``models/<name>/`` at the merge, the data file its spec reads and the ``code:`` files it
names -- paths from the top of the repository (the convention may live in a subfolder). ``register`` asks it
of the merged tree, ``deploy`` of the commit a version tag points to, so both count the same owners.
"""

from __future__ import annotations

from mlops_actions.convention.discovery import MODELS_DIR, SPEC_FILE
from mlops_actions.convention.model import ModelSpec
from mlops_actions.convention.schema_check import schema_errors
from mlops_actions.convention.schemas import MODEL_SPEC
from mlops_actions.convention.yamlio import MAX_FILE_BYTES, parse_text
from mlops_actions.gitio import Git


def model_paths(git: Git, prefix: str, commit: str, name: str, spec: ModelSpec | None) -> list[str]:
    """``git`` at the top of the repository; ``prefix`` the convention's folder from there ("" or "ml/")."""
    folder = f"{prefix}{MODELS_DIR}/{name}/"
    files = git.text("ls-tree", "-r", "--name-only", "--full-tree", commit, "--", folder).splitlines()
    named = [spec.data.path] if spec is not None and spec.data.path else []
    named += list(spec.code) if spec is not None else []
    return [*(files or [folder]), *(f"{prefix}{p}" for p in named)]


def spec_at(git: Git, prefix: str, commit: str, name: str) -> ModelSpec | None:
    """The model's spec as committed at ``commit``, or None when it is missing or not valid there."""
    relpath = f"{MODELS_DIR}/{name}/{SPEC_FILE}"
    raw = git.try_run("cat-file", "blob", f"{commit}:{prefix}{relpath}")
    if raw is None or len(raw) > MAX_FILE_BYTES:
        return None
    loaded = parse_text(raw.decode("utf-8", "replace"), relpath)
    if not loaded.ok or schema_errors(MODEL_SPEC, loaded.data):
        return None
    return ModelSpec.from_dict(loaded.data, relpath)
