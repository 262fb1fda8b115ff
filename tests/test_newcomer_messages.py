"""Messages a newcomer meets, as the README quotes them: a ``--sha`` that is not in the clone names the
checkout depth the workflows use, and a deploy refusal names a first deployment without a stray ``new:``."""

from __future__ import annotations

from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.registry.promotion import Change

ENV = {"GITHUB_TOKEN": "not-a-real-token", "GITHUB_REPOSITORY": "your-org/arrests",
       "GITHUB_API_URL": "http://127.0.0.1:9"}


@pytest.mark.parametrize("command", ["register", "deploy"])
def test_a_sha_not_in_the_clone_asks_for_the_full_history(example_repo: Path, command: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(example_repo), command, "--sha", "deadbeef"], env=ENV) == 2
    err = capsys.readouterr().err
    assert "'deadbeef' does not name a commit" in err
    assert "fetch-depth: 0" in err and "fetch-depth: 2" not in err


def test_a_first_deployment_reads_as_an_arrow_to_the_version() -> None:
    assert Change("production", "arrests", "v1", None).describe() == "production: arrests → v1"
    assert Change("production", "arrests", "v2", "v1").describe() == "production: arrests v1 → v2"
