"""The model-name grammar, in one place (pure). Schemas, the tag grammar and the action's inputs use it.

A model name is a folder under ``models/``, a git ref component (``refs/tags/<name>@v<N>``), a file name on
every runner's file system and a key of environment files, so it is kept to what is safe in all four:
lowercase ASCII letters and digits in runs separated by single ``.``, ``_`` or ``-``, at most 63 characters.
That rules out by construction what git refuses in a ref (``..``, a trailing ``.``, a ``.lock`` ending, control
characters, ``~^:?*[\\``, ``@{``), and names that differ from another only by case or Unicode normalisation.
``tests/integration/test_model_names.py`` checks that every schema carries exactly this pattern.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

MAX_LENGTH = 63
PATTERN = f"^(?=.{{1,{MAX_LENGTH}}}$)(?!.*[.]lock$)[a-z0-9]+(?:[._-][a-z0-9]+)*$"
RULE = (f"lowercase letters a-z and digits, in runs joined by single '.', '_' or '-' (no '..', no leading or "
        f"trailing separator, no '.lock' at the end), at most {MAX_LENGTH} characters; "
        "e.g. churn, credit-risk, fraud.v2")
_NAME = re.compile(PATTERN)
# An environment's name (mlops.yaml environments[].name; its state is environments/<name>.yaml).
ENVIRONMENT_PATTERN = "^[a-z0-9][a-z0-9_-]{0,62}$"
_ENVIRONMENT = re.compile(ENVIRONMENT_PATTERN)


def is_environment_name(name: object) -> bool:
    return isinstance(name, str) and _ENVIRONMENT.fullmatch(name) is not None


def is_model_name(name: object) -> bool:
    return isinstance(name, str) and _NAME.fullmatch(name) is not None


def fold(name: str) -> str:
    """The form two names that look alike share: Unicode-normalised (NFKC) and case-folded."""
    return unicodedata.normalize("NFKC", name).casefold()


def twin(name: str, others: Iterable[str]) -> str | None:
    """Another of ``others`` that differs from ``name`` only by case or Unicode form, or None."""
    return next((o for o in sorted(others) if o != name and fold(o) == fold(name)), None)


def name_problem(name: str, others: Iterable[str] = ()) -> str | None:
    """Why ``name`` is not a model name (naming a model it would be confused with), or None."""
    if is_model_name(name):
        return None
    other = twin(name, others)
    clash = f"; it differs from model '{other}' only by case or Unicode form" if other else ""
    return f"'{name}' is not a valid model name{clash}. A model name is {RULE}"
