"""Data in object storage: ``s3://`` against a real S3-compatible server (moto's server mode) that the tests
start on 127.0.0.1, reached through s3fs and botocore as in production; never a mock of the client."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import git
from testkit.cloudkit import SPEC, _pin, _run

REPO = "octo/arrests"
BRANCH = "mlops-actions/refresh-arrests"
AWS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
       "AWS_EC2_METADATA_DISABLED": "true"}


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


@pytest.fixture
def s3(moto_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[object]:
    """A boto3 client on the moto server; the process environment holds the same ordinary AWS variables."""
    for name, value in {**AWS, "AWS_ENDPOINT_URL": moto_url, "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "aws-credentials")}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    import boto3

    yield boto3.client("s3")


def _bucket(s3, name: str, versioned: bool = False) -> str:
    s3.create_bucket(Bucket=name)
    if versioned:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    return name


@pytest.mark.slow
def test_pinned_object_is_fetched_streamed_and_trained_on(example_repo: Path, s3, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    s3.put_object(Bucket=_bucket(s3, "team-data"), Key="arrests/2026-10.csv", Body=data)
    sha = _pin(example_repo, "s3://team-data/arrests/2026-10.csv", data)
    assert _run(example_repo, "validate") == 0
    assert _run(example_repo, "train", "arrests") == 1  # train never downloads
    assert "mlops-actions fetch arrests" in capsys.readouterr().err
    assert _run(example_repo, "fetch", "arrests") == 0
    assert "fetched s3://team-data/arrests/2026-10.csv" in capsys.readouterr().out
    assert (example_repo / ".mlops" / "cache" / "data" / sha).read_bytes() == data
    assert _run(example_repo, "fetch", "arrests") == 0 and "cached already" in capsys.readouterr().out
    assert _run(example_repo, "train", "--out", str(example_repo / "out"), "arrests") == 0
    record = (example_repo / "out" / "arrests" / "record.json").read_text()
    assert f'"sha256:{sha}"' in record and "s3://team-data/arrests/2026-10.csv" in record


def test_changed_object_is_refused_and_nothing_is_written(example_repo: Path, s3, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    bucket = _bucket(s3, "team-changed")
    s3.put_object(Bucket=bucket, Key="arrests.csv", Body=data)
    sha = _pin(example_repo, f"s3://{bucket}/arrests.csv", data)
    s3.put_object(Bucket=bucket, Key="arrests.csv", Body=data + b"2026,32,White,Male,No,Yes,1,Yes\n")
    assert _run(example_repo, "fetch", "arrests") == 1
    err = capsys.readouterr().err
    assert f"{SPEC}:13:8: s3://{bucket}/arrests.csv: the object's sha256 is" in err
    assert f"but the spec pins {sha}" in err and "Traceback" not in err
    assert list((example_repo / ".mlops" / "cache" / "data").iterdir()) == []  # no partial file left


@pytest.mark.slow
def test_versioned_object_reads_the_pinned_version_and_refresh_repins_the_latest(example_repo: Path, s3,
                                                                                 capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    bucket = _bucket(s3, "team-versioned", versioned=True)
    first = s3.put_object(Bucket=bucket, Key="arrests.csv", Body=data)["VersionId"]
    sha = _pin(example_repo, f"s3://{bucket}/arrests.csv", data, first)
    newer_data = data + b"2026,32,White,Male,No,Yes,1,Yes\n"
    newer = s3.put_object(Bucket=bucket, Key="arrests.csv", Body=newer_data)["VersionId"]
    assert _run(example_repo, "fetch", "arrests") == 0  # the pinned version, not the latest
    assert (example_repo / ".mlops" / "cache" / "data" / sha).read_bytes() == data
    assert _run(example_repo, "refresh", "--verify", "arrests") == 0  # the pinned version still holds
    assert _run(example_repo, "refresh", "arrests") == 0
    spec = (example_repo / SPEC).read_text()
    new_sha = hashlib.sha256(newer_data).hexdigest()
    assert f"  sha256: {new_sha}\n" in spec and f'  version_id: "{newer}"  # the reviewed version\n' in spec
    assert first not in spec and _run(example_repo, "validate") == 0
    assert _run(example_repo, "refresh", "arrests") == 0 and "up to date" in capsys.readouterr().out


def test_refresh_opens_a_pull_request_for_a_changed_object(example_repo: Path, s3, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    bucket = _bucket(s3, "team-refresh")
    s3.put_object(Bucket=bucket, Key="monthly.csv", Body=data)
    _pin(example_repo, f"s3://{bucket}/monthly.csv", data)
    changed = data + b"2026,40,Black,Female,Yes,Yes,0,No\n"
    s3.put_object(Bucket=bucket, Key="monthly.csv", Body=changed)
    env = {**os.environ, "GITHUB_REPOSITORY": REPO, "GITHUB_TOKEN": "bot-token", "MLOPS_GITHUB_WRITE_PAUSE": "0"}
    with GitHubEmulator(users=["mlops-bot:bot-token:write"], repo_dir=example_repo, repos=[REPO]) as gh:
        assert _run(example_repo, "refresh", "--publish", "arrests", env={**env, "GITHUB_API_URL": gh.url}) == 0
        [pull] = [p for p in gh.state.pulls.values() if p.head_ref == BRANCH]
    new = hashlib.sha256(changed).hexdigest()
    assert pull.title == f"Refresh data of arrests: sha256 {new[:12]}"
    assert f"s3://{bucket}/monthly.csv" in (pull.body or "") and new in git(example_repo, "show", f"{BRANCH}:{SPEC}")


def test_missing_credentials_name_the_variables(example_repo: Path, s3, monkeypatch, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    s3.put_object(Bucket=_bucket(s3, "team-creds"), Key="arrests.csv", Body=data)
    _pin(example_repo, "s3://team-creds/arrests.csv", data)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    for args in (("fetch", "arrests"), ("refresh", "arrests")):
        assert _run(example_repo, *args) == 1
        err = capsys.readouterr().err
        assert "no credentials for the store; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY" in err
        assert f"{SPEC}:13:8" in err and "Traceback" not in err


def test_missing_object_and_bucket_are_named(example_repo: Path, s3, capsys) -> None:
    data = (example_repo / "data" / "arrests.csv").read_bytes()
    _bucket(s3, "team-missing")
    _pin(example_repo, "s3://team-missing/nope.csv", data)
    assert _run(example_repo, "fetch", "arrests") == 1
    assert "s3://team-missing/nope.csv: no such object in the store" in capsys.readouterr().err


@pytest.mark.parametrize(("url", "variable"), [("gs://bucket/a.csv", "GOOGLE_APPLICATION_CREDENTIALS"),
                                               ("az://container/a.csv", "AZURE_STORAGE_CONNECTION_STRING")])
def test_other_stores_without_credentials_name_the_variable(example_repo: Path, monkeypatch, capsys,
                                                            url: str, variable: str) -> None:
    for name in ("GOOGLE_APPLICATION_CREDENTIALS", "AZURE_STORAGE_CONNECTION_STRING", "AZURE_STORAGE_ACCOUNT_NAME"):
        monkeypatch.delenv(name, raising=False)
    _pin(example_repo, url, b"x")
    assert _run(example_repo, "fetch", "arrests") == 1
    err = capsys.readouterr().err
    assert f"{url}: no credentials for the store; set {variable}" in err and "Traceback" not in err


@pytest.mark.parametrize(("line", "message"), [
    ("  url: s3://only-a-bucket\n  sha256: " + "a" * 64 + "\n", "is not valid here"),
    ("  url: ftp://host/a.csv\n  sha256: " + "a" * 64 + "\n", "is not valid here"),
    ("  path: data/arrests.csv\n  version_id: abc\n", "'url' is a dependency of 'version_id'"),
    ("  url: s3://b/a.csv\n  sha256: " + "a" * 64 + "\n  version_id: 'a b'\n", "is not valid here"),
])
def test_bad_cloud_pins_are_schema_errors(example_repo: Path, capsys, line: str, message: str) -> None:
    spec = (example_repo / SPEC).read_text().replace("  path: data/arrests.csv\n", line)
    (example_repo / SPEC).write_text(spec)
    assert _run(example_repo, "validate") == 1
    out = capsys.readouterr().out
    assert SPEC in out and message in out


def test_validate_and_plan_do_not_import_the_cloud_packages(example_repo: Path) -> None:
    _pin(example_repo, "s3://team/arrests.csv", b"x")
    code = ("import sys; from mlops_actions.cli import main; rc = main(['validate']); "
            "rc2 = main(['plan', '--format', 'json']); "
            "print(rc, rc2, sorted(m for m in ('fsspec', 's3fs', 'botocore', 'aiobotocore', 'dvc', 'pyarrow') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=example_repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "0 0 []"
