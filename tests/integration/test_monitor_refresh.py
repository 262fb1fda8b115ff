"""The core of `refresh`: a local HTTP server on loopback serves the data; the spec pin is updated in place."""

from __future__ import annotations

import hashlib

import pytest

from mlops_actions.errors import InputError, RefusedError
from mlops_actions.monitoring.reference import load_bytes
from mlops_actions.monitoring.refresh import check_source, fetch, store_in_cache, updated_spec
from testkit import DataServer

OLD = hashlib.sha256(b"a,b\n1,2\n").hexdigest()
NEW_BYTES = b"a,b\n1,2\n3,4\n"
NEW = hashlib.sha256(NEW_BYTES).hexdigest()

SPEC = f"""\
# yaml-language-server: $schema=../../schemas/model-spec.schema.json
name: churn   # the model
task: classification
data:
  url: https://example.org/churn.csv  # monthly export
  sha256: "{OLD}"   # pinned: refresh updates this
  format: csv
  target: churned
  features: {{tenure: numeric}}
estimator:
  class: sklearn.linear_model.LogisticRegression
metrics:
  accuracy: higher
gates:
  - metric: accuracy
    min: 0.7
"""


@pytest.fixture
def server(data_server: DataServer) -> DataServer:
    """The loopback data server, answering the changed bytes unless a test says otherwise."""
    data_server.answers = [NEW_BYTES]
    return data_server


def test_changed_source_is_read_twice_and_reported(server: DataServer) -> None:
    check = check_source(server.url, OLD)
    assert check.changed and check.current == NEW and check.data == NEW_BYTES
    assert server.requests == 2


def test_fetched_bytes_go_to_the_cache_train_and_monitor_read(server: DataServer, tmp_path) -> None:
    check = check_source(server.url, OLD)
    relpath = store_in_cache(tmp_path, check)
    assert relpath == f".mlops/cache/data/{NEW}"
    assert (tmp_path / relpath).read_bytes() == NEW_BYTES
    assert [p.name for p in (tmp_path / relpath).parent.iterdir()] == [NEW]  # no partial file left
    assert load_bytes(tmp_path, server.url, f"sha256:{NEW}", "churn@v2") == NEW_BYTES


def test_unchanged_source(server: DataServer) -> None:
    assert not check_source(server.url, NEW, expect_pin=True).changed


def test_different_bytes_on_the_second_read_are_refused(server: DataServer) -> None:
    server.answers = [NEW_BYTES, b"something else"]
    with pytest.raises(RefusedError, match="two reads returned different bytes"):
        check_source(server.url, OLD)


def test_a_pin_that_does_not_match_the_first_read_is_refused_when_expected(server: DataServer) -> None:
    with pytest.raises(RefusedError, match=f"sha256 {NEW}, but the spec pins {OLD}"):
        check_source(server.url, OLD, expect_pin=True)
    assert server.requests == 1


def test_failing_url_is_a_clear_error(server: DataServer) -> None:
    server.answers = [404]
    with pytest.raises(InputError, match="the server answered 404"):
        fetch(server.url)
    server.httpd.shutdown()
    server.httpd.server_close()
    with pytest.raises(InputError, match="cannot fetch it"):
        fetch(server.url, timeout=2)
    with pytest.raises(InputError, match="only http, https, s3, gs and az"):
        fetch("file:///etc/passwd")


def test_updated_spec_changes_only_the_hash() -> None:
    updated = updated_spec(SPEC, NEW, "models/churn/model.yaml")
    assert updated == SPEC.replace(OLD, NEW)
    plain = SPEC.replace(f'"{OLD}"', OLD)
    assert updated_spec(plain, NEW, "m.yaml") == plain.replace(OLD, NEW)


def test_updated_spec_in_a_flow_mapping_and_refusals() -> None:
    flow = f"name: m\ndata: {{url: 'https://x.org/d.csv', sha256: {OLD}, format: csv}}\n"
    assert updated_spec(flow, NEW, "m.yaml") == flow.replace(OLD, NEW)
    with pytest.raises(InputError, match="not pinned by url"):
        updated_spec("name: m\ndata:\n  path: data/x.csv\n", NEW, "m.yaml")
