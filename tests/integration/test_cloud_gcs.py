"""Data in Google Cloud Storage: ``gs://`` against a real GCS emulator (the ``gcp-storage-emulator`` package's
HTTP server, speaking GCS's JSON API) that the tests start on 127.0.0.1, reached through gcsfs as in production
(``STORAGE_EMULATOR_HOST``, the variable Google's SDKs read); never a mock of the client.

The emulator keeps one generation per object and ignores ``generation`` on reads (it answers the latest bytes),
so version pinning (``data.version_id``) is tested against S3 only (test_cloud_data.py); a changed object is
still refused by its sha256 here."""

from __future__ import annotations

import hashlib
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.cloudkit import SPEC, _pin, _run

BUCKET = "team-data"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def gcs_url() -> Iterator[str]:
    pytest.importorskip("gcsfs", reason="gcsfs is not installed (pip install mlops-actions[test])")
    from gcp_storage_emulator.server import create_server

    port = _free_port()
    server = create_server("127.0.0.1", port, in_memory=True, default_bucket=BUCKET)
    server.start()
    # a client that closes a connection early (a refused download) makes socketserver print a traceback to
    # stderr, where the tests read the CLI's messages: the emulator's connection errors are not under test
    server._api._httpd.handle_error = lambda request, address: None
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def gcs(gcs_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[object]:
    """gcsfs on the emulator; the process environment names it as a job's would (no credentials needed)."""
    monkeypatch.setenv("STORAGE_EMULATOR_HOST", gcs_url)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    from gcsfs.core import GCSFileSystem  # the JSON API, as mlops-actions reads an emulator (sources.py)

    yield GCSFileSystem(skip_instance_cache=True, token="anon")


def _put(gcs, key: str, data: bytes) -> str:
    with gcs.open(f"{BUCKET}/{key}", "wb") as out:
        out.write(data)
    return f"gs://{BUCKET}/{key}"


def test_pinned_object_is_fetched_into_the_cache(example_repo: Path, gcs, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    url = _put(gcs, "arrests/2026-10.csv", data)
    sha = _pin(example_repo, url, data)
    assert _run(example_repo, "validate") == 0
    assert _run(example_repo, "fetch", "arrests") == 0
    assert f"fetched {url}" in capsys.readouterr().out
    assert (example_repo / ".mlops" / "cache" / "data" / sha).read_bytes() == data
    assert _run(example_repo, "fetch", "arrests") == 0 and "cached already" in capsys.readouterr().out


def test_changed_object_is_refused_and_nothing_is_written(example_repo: Path, gcs, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    url = _put(gcs, "changed.csv", data)
    sha = _pin(example_repo, url, data)
    _put(gcs, "changed.csv", data + b"2026,32,White,Male,No,Yes,1,Yes\n")
    assert _run(example_repo, "fetch", "arrests") == 1
    err = capsys.readouterr().err
    assert f"{SPEC}:13:8: {url}: the object's sha256 is" in err
    assert f"but the spec pins {sha}" in err and "Traceback" not in err
    assert list((example_repo / ".mlops" / "cache" / "data").iterdir()) == []  # no partial file left
    assert hashlib.sha256(data).hexdigest() == sha


def test_missing_object_is_named(example_repo: Path, gcs, capsys) -> None:
    _pin(example_repo, f"gs://{BUCKET}/nope.csv", b"x")
    assert _run(example_repo, "fetch", "arrests") == 1
    err = capsys.readouterr().err
    assert f"gs://{BUCKET}/nope.csv: no such object in the store" in err and "Traceback" not in err
