"""Package data (schemas, templates) loaded by name from one source.

In a wheel they live in ``mlops_actions/_data/``; in a source checkout (and an editable install) they are
read from the repository's top-level ``schemas/`` and ``templates/`` folders. There are no copies.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
DEFAULT_OWNER = "mlops-actions"  # GitHub owner of this project; `init --owner` rewrites it in workflows


@cache
def data_dir(kind: str) -> Path:
    """Folder holding ``kind`` ("schemas" or "templates")."""
    for candidate in (_PACKAGE / "_data" / kind, _PACKAGE.parent / kind):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"mlops-actions is installed without its {kind}/ folder")


def schema_names() -> list[str]:
    """The catalogue of shipped schemas, by name (``model-spec``, ``policy``, ...)."""
    return sorted(p.name.removesuffix(".schema.json") for p in data_dir("schemas").glob("*.schema.json"))


def schema_path(name: str) -> Path:
    return data_dir("schemas") / f"{name}.schema.json"


def template_path(*parts: str) -> Path:
    return data_dir("templates").joinpath(*parts)


def example_names() -> list[str]:
    """Example models that ``init --example`` can add (folders of ``templates/examples/``)."""
    return sorted(p.name for p in template_path("examples").iterdir() if p.is_dir())
