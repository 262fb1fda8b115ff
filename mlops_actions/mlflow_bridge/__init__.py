"""The MLflow side of mlops-actions: the optional extra ``pip install "mlops-actions[mlflow]"``.

- ``source``: a version (``MODEL@vN``, ``MODEL@ENV``) or a training folder → its record and verified artifact;
- ``export``: that artifact as an MLflow model directory (sklearn flavor in skops format, never pickle);
- ``serving``: MLflow's scoring server on loopback for an exported model;
- ``tracking``: mirrors runs, versions and environment aliases into an MLflow tracking server and registry
  (never the source of truth: git tags and GitHub Deployments stay the record).

Nothing outside this package imports ``mlflow``, and this package imports it only inside functions, so the
core install and ``validate`` stay as light as they are.
"""

from __future__ import annotations

from types import ModuleType

from mlops_actions.errors import InputError

EXTRA = "mlops-actions[mlflow]"
INSTALL_HINT = f'install the MLflow extra: pip install "{EXTRA}"'


def require_mlflow(what: str) -> ModuleType:
    """The ``mlflow`` module, or an ``InputError`` that names the extra to install."""
    try:
        import mlflow
    except ImportError:
        raise InputError(f"{what} needs MLflow, which is not installed", hint=INSTALL_HINT) from None
    return mlflow


def require_mlflow_installed(what: str) -> None:
    """Like ``require_mlflow`` without importing it (seconds): for commands that only write MLflow's files."""
    import importlib.util

    try:
        found = importlib.util.find_spec("mlflow") is not None
    except (ImportError, ValueError):
        found = False
    if not found:
        raise InputError(f"{what} needs MLflow, which is not installed", hint=INSTALL_HINT)
