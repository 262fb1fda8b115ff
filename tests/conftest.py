"""The root conftest: registers the shared fixtures of ``testkit.plugin`` for every test under ``tests/``
(``unit/``, ``integration/``, ``e2e/`` and any file still at the top). Helpers are imported from ``testkit``,
never from ``conftest``."""

pytest_plugins = ["testkit.plugin"]
