"""Reading one JSON file of a results folder, with the file's place in every error (below ``results`` and
``baseline``, which both read results files: one module, so that neither imports the other)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from mlops_actions import bounded
from mlops_actions.errors import InputError, Place

RUN_HINT = "run `mlops-actions train MODEL` (or `mlops-actions run`) to produce it"


def read_json(path: Path, display: str | None = None) -> Any:
    """Parse a JSON file; a clear ``InputError`` naming the file (and line, column) when it is not JSON."""
    shown = display or path.as_posix()
    try:
        text = bounded.read_text(path)
    except FileNotFoundError:
        raise InputError("file not found", place=Place(shown), hint=RUN_HINT) from None
    except bounded.TooBig as exc:
        raise InputError(f"{exc.size:,} bytes; a results file may hold at most {exc.limit:,}", place=Place(shown),
                         hint=RUN_HINT.replace("produce it", "write it again")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the file: {exc}", place=Place(shown)) from None
    try:
        return bounded.loads(text, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", place=Place(shown, exc.lineno, exc.colno),
                         hint=RUN_HINT.replace("produce it", "write it again")) from None


def _no_constant(name: str) -> float:
    return math.nan  # NaN / Infinity written by Python's json: an undefined value, shown as n/a
