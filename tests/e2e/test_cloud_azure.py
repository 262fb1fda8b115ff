"""Data in Azure Blob Storage: ``az://`` against Azurite (Microsoft's own Azure Storage server, from npm) that
the test starts on 127.0.0.1, reached through adlfs and the Azure SDK as in production; never a mock.

Azurite is a Node program, not a Python package: the tests run where ``azurite-blob`` is on PATH (or named by
``MLOPS_AZURITE_BLOB``) and adlfs is installed (``pip install mlops-actions[cloud]``), and are skipped
elsewhere, saying so:

    npm install azurite && PATH=$PWD/node_modules/.bin:$PATH pip install adlfs && pytest tests/e2e/test_cloud_azure.py

Azurite keeps no blob versions, so ``version_id`` pinning is tested against S3 only (test_cloud_data.py).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.cloudkit import SPEC, _pin, _run

ACCOUNT = "devstoreaccount1"  # Azurite's well-known development account and key (public, not a secret)
KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def _azurite() -> str | None:
    return os.environ.get("MLOPS_AZURITE_BLOB") or shutil.which("azurite-blob")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def azurite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Azurite's blob service on 127.0.0.1; yields its connection string."""
    binary = _azurite()
    if binary is None:
        pytest.skip("Azurite is not installed (npm install azurite; put azurite-blob on PATH)")
    pytest.importorskip("adlfs", reason="adlfs is not installed (pip install mlops-actions[cloud])")
    port, folder = _free_port(), tmp_path_factory.mktemp("azurite")
    proc = subprocess.Popen([binary, "--blobHost", "127.0.0.1", "--blobPort", str(port), "--location", str(folder),
                             "--silent", "--skipApiVersionCheck"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(port, proc)
        yield (f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={KEY};"
               f"BlobEndpoint=http://127.0.0.1:{port}/{ACCOUNT};")
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _wait_for(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"azurite exited: {proc.stderr.read().decode()[-500:] if proc.stderr else ''}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("azurite did not start within 30 s")


@pytest.fixture
def blobs(azurite: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """The Azure SDK's client on Azurite; the process environment holds the same connection string."""
    from azure.storage.blob import BlobServiceClient

    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite)
    return BlobServiceClient.from_connection_string(azurite)


def _put(blobs, container: str, name: str, data: bytes) -> None:
    client = blobs.get_container_client(container)
    if not client.exists():
        client.create_container()
    client.upload_blob(name, data, overwrite=True)


def test_pinned_blob_is_fetched_into_the_cache(example_repo: Path, blobs, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    _put(blobs, "team-data", "arrests/2026-10.csv", data)
    sha = _pin(example_repo, "az://team-data/arrests/2026-10.csv", data)
    assert _run(example_repo, "validate") == 0
    assert _run(example_repo, "fetch", "arrests") == 0
    assert "fetched az://team-data/arrests/2026-10.csv" in capsys.readouterr().out
    assert (example_repo / ".mlops" / "cache" / "data" / sha).read_bytes() == data
    assert _run(example_repo, "refresh", "--verify", "arrests") == 0  # the pinned bytes still hold


def test_changed_blob_is_refused_and_nothing_is_written(example_repo: Path, blobs, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    _put(blobs, "team-changed", "arrests.csv", data)
    sha = _pin(example_repo, "az://team-changed/arrests.csv", data)
    _put(blobs, "team-changed", "arrests.csv", data + b"2026,32,White,Male,No,Yes,1,Yes\n")
    assert _run(example_repo, "fetch", "arrests") == 1
    err = capsys.readouterr().err
    assert f"{SPEC}:13:8: az://team-changed/arrests.csv: the object's sha256 is" in err
    assert f"but the spec pins {sha}" in err and "Traceback" not in err
    assert list((example_repo / ".mlops" / "cache" / "data").iterdir()) == []
    assert _run(example_repo, "refresh", "--verify", "arrests") == 1


def test_missing_blob_is_named(example_repo: Path, blobs, capsys) -> None:
    _put(blobs, "team-missing", "other.csv", b"x")
    _pin(example_repo, "az://team-missing/nope.csv", b"x")
    assert _run(example_repo, "fetch", "arrests") == 1
    assert "az://team-missing/nope.csv: no such object in the store" in capsys.readouterr().err
