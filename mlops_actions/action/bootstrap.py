"""Prepare the Python environment the composite action runs in (standard library only).

``action.yml`` runs this file as ``python3 -I <action path>/mlops_actions/action/bootstrap.py`` with the
runner's own interpreter, before anything is installed. It must be able to say clearly that a Python is too
old, so this file parses on Python 3.6+ (no ``from __future__ import annotations``, no walrus, generic
annotations quoted) and checks the version before doing anything else.

Three ways to get an environment, chosen by environment variables:

- default: a virtual environment under ``$RUNNER_TEMP/mlops-actions/venv`` with the action installed by
  ``pip install <action path>``; a marker file (package version, ``pyproject.toml`` hash, Python version,
  pip arguments) lets every later step of the job reuse it without reinstalling.
- ``MLOPS_ACTIONS_PIP_ARGS``: extra ``pip install`` arguments, split like a shell would (never run by one),
  e.g. ``--no-index --find-links /wheels`` to install offline from a wheelhouse.
- ``MLOPS_ACTIONS_PYTHON``: an interpreter that already has the dependencies (a pre-built venv, a container
  image); nothing is installed, the dependencies are checked and missing ones named.

The code that runs is always the action's own checkout (the run step starts in the action's folder), so a
pre-built environment only has to provide the dependencies.
"""

import hashlib
import json
import os
import platform
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

MIN_PYTHON = (3, 10)
MARKER = "mlops-actions-install.json"
INSTALL_LAYOUT = "1"  # bump when the layout of the environment changes
# import name -> distribution name, for a message that says what to install
DEPENDENCIES = (("github", "PyGithub"), ("ruamel.yaml", "ruamel.yaml"), ("jsonschema", "jsonschema"),
                ("sklearn", "scikit-learn"), ("pandas", "pandas"), ("numpy", "numpy"), ("pyarrow", "pyarrow"),
                ("tabulate", "tabulate"), ("skops", "skops"), ("sklego", "scikit-lego"))
_CHECK_IMPORTS = """
import importlib.util, sys
def absent(name):
    try:
        return importlib.util.find_spec(name) is None
    except ImportError:  # the parent package is missing
        return True
print(" ".join(n for n in sys.argv[1:] if absent(n)))
"""


class SetupError(Exception):
    """A problem the workflow's author can fix; the message says how."""


def unsupported(version: "tuple[int, ...]", system: str) -> str:
    """Why this runner cannot run the action, or "" when it can."""
    if system != "Linux":
        return ("mlops-actions runs on Linux runners only (e.g. runs-on: ubuntu-latest); "
                f"this runner is {system or 'unknown'}.")
    if tuple(version[:2]) < MIN_PYTHON:
        found = ".".join(str(v) for v in version[:3])
        need = ".".join(str(v) for v in MIN_PYTHON)
        return (f"mlops-actions needs Python >= {need} on the runner, but python3 is {found}. Add "
                "actions/setup-python (python-version: '3.12') before this step.")
    return ""


def install_key(action_path: Path, pip_args: "list[str]", python_version: str) -> str:
    """What the installed environment depends on; a different key means reinstall."""
    digest = hashlib.sha256()
    digest.update((action_path / "pyproject.toml").read_bytes())
    for part in (INSTALL_LAYOUT, python_version, *pip_args):
        digest.update(b"\0" + part.encode("utf-8"))
    return digest.hexdigest()


def read_marker(venv_dir: Path) -> str:
    """The install key recorded in ``venv_dir``, or "" when none (or unreadable)."""
    try:
        return str(json.loads((venv_dir / MARKER).read_text(encoding="utf-8")).get("key", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def write_marker(venv_dir: Path, key: str, version: str) -> None:
    record = {"key": key, "version": version, "python": sys.version.split()[0]}
    tmp = venv_dir / (MARKER + ".tmp")
    tmp.write_text(json.dumps(record, sort_keys=True) + "\n", encoding="utf-8")
    tmp.replace(venv_dir / MARKER)


def package_version(action_path: Path) -> str:
    text = (action_path / "mlops_actions" / "__init__.py").read_text(encoding="utf-8")
    for line in text.splitlines():
        if line.startswith("__version__"):
            return line.split("=", 1)[1].strip().strip("\"'")
    return "unknown"


def venv_python(venv_dir: Path) -> Path:
    return venv_dir / "bin" / "python"


def run(args: "list[str]", what: str) -> None:
    """Run a command (no shell); a failure becomes a ``SetupError`` naming ``what``."""
    done = subprocess.run(args, stdout=sys.stderr, stderr=subprocess.STDOUT, check=False)
    if done.returncode != 0:
        raise SetupError(f"{what} failed (exit {done.returncode}); see the lines above.")


def create_venv(venv_dir: Path) -> None:
    """A fresh venv without pip (fast); ``pip_command`` brings pip."""
    shutil.rmtree(str(venv_dir), ignore_errors=True)
    venv_dir.parent.mkdir(parents=True, exist_ok=True)
    run([sys.executable, "-m", "venv", "--without-pip", str(venv_dir)],
        f"creating the virtual environment {venv_dir}")


def base_pip_version() -> "tuple[int, ...]":
    """The version of the runner Python's own pip, or () when it has none."""
    done = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True, check=False)
    words = done.stdout.split()
    if done.returncode != 0 or len(words) < 2:
        return ()
    return tuple(int(p) for p in words[1].split(".")[:2] if p.isdigit())


def pip_command(python: Path) -> "list[str]":
    """How to run pip for the venv: the runner's pip aimed at it (pip >= 22.3), else the venv's own."""
    if base_pip_version() >= (22, 3):
        return [sys.executable, "-m", "pip", "--python", str(python)]
    try:
        run([str(python), "-m", "ensurepip", "--default-pip"], "installing pip into the virtual environment")
    except SetupError as exc:
        raise SetupError(f"{exc} On Debian/Ubuntu images install python3-venv and python3-pip, or add "
                         "actions/setup-python before this step.") from exc
    return [str(python), "-m", "pip"]


def ensure_venv(venv_dir: Path, action_path: Path, pip_args: "list[str]", extras: str = "") -> Path:
    """The venv's interpreter, installing the action (with ``extras``) unless its marker says it is current."""
    key = install_key(action_path, [*pip_args, f"[{extras}]"] if extras else pip_args, sys.version.split()[0])
    python = venv_python(venv_dir)
    if read_marker(venv_dir) == key and python.exists():
        print(f"mlops-actions: reusing the environment in {venv_dir}", file=sys.stderr)
        return python
    print(f"::group::Installing mlops-actions into {venv_dir}", flush=True)
    try:
        create_venv(venv_dir)
        run([*pip_command(python), "install", "--disable-pip-version-check", "--no-input", *pip_args,
             f"{action_path}[{extras}]" if extras else str(action_path)], "pip install of the action")
    finally:
        print("::endgroup::", flush=True)
    write_marker(venv_dir, key, package_version(action_path))
    return python


def missing_dependencies(python: str) -> "list[str]":
    """Distribution names of the dependencies ``python`` cannot import."""
    names = [module for module, _ in DEPENDENCIES]
    try:
        done = subprocess.run([python, "-I", "-c", _CHECK_IMPORTS, *names], capture_output=True, text=True,
                              check=False)
    except OSError as exc:
        raise SetupError(f"MLOPS_ACTIONS_PYTHON={python} cannot be run: {exc}") from exc
    if done.returncode != 0:
        raise SetupError(f"MLOPS_ACTIONS_PYTHON={python} failed to start: {done.stderr.strip()}")
    absent = set(done.stdout.split())
    return [dist for module, dist in DEPENDENCIES if module in absent]


def prebuilt_python(python: str) -> Path:
    """The interpreter named by ``MLOPS_ACTIONS_PYTHON`` once it is known to have every dependency."""
    found = shutil.which(python)
    if found is None:
        raise SetupError(f"MLOPS_ACTIONS_PYTHON={python} is not an executable interpreter.")
    missing = missing_dependencies(found)
    if missing:
        raise SetupError(f"MLOPS_ACTIONS_PYTHON={found} lacks {', '.join(missing)}; install them there or "
                         "unset MLOPS_ACTIONS_PYTHON to let the action install itself.")
    return Path(found)


def venv_dir(env: "dict[str, str]") -> Path:
    base = env.get("RUNNER_TEMP") or env.get("TMPDIR") or "/tmp"  # noqa: S108  # the runner's temp by default
    return Path(base) / "mlops-actions" / "venv"


def set_output(env: "dict[str, str]", name: str, value: str) -> None:
    out = env.get("GITHUB_OUTPUT")
    if out:
        with open(out, "a", encoding="utf-8") as fh:
            fh.write(f"{name}={value}\n")
    else:
        print(f"{name}={value}")


def pip_secrets(pip_args: "list[str]") -> "list[str]":
    """Passwords in URLs among the pip arguments (``--index-url https://user:TOKEN@host/simple``)."""
    found = []
    for arg in pip_args:
        for part in arg.split("="):
            try:
                password = urlsplit(part).password if "://" in part else None
            except ValueError:
                password = None
            if password:
                found.append(password)
    return found


def mask(values: "list[str]") -> None:
    """Mask each value (and each of its lines) in the job's log before any command can print it."""
    for value in values:
        for line in dict.fromkeys([value, *value.splitlines()]):
            if line.strip():
                escaped = line.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
                print("::add-mask::" + escaped, flush=True)


def setup(env: "dict[str, str]", action_path: Path) -> Path:
    """Check the runner and return the interpreter the action's run step must use."""
    problem = unsupported(tuple(sys.version_info[:3]), platform.system())
    if problem:
        raise SetupError(problem)
    prebuilt = env.get("MLOPS_ACTIONS_PYTHON", "").strip()
    if prebuilt:
        return prebuilt_python(prebuilt)
    pip_args = shlex.split(env.get("MLOPS_ACTIONS_PIP_ARGS", ""))
    mask(pip_secrets(pip_args))  # pip prints index URLs; a token in one must not reach the log
    return ensure_venv(venv_dir(env), action_path, pip_args, extras(env))


def extras(env: "dict[str, str]") -> str:
    """``mlflow`` when the command needs MLflow: ``ship``, or any command while an MLflow server is configured
    (``MLFLOW_TRACKING_URI``, or an ``mlflow:`` section in mlops.yaml); else no extra."""
    if env.get("MLOPS_COMMAND", "").strip() == "ship" or env.get("MLFLOW_TRACKING_URI", "").strip() or \
            policy_names_mlflow(env):
        return "mlflow"
    return ""


def policy_names_mlflow(env: "dict[str, str]") -> bool:
    """Whether the repository's mlops.yaml has a top-level ``mlflow:`` key (a line test: no YAML parser here)."""
    root = Path(env.get("GITHUB_WORKSPACE") or ".") / env.get("MLOPS_WORKING_DIRECTORY", ".").strip()
    try:
        text = (root / "mlops.yaml").read_text(encoding="utf-8")
    except (OSError, ValueError):
        return False
    return any(line.startswith("mlflow:") for line in text.splitlines())


def main() -> int:
    env = dict(os.environ)
    action_path = Path(env.get("MLOPS_ACTION_PATH") or Path(__file__).resolve().parents[2])
    try:
        python = setup(env, action_path)
    except SetupError as exc:
        message = str(exc).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
        print(f"::error title=mlops-actions setup::{message}", flush=True)
        return 1
    set_output(env, "python", str(python))
    return 0


if __name__ == "__main__":
    sys.exit(main())
