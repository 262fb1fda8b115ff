"""``register`` and ``deploy`` of many models in one push (issue 15): GitHub's secondary rate limit on
content-creating requests is kept by pacing, never met (the emulator refuses the 31st write within a quarter second
and counts zero refusals), and a run cut off half way is finished by a rerun with nothing made twice.

``MLOPS_SCALE_MODELS=1000`` runs the issue's size (default 16: the same code paths, in seconds)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit import scalekit
from testkit.scalekit import Fleet, Template, build_template, git, open_fleet, promote_all, scale

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    return build_template(tmp_path_factory.mktemp("fleet"), scale())


@pytest.fixture
def fleet(template: Template, tmp_path: Path) -> Iterator[Fleet]:
    yield from open_fleet(template, tmp_path)


def _releases(fleet: Fleet) -> Counter[str]:
    return Counter(r.body["tag_name"] for r in fleet.gh.requests
                   if r.method == "POST" and r.path.endswith("/releases") and r.status == 201)


def _created(fleet: Fleet, suffix: str) -> int:
    return sum(1 for r in fleet.gh.requests if r.method == "POST" and r.path.endswith(suffix) and r.status == 201)


def _registered(fleet: Fleet) -> None:
    expected = [f"{m}@v1" for m in fleet.template.models]
    assert fleet.tags() == expected
    assert sorted(_releases(fleet)) == expected and set(_releases(fleet).values()) == {1}
    assert _created(fleet, "/git/refs") == len(expected)  # one tag ref each, never a second


def test_register_every_model_paced_under_the_secondary_rate_limit(fleet: Fleet) -> None:
    start = time.monotonic()
    assert fleet.run("register") == 0
    elapsed = time.monotonic() - start
    _registered(fleet)
    assert fleet.gh.rate_limit_refusals() == 0
    writes = len(fleet.writes())
    assert writes >= 6 * len(fleet.template.models)  # tag, ref, release, three assets each
    requests, seconds = scalekit.CLIENT_WINDOW
    assert elapsed >= writes / requests * seconds - 1  # paced (MLOPS_GITHUB_WRITE_LIMITS)
    reads = len(fleet.gh.requests) - writes
    assert reads <= 4 * len(fleet.template.models) + 60  # GitHub's hourly budget: about 3 reads a model
    print(f"register: {len(fleet.template.models)} models, {writes} writes, {reads} reads in {elapsed:.1f} s")


def test_deploy_every_model_paced_under_the_secondary_rate_limit(fleet: Fleet) -> None:
    assert fleet.run("register") == 0
    merge = promote_all(fleet)
    start, before = time.monotonic(), len(fleet.gh.requests)
    assert fleet.run("deploy", sha=merge) == 0
    elapsed = time.monotonic() - start
    n = len(fleet.template.models)
    reads = [r for r in fleet.gh.requests[before:] if r.method == "GET"]
    assert sum("/pulls/" in r.path for r in reads) <= 10  # one merge's PRs are read once, not once per model
    assert len(reads) <= 5 * n + 60
    assert _created(fleet, "/deployments") == n and _created(fleet, "/statuses") == n
    assert fleet.gh.rate_limit_refusals() == 0
    assert fleet.run("deploy", sha=merge) == 0  # every model's current state is read, past the newest 100
    assert _created(fleet, "/deployments") == n
    print(f"deploy: {n} models, {len(reads)} reads in {elapsed:.1f} s")


def test_register_cut_off_half_way_is_finished_by_a_rerun(fleet: Fleet) -> None:
    n = len(fleet.template.models)
    fleet.gh.add_fault({"method": "POST", "path": "*/releases/*/assets", "status": 503, "after": 3 * n // 2,
                        "count": 0})  # every upload from the middle on fails: the job ends there
    assert fleet.run("register", MLOPS_GITHUB_ATTEMPTS="1") != 0
    assert 0 < len(fleet.tags()) < n
    fleet.gh.app.plan.faults.pop()  # GitHub is back
    time.sleep(scalekit.EMULATOR_LIMIT[1])  # the rerun comes later (a new job): the first run's writes left the window
    assert fleet.run("register") == 0
    _registered(fleet)
    bodies = [c.body for c in fleet.gh.comments("acme/fleet", fleet.pr) if "mlops-actions:register" in c.body]
    assert len(bodies) == 1 and fleet.gh.rate_limit_refusals() == 0


def test_deploy_cut_off_between_a_deployment_and_its_status_is_completed_not_duplicated(fleet: Fleet) -> None:
    n = len(fleet.template.models)
    assert fleet.run("register") == 0
    merge = promote_all(fleet)
    fleet.gh.add_fault({"method": "POST", "path": "*/deployments/*/statuses", "status": 503, "after": n // 2,
                        "count": 0})
    assert fleet.run("deploy", sha=merge, MLOPS_GITHUB_ATTEMPTS="1") != 0
    assert _created(fleet, "/deployments") == n // 2 + 1  # the last one has no status
    fleet.gh.app.plan.faults.pop()
    assert fleet.run("deploy", sha=merge) == 0
    made = [r.response["id"] for r in fleet.gh.requests
            if r.method == "POST" and r.path.endswith("/deployments") and r.status == 201]
    assert len(made) == n and len(set(json.dumps(r.body["payload"]["model"]) for r in fleet.gh.requests
                                      if r.method == "POST" and r.path.endswith("/deployments"))) == n
    statuses = Counter(r.path for r in fleet.gh.requests if r.path.endswith("/statuses") and r.status == 201)
    assert len(statuses) == n and set(statuses.values()) == {1}


def test_current_state_is_read_past_the_newest_hundred_deployments(tmp_path: Path) -> None:
    """130 models deployed once each: the newest 100 deployments miss 30 of them, so ``deploy`` (which names the
    models it wants) reads on, page after page, until every one is found; without models, 100 are read."""
    from mlops_actions.github.client import ClientConfig
    from mlops_actions.github.pacing import Window
    from mlops_actions.github.repo import GitHubRepo
    from mlops_actions.github.values import DeploymentRequest
    from mlops_actions.registry.promotion import current_state, read_deployments, read_raw
    from mlops_actions.testing.github_emulator import GitHubEmulator

    models = [f"d{i:03d}" for i in range(130)]
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "commit", "-q", "--allow-empty", "-m", "initial")
    with GitHubEmulator(users=["bot:bot-token:write"], repo_dir=tmp_path, repos=["acme/many"]) as gh:
        bot = GitHubRepo.open(ClientConfig(api_url=gh.url, token="bot-token", repository="acme/many",
                                           seconds_between_writes=None, write_limits=(Window(10_000, 1.0),)))
        for model in models:
            request = DeploymentRequest("main", "staging", payload={"model": model, "version": "v1"})
            made = bot.create_deployment(request)
            bot.set_deployment_status(made.id, "success")
        assert len(read_raw(bot, ["staging"])["staging"]) == 100
        found = read_deployments(bot, ["staging"], models)["staging"]
        assert current_state(found) == {m: "v1" for m in models}
