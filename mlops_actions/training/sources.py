"""Data where teams keep it: objects in S3, Google Cloud Storage and Azure Blob Storage.

``data.url`` may name ``s3://bucket/key``, ``gs://bucket/key`` or ``az://container/key``. They are read
through fsspec and the store's own filesystem package (s3fs, gcsfs, adlfs: the ``mlops-actions[cloud]``
extra), imported only when such a URL is read, so ``validate`` and ``plan`` never load them. As for HTTPS,
the bytes are pinned by ``data.sha256``; where the store keeps object versions, ``data.version_id`` pins
the version too (S3 ``VersionId``, GCS generation, Azure version id).

Credentials come from the ordinary environment of each store's SDK: for S3 botocore's chain
(``AWS_ACCESS_KEY_ID``/``AWS_SECRET_ACCESS_KEY``, a profile, or the web-identity role that
``aws-actions/configure-aws-credentials`` sets up from GitHub's OIDC token; ``AWS_ENDPOINT_URL`` for an
S3-compatible store), for GCS ``GOOGLE_APPLICATION_CREDENTIALS`` (``google-github-actions/auth`` sets it; or
``STORAGE_EMULATOR_HOST``, the address of a storage emulator, which Google's SDKs and gcsfs reach without one),
for Azure ``AZURE_STORAGE_CONNECTION_STRING`` or ``AZURE_STORAGE_ACCOUNT_NAME`` (with a key, a SAS token or
the identity of ``azure/login``). A missing credential is an ``InputError`` naming the variable to set.

Downloads stream: the sha256 is computed while the bytes go to a temporary file next to the target, so
memory stays O(chunk) whatever the object's size.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from mlops_actions.errors import InputError

CHUNK = 1 << 22
EXTRA_HINT = 'install the cloud extra: pip install "mlops-actions[cloud]"'
_VERSION_ID = re.compile(r"^[A-Za-z0-9._+/=:-]{1,1024}$")


@dataclass(frozen=True)
class Store:
    """One kind of object store: its URL scheme, fsspec protocol, package and credential variables."""

    scheme: str
    package: str
    credentials: str  # what to set, for the error message
    version_key: str  # the keyword the fsspec filesystem takes for a pinned version


STORES: Mapping[str, Store] = {
    "s3": Store("s3", "s3fs", "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or AWS_PROFILE, or a role from "
                "aws-actions/configure-aws-credentials with GitHub's OIDC token)", "version_id"),
    "gs": Store("gs", "gcsfs", "GOOGLE_APPLICATION_CREDENTIALS (google-github-actions/auth sets it)", "generation"),
    "az": Store("az", "adlfs", "AZURE_STORAGE_CONNECTION_STRING, or AZURE_STORAGE_ACCOUNT_NAME with "
                "AZURE_STORAGE_ACCOUNT_KEY / AZURE_STORAGE_SAS_TOKEN / the identity of azure/login", "version_id"),
}


@dataclass(frozen=True)
class Fetched:
    """An object downloaded to ``path``: its sha256, size and the version that was read (when known)."""

    path: Path
    sha256: str
    size: int
    version_id: str | None


def scheme_of(url: str) -> str:
    return url.partition("://")[0].lower() if "://" in url else ""


def is_cloud(url: str) -> bool:
    """True for ``s3://``, ``gs://`` and ``az://`` URLs (read through fsspec)."""
    return scheme_of(url) in STORES


def version_problem(version_id: str) -> str | None:
    """Why ``version_id`` is not an object version id a store could have issued, or None."""
    if not _VERSION_ID.match(version_id):
        return "an object version id is letters, digits and . _ + / = : - (at most 1024 characters)"
    return None


# -- the filesystem ----------------------------------------------------------------------------------------

def filesystem(url: str, *, versioned: bool = False) -> Any:
    """The fsspec filesystem for ``url``'s store; an ``InputError`` when the extra or a credential is missing."""
    store = STORES[scheme_of(url)]
    _check_environment(store, url)
    try:
        import fsspec

        cls = fsspec.get_filesystem_class(store.scheme)
    except ImportError:
        raise InputError(f"{url}: reading {store.scheme}:// needs the package {store.package}, which is not "
                         "installed", hint=EXTRA_HINT) from None
    except ValueError as exc:
        raise InputError(f"{url}: fsspec knows no {store.scheme}:// store ({exc})", hint=EXTRA_HINT) from None
    options: dict[str, Any] = {"skip_instance_cache": True}
    if versioned:
        options["version_aware"] = True
    if store.scheme == "gs" and _gcs_emulator():
        cls = _json_api_gcsfs()
        options["token"] = "anon"  # noqa: S105 - no credentials, as Google's own client talks to an emulator
    return cls(**options)


def _json_api_gcsfs() -> Any:
    """gcsfs's plain JSON-API filesystem. Its default (``GCSFS_EXPERIMENTAL_ZB_HNS_SUPPORT``, on since 2026)
    first asks the gRPC storage-control API for each bucket's layout, which an emulator does not serve: every
    lookup then retries for 60 s before falling back to the JSON API."""
    from gcsfs.core import GCSFileSystem

    return GCSFileSystem


def _gcs_emulator() -> bool:
    """STORAGE_EMULATOR_HOST names a GCS emulator and no credentials are given: talk to it anonymously."""
    return bool(os.environ.get("STORAGE_EMULATOR_HOST")) and not os.environ.get("GOOGLE_APPLICATION_CREDENTIALS")


def _check_environment(store: Store, url: str) -> None:
    """Stores whose SDK would silently fall back to anonymous access are checked here, before any request."""
    env = os.environ
    if store.scheme == "az" and not (env.get("AZURE_STORAGE_CONNECTION_STRING") or
                                     env.get("AZURE_STORAGE_ACCOUNT_NAME")):
        raise _no_credentials(store, url)
    if store.scheme == "gs" and not (env.get("GOOGLE_APPLICATION_CREDENTIALS") or env.get("STORAGE_EMULATOR_HOST")):
        raise _no_credentials(store, url)  # STORAGE_EMULATOR_HOST: Google's SDKs talk to an emulator, no credentials


def _no_credentials(store: Store, url: str) -> InputError:
    return InputError(f"{url}: no credentials for the store; set {store.credentials}",
                      hint="in GitHub Actions, give the job credentials (docs/data-at-scale.md, \"Data where "
                           "teams keep it\"); locally, export the variables")


def _key(url: str) -> str:
    """The store path fsspec takes (``bucket/key``)."""
    return url.split("://", 1)[1]


@contextmanager
def _errors(url: str, version_id: str | None) -> Iterator[None]:
    """Store failures as ``InputError``s naming the URL (and version) and what to do."""
    store = STORES[scheme_of(url)]
    what = f"{url} (version {version_id})" if version_id else url
    try:
        yield
    except FileNotFoundError:
        raise InputError(f"{what}: no such object in the store",
                         hint="check data.url (and data.version_id) in the model spec") from None
    except PermissionError as exc:
        raise InputError(f"{what}: access denied ({_first_line(exc)})",
                         hint="give the job's credentials read access to the object (e.g. s3:GetObject, "
                              "s3:GetObjectVersion)") from None
    except InputError:
        raise
    except Exception as exc:  # botocore/google/azure raise their own types; the names tell what it was
        if type(exc).__name__ in ("NoCredentialsError", "DefaultCredentialsError", "ClientAuthenticationError"):
            raise _no_credentials(store, url) from None
        raise InputError(f"{what}: cannot read it: {type(exc).__name__}: {_first_line(exc)}",
                         hint="check data.url, the credentials and the runner's network access, then retry"
                         ) from None


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


# -- reading -------------------------------------------------------------------------------------------------

def latest_version(url: str) -> str | None:
    """The version id of the object's current version (None when the store keeps no versions)."""
    fs = filesystem(url, versioned=True)
    with _errors(url, None):
        info = fs.info(_key(url))
    found = info.get("VersionId") or info.get("generation") or info.get("version_id")
    return str(found) if found not in (None, "", "null") else None


def _open(fs: Any, url: str, version_id: str | None) -> IO[bytes]:
    store = STORES[scheme_of(url)]
    extra = {store.version_key: version_id} if version_id else {}
    handle: IO[bytes] = fs.open(_key(url), "rb", **extra)
    return handle


def read_bytes(url: str, version_id: str | None = None, *, limit: int | None = None) -> bytes:
    """The object's bytes (at ``version_id`` when given); ``limit`` refuses larger objects."""
    fs = filesystem(url, versioned=version_id is not None)
    with _errors(url, version_id), _open(fs, url, version_id) as fh:
        data: bytes = fh.read() if limit is None else fh.read(limit + 1)
    if limit is not None and len(data) > limit:
        raise InputError(f"{url}: the object is larger than {limit:,} bytes")
    return data


def download(url: str, directory: Path, version_id: str | None = None) -> Fetched:
    """Stream the object into a new temporary file in ``directory``, hashing on the way (O(chunk) memory).

    The caller renames or deletes ``Fetched.path``."""
    fs = filesystem(url, versioned=version_id is not None)
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out, _errors(url, version_id), _open(fs, url, version_id) as fh:
            digest, size = _copy(fh, out)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Fetched(Path(temporary), digest, size, version_id)


def _copy(source: IO[bytes], target: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: source.read(CHUNK), b""):
        digest.update(chunk)
        target.write(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def download_http(url: str, directory: Path, timeout: float = 60) -> Fetched:
    """Stream an http(s) URL into a new temporary file in ``directory`` (see ``download``)."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise InputError(f"{url}: only http, https, s3, gs and az URLs can be fetched")
    directory.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=directory, prefix=".partial-")
    try:
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310
            digest, size = _copy(response, out)
    except urllib.error.HTTPError as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"{url}: the server answered {exc.code} {exc.reason}",
                         hint="check data.url in the model spec (and that the runner may read it)") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(f"{url}: cannot fetch it: {getattr(exc, 'reason', exc)}",
                         hint="check data.url and the runner's network access, then retry") from None
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return Fetched(Path(temporary), digest, size, None)


def sha256_file(path: Path) -> str:
    """sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()
