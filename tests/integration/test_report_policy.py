"""A pull request is judged by the rules before it: ``report`` applies the policy at the base commit (gates,
group sizes, baseline, promotion approvals), not the PR's own mlops.yaml, and says so when the PR edits it.
Real git repositories; the verdict is the one ``register`` would give (it reads the policy in force)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from mlops_actions.cli import main
from testkit.reportkit import write_results

NOTE = "this pull request changes mlops.yaml: gates, group sizes, baselines and promotions are judged here"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def _report(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["-C", str(root), "report", "--base", "main", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out + captured.err


def _edit_policy(root: Path, old: str, new: str) -> None:
    policy = root / "mlops.yaml"
    text = policy.read_text()
    assert old in text
    policy.write_text(text.replace(old, new))
    _git(root, "commit", "-qam", f"policy: {old!r} -> {new!r}")


@pytest.fixture
def branch(example_repo: Path) -> Path:
    _git(example_repo, "checkout", "-qb", "feature")
    return example_repo


def test_a_pr_lowering_the_policy_gate_is_still_judged_by_the_base_gate(branch: Path, capsys) -> None:
    _edit_policy(branch, "min: 0.6", "min: 0.1")
    write_results(branch / "mlops-out", metrics={"accuracy": 0.5})
    code, out = _report(branch, capsys)
    assert code == 1, out
    assert "0.5 is below the minimum 0.6" in out
    assert "0.1" not in out.split(NOTE)[0].split("accuracy")[-1]  # the PR's own minimum is nowhere applied
    assert NOTE in out and "as register and deploy will judge them" in out


def test_the_same_results_pass_when_the_base_itself_has_the_lower_gate(example_repo: Path, capsys) -> None:
    _edit_policy(example_repo, "min: 0.6", "min: 0.1")  # on main: the rule in force
    _git(example_repo, "checkout", "-qb", "feature")
    (example_repo / "README.md").write_text("a change that is not the policy\n")
    _git(example_repo, "add", "README.md")
    _git(example_repo, "commit", "-qm", "docs")
    write_results(example_repo / "mlops-out", metrics={"accuracy": 0.5})
    code, out = _report(example_repo, capsys)
    assert code == 0, out
    assert NOTE not in out


def test_a_pr_raising_the_gate_does_not_fail_itself_before_the_rule_is_in_force(branch: Path, capsys) -> None:
    _edit_policy(branch, "min: 0.6", "min: 0.9")
    write_results(branch / "mlops-out", metrics={"accuracy": 0.8})
    code, out = _report(branch, capsys)
    assert code == 0, out
    assert NOTE in out


def test_a_pr_lowering_production_approvals_is_previewed_with_the_base_rule(branch: Path, capsys) -> None:
    _edit_policy(branch, 'required: 2\n      teams: ["acme/ml-leads"]', "required: 0")
    (branch / "environments" / "production.yaml").write_text("arrests: v1\n")
    _git(branch, "commit", "-qam", "promote")
    _, out = _report(branch, capsys, "--results", "no-results")
    assert "`production`: 2 approvals from `@acme/ml-leads`" in out, out
    assert NOTE in out


def test_an_invalid_policy_in_the_pr_is_still_refused_with_its_place(branch: Path, capsys) -> None:
    (branch / "mlops.yaml").write_text("environments: 3\n")
    _git(branch, "commit", "-qam", "break the policy")
    write_results(branch / "mlops-out")
    code, out = _report(branch, capsys)
    assert code == 1
    assert "mlops.yaml: the policy is not valid" in out


def test_an_invalid_policy_at_the_base_applies_the_defaults_and_says_so(example_repo: Path, capsys) -> None:
    (example_repo / "mlops.yaml").write_text("environments: 3\n")
    _git(example_repo, "commit", "-qam", "a broken policy on main")
    _git(example_repo, "checkout", "-qb", "feature")
    _git(example_repo, "checkout", "HEAD~1", "--", "mlops.yaml")
    _git(example_repo, "commit", "-qam", "repair it")
    write_results(example_repo / "mlops-out", metrics={"accuracy": 0.5})
    code, out = _report(example_repo, capsys)
    assert "mlops.yaml at main is not valid" in out and "applies the default rules" in out
    assert "0.5 is below the minimum 0.6" not in out  # the default policy has no gate; the spec's still apply
    assert code in (0, 1)
