"""Versions read after ``pip install -r`` in the running process are the new ones: the install forgets every
cached distribution lookup, the fingerprint's included (else a model's record and fingerprint would name the
version installed before its requirements)."""

from __future__ import annotations

from mlops_actions.training import fingerprint
from mlops_actions.training.requirements import metadata_cache_clear


def test_an_install_forgets_the_fingerprints_cached_versions() -> None:
    assert fingerprint.installed_version("numpy") != fingerprint.NOT_INSTALLED
    fingerprint.library_versions("sklearn.linear_model.LogisticRegression")
    assert fingerprint.installed_version.cache_info().currsize > 0
    metadata_cache_clear()
    for cached in (fingerprint.installed_version, fingerprint.distribution_of, fingerprint._library_names):
        assert cached.cache_info().currsize == 0
