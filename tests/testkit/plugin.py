"""The pytest plugin of shared fixtures (registered by ``tests/conftest.py``). An autouse guard fails any test that
reaches the network (beyond loopback) or $HOME."""

from __future__ import annotations

import atexit
import ipaddress
import os
import socket
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit import EXAMPLE, TESTS, DataServer, git, scratch

_real_connect = socket.socket.connect


def _skip_interpreter_teardown() -> None:
    """An xdist worker has sent its results by the time its interpreter exits; tearing down its heap (every
    module, GitHub's OpenAPI description, caches) kept the run waiting 1.5 s at the end. Registered when this
    plugin loads, this handler runs after every atexit handler registered since, then ends the process (the
    master reads a worker's outcome from its channel, never from its exit code)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if os.environ.get("PYTEST_XDIST_WORKER"):
    atexit.register(_skip_interpreter_teardown)
_real_create_connection = socket.create_connection


def _is_loopback(address: object) -> bool:
    if isinstance(address, tuple) and address:
        host = str(address[0])
        if host == "localhost":
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return isinstance(address, str | bytes)  # AF_UNIX paths


def _guarded_connect(self: socket.socket, address: object) -> None:
    if not _is_loopback(address):
        raise RuntimeError(f"test tried to reach the network: {address!r}")
    _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network_no_home(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Test Author")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "author@example.com")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Test Committer")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "committer@example.com")
    for var in ("GITHUB_ACTIONS", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_TOKEN", "GITHUB_EVENT_PATH"):
        monkeypatch.delenv(var, raising=False)


@pytest.fixture
def example_repo(tmp_path: Path) -> Iterator[Path]:
    """A real git repository holding a copy of the example repository with its declarative model ``arrests``
    only (the results fixtures are of that model; the demo and test_train_builds cover the other two),
    committed on main."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("arrests-*"))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    yield root


@pytest.fixture
def data_server() -> Iterator[DataServer]:
    import threading

    srv = DataServer()
    threading.Thread(target=srv.httpd.serve_forever, args=(0.05,), daemon=True).start()  # stops within 50 ms
    yield srv
    srv.httpd.shutdown()
    srv.httpd.server_close()


def pytest_configure(config: pytest.Config) -> None:
    """Scratch folders in memory when the machine allows (``testkit.scratch``); xdist's workers inherit the
    ``TMPDIR`` set here, and a ``--basetemp`` given (as xdist gives its workers) is left alone."""
    if not config.option.basetemp:
        scratch.in_memory()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under ``tests/e2e/`` is marked ``e2e`` (``-m "not e2e"`` runs unit and integration). Files are
    put longest first, so the two workers finish together instead of one waiting on a long file handed out last
    (xdist hands out whole files in this order: ``--no-loadscope-reorder``)."""
    e2e = TESTS / "e2e"
    for item in items:
        if e2e in item.path.parents:
            item.add_marker(pytest.mark.e2e)
    items[:] = _longest_files_first(items)


def _longest_files_first(items: list[pytest.Item]) -> list[pytest.Item]:
    """A file with a test marked ``e2e`` or ``slow`` comes before every file without one; within each group, the
    file with more tests comes first; otherwise collection order holds (the sort is stable)."""
    count: dict[Path, int] = {}
    long: set[Path] = set()
    for item in items:
        count[item.path] = count.get(item.path, 0) + 1
        if item.get_closest_marker("slow") or item.get_closest_marker("e2e"):
            long.add(item.path)
    return sorted(items, key=lambda item: (item.path not in long, -count[item.path]))
