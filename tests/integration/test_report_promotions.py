"""The report's promotion preview: a PR editing environments/<env>.yaml shows what changes against what runs
now -- offline from the files at the base ref, with --publish from GitHub Deployments (the emulator).
Real git repositories, real version tags with records made by register's own functions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from mlops_actions.cli import main
from mlops_actions.convention.model import ApprovalRule, Policy
from mlops_actions.github.client import ClientConfig
from mlops_actions.github.repo import GitHubRepo
from mlops_actions.github.values import DeploymentRequest
from mlops_actions.registry.approval_words import approval_words
from mlops_actions.registry.approvals import Approver
from mlops_actions.registry.preview import (
    BASE_FILES,
    FIRST,
    GITHUB,
    PROMOTION,
    REDEPLOY,
    ROLLBACK,
    CurrentState,
    KnownVersions,
    PromotionPreview,
    kind_of,
    preview,
)
from mlops_actions.registry.promotion import Change, Deployed
from mlops_actions.registry.records import VersionRef
from mlops_actions.registry.versioning import Provenance, tag_message, version_record
from mlops_actions.reporting.comment import MARKER, ReportContext, render_comment, render_summary
from mlops_actions.reporting.markdown import md_text
from mlops_actions.reporting.promotions import approval_line, promotions
from mlops_actions.testing.github_emulator import GitHubEmulator
from testkit import git
from testkit.reportkit import HOSTILE, assert_safe_markdown, write_results

GH_REPO = "acme/arrests"
USERS = ["mlops-bot:bot-token:write", "author:author-token:write"]


def _fingerprint(root: Path) -> str:
    from mlops_actions.training.fingerprint import snapshots_worktree

    return snapshots_worktree(root, ["arrests"])["arrests"].fingerprint.value


def _trained(root: Path, number: int) -> dict:
    """What `train` writes as record.json; the fingerprint of the work tree, so nothing needs retraining."""
    return {"record_version": 1, "model": "arrests", "task": "classification", "fingerprint": _fingerprint(root),
            "data": [{"path": "data/arrests.csv", "hash": "git:" + "ab" * 20, "rows": 5226}],
            "libraries": {"scikit-learn": "1.5.2"},
            "artifact": {"file": "model.skops", "sha256": "cd" * 32, "format": "skops"},
            "metrics": {"accuracy": round(0.80 + number / 100, 4), "log_loss": round(0.50 - number / 100, 4)},
            "metric_directions": {"accuracy": "higher", "log_loss": "lower"}}


def register(root: Path, number: int, *, gates: str = "pass", edit: dict | None = None) -> None:
    """Tag ``arrests@v<number>`` on HEAD with the record register writes; ``edit`` changes it by hand after."""
    commit = git(root, "rev-parse", "HEAD")
    provenance = Provenance(commit, number + 10, (Approver("alice", commit, "2026-11-19T09:00:00Z"),), "carol",
                            None, f"2026-11-2{number}T10:00:00Z")
    message = tag_message(version_record(_trained(root, number), number, provenance, {"verdict": gates}))
    if edit:
        message = json.dumps({**json.loads(message), **edit})
    subprocess.run(["git", "tag", "-a", f"arrests@v{number}", "-F", "-"], cwd=root, input=message, text=True,
                   check=True, capture_output=True)


def set_env(root: Path, env: str, text: str) -> None:
    (root / "environments" / f"{env}.yaml").write_text(text)
    git(root, "commit", "-q", "-am", f"{env}: {text.strip()}")


@pytest.fixture
def repo(example_repo: Path) -> Path:
    """arrests v1..v3 registered; main runs v2 in staging and production; a branch `promote` to edit on."""
    for number in (1, 2, 3):
        register(example_repo, number)
    set_env(example_repo, "staging", "arrests: v2\n")
    set_env(example_repo, "production", "arrests: v2\n")
    git(example_repo, "checkout", "-q", "-b", "promote")
    return example_repo


def report(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    capsys.readouterr()
    code = main(["-C", str(root), "report", "--base", "main", "--results", "no-results", *args])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    return code, captured.out


def test_staging_promotion_preview_offline(repo: Path, capsys) -> None:
    set_env(repo, "staging", "arrests: v3\n")
    code, out = report(repo, capsys)
    assert code == 0, out
    assert out.splitlines()[1] == ("## ✅ pass · mlops-actions report: **pass** — 0 models retrained · 0 gates failed "
                                   "· 0 warnings · 1 environment change · ℹ️ the merge needs approvals: 1 for "
                                   "`staging`")
    assert "### ✅ pass · Promotions" in out
    assert "This pull request edits `environments/staging.yaml`." in out
    assert "the environment files at the base ref `main` (offline" in out
    assert "| `staging`     | `arrests` | `v2` → `v3` ⏫ promotion | ✅ tag with a valid record | ✅ pass" in out
    assert "— none required" in out
    assert "No model needs retraining.\n" in out and "nothing to review" not in out
    assert "<summary>Key metrics: staging arrests v2 → v3</summary>" in out
    assert "| accuracy  | higher   | 0.82         | 0.83   | +0.01    | +1.2%      | ▲ better |" in out
    assert "| log\\_loss | lower    | 0.48         | 0.47   | -0.01    | -2.1%      | ▲ better |" in out
    assert "production" not in out.split("Promotions")[1].split("Approvals")[0]  # its file did not change
    assert_safe_markdown(out)


def test_rollback_is_shown_as_rollback_with_the_order_rule_and_approvals(repo: Path, capsys) -> None:
    set_env(repo, "production", "arrests: v1\n")
    code, out = report(repo, capsys)
    assert code == 0, out
    assert "`v2` → `v1` ⏪ rollback" in out
    assert "⏳ needs `staging`: checked at deploy against GitHub Deployments" in out
    approvals = out.split("**Approvals the merge will need**")[1]
    assert "- `production`: 2 approvals from `@acme/ml-leads`; stale approvals don't count" in approvals
    assert "the PR author never counts" in approvals and "not part of this verdict" in out
    assert "| `v2` (now)   | `v1`   |" in out
    assert "| log\\_loss | lower    | 0.48         | 0.49   | +0.01    | +2.1%      | ▼ worse |" in out


def test_staging_approvals_name_the_codeowners_at_the_base(repo: Path, capsys) -> None:
    set_env(repo, "staging", "arrests: v3\n")
    _, out = report(repo, capsys)
    assert ("- `staging`: 1 approval from a code owner of `environments/staging.yaml` (`@acme/ml-leads` per "
            "CODEOWNERS at the base ref); stale approvals don't count") in out


def test_a_promotion_pr_cannot_name_its_own_codeowners(repo: Path, capsys) -> None:
    (repo / ".github" / "CODEOWNERS").write_text("/environments/ @author\n")
    set_env(repo, "staging", "arrests: v3\n")
    _, out = report(repo, capsys)
    assert "`@acme/ml-leads` per CODEOWNERS at the base ref" in out and "@author" not in out


def test_unknown_version_fails_with_a_message(repo: Path, capsys) -> None:
    set_env(repo, "staging", "arrests: v9\n")
    code, out = report(repo, capsys)
    assert code == 1
    assert out.startswith(MARKER + "\n## ❌ fail · mlops-actions report: **fail**")
    assert "1 environment change (1 refused)" in out
    assert "❌ unknown: no such tag" in out
    assert "**The deploy step will refuse this merge**" in out
    assert "- ❌ `staging` `arrests`: " + md_text("version arrests@v9 does not exist (no such tag here); register it "
                                                 "first") in out


def test_hand_edited_record_is_not_trusted(repo: Path, capsys) -> None:
    register(repo, 4, edit={"metrics": {"accuracy": 0.99}, "version": "v5"})  # edited: says v5 on tag v4
    set_env(repo, "staging", "arrests: v4\n")
    code, out = report(repo, capsys)
    assert code == 1
    assert "❌ not trusted: invalid record" in out
    assert md_text("version arrests@v4 is not trusted: the record says version v5, the tag says v4") in out
    assert "0.99" not in out  # nothing from an untrusted record is shown


def test_a_version_that_failed_its_gates_fails(repo: Path, capsys) -> None:
    register(repo, 4, gates="fail")
    set_env(repo, "staging", "arrests: v4\n")
    code, out = report(repo, capsys)
    assert code == 1 and md_text("version arrests@v4 failed its gates when registered") in out
    assert "| ❌ fail" in out


def test_a_version_that_warned_warns(repo: Path, capsys) -> None:
    register(repo, 4, gates="warn")
    set_env(repo, "staging", "arrests: v4\n")
    code, out = report(repo, capsys)
    assert code == 0 and out.startswith(MARKER + "\n## ⚠️ warn")


def test_first_deployment_and_removal(repo: Path, capsys) -> None:
    set_env(repo, "production", "{}\n")
    set_env(repo, "staging", "arrests: v2\nchurn: v1\n")
    code, out = report(repo, capsys)
    assert code == 1  # churn has no version at all
    assert "→ `v1` 🆕 first deployment" in out
    assert "- `production`: `arrests` `v2` is no longer named; deploy removes nothing" in out


def test_an_edit_that_changes_no_version_deploys_nothing(repo: Path, capsys) -> None:
    set_env(repo, "staging", "# promote carefully\narrests: v2\n")
    code, out = report(repo, capsys)
    assert code == 0
    assert "_No model's version changes: merging deploys nothing._" in out
    assert "Approvals the merge will need" not in out


def test_no_environment_change_no_section(repo: Path, capsys) -> None:
    code, out = report(repo, capsys)
    assert code == 0 and "Promotions" not in out
    assert "No model needs retraining: nothing to review." in out


def test_an_invalid_environment_file_at_head_is_an_input_error(repo: Path, capsys) -> None:
    (repo / "environments" / "staging.yaml").write_text('"<img src=x>|x": v1\n')
    assert main(["-C", str(repo), "report", "--base", "main", "--results", "no-results"]) == 1
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    assert "environments/staging.yaml" in captured.err and "invalid environment file" in captured.err


def test_an_invalid_file_at_the_base_is_a_note(repo: Path, capsys) -> None:
    git(repo, "checkout", "-q", "main")
    set_env(repo, "staging", "arrests: latest\n")
    git(repo, "checkout", "-q", "promote")
    git(repo, "reset", "-q", "--hard", "main")
    set_env(repo, "staging", "arrests: v3\n")
    code, out = report(repo, capsys)
    assert code == 0
    assert "→ `v3` 🆕 first deployment" in out
    assert "environments/staging.yaml is not valid at the base ref" in out


def test_model_names_are_escaped(repo: Path, capsys) -> None:
    set_env(repo, "staging", "arrests: v2\nmy_model_x.v2-b: v1\n")
    _, out = report(repo, capsys)
    assert "`my_model_x.v2-b`" in out
    assert "my\\_model\\_x.v2-b" in out  # in prose (the details summary), escaped
    assert_safe_markdown(out)


def test_same_inputs_same_bytes(repo: Path, capsys) -> None:
    set_env(repo, "production", "arrests: v3\n")
    assert report(repo, capsys)[1] == report(repo, capsys)[1]


def test_summary_variant_has_the_section(repo: Path, capsys) -> None:
    set_env(repo, "staging", "arrests: v3\n")
    code, out = report(repo, capsys, "--summary")
    assert code == 0 and out.startswith("## ✅ pass") and "· Promotions" in out


# with --publish: what runs now comes from GitHub Deployments ----------------------------------------------


@pytest.fixture
def gh(repo: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("MLOPS_GITHUB_WRITE_PAUSE", "0")
    emulator = GitHubEmulator(users=USERS, repo_dir=repo, repos=[GH_REPO]).start()
    yield emulator
    emulator.stop()


def _bot(gh: GitHubEmulator) -> GitHubRepo:
    return GitHubRepo.open(ClientConfig(api_url=gh.url, token="bot-token", repository=GH_REPO,
                                        seconds_between_writes=0))


def deployed(gh: GitHubEmulator, env: str, version: str, *, model: str = "arrests", ref: str | None = None) -> None:
    bot = _bot(gh)
    made = bot.create_deployment(DeploymentRequest(ref or f"{model}@{version}", env,
                                                   payload={"model": model, "version": version}))
    bot.set_deployment_status(made.id, "success")


def publish(repo: Path, gh: GitHubEmulator, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    head = git(repo, "rev-parse", "HEAD")
    pull = gh.add_pull(GH_REPO, head_ref="promote", head_sha=head, base_sha=git(repo, "rev-parse", "main"),
                       user="author", title="Promote arrests")
    for name, value in {"GITHUB_API_URL": gh.url, "GITHUB_REPOSITORY": GH_REPO, "GITHUB_TOKEN": "bot-token",
                        "GITHUB_SHA": head}.items():
        monkeypatch.setenv(name, value)
    code = main(["-C", str(repo), "report", "--base", "main", "--results", "no-results", "--publish"])
    comment = _bot(gh).find_comment(pull.number, "mlops-actions:report")
    assert comment is not None
    return code, comment.body


def test_publish_compares_with_github_deployments(repo: Path, gh: GitHubEmulator, monkeypatch) -> None:
    deployed(gh, "staging", "v1")
    deployed(gh, "staging", "v3")
    deployed(gh, "production", "v1")  # the file says v2 at the base; GitHub says v1 runs
    set_env(repo, "production", "arrests: v3\n")
    code, body = publish(repo, gh, monkeypatch)
    assert code == 0, body
    assert "according to **GitHub Deployments**" in body and "base ref `main` (offline" not in body
    assert "`v1` → `v3` ⏫ promotion" in body
    assert "✅ reached `staging` before" in body
    assert md_text("staging (not changed by this pull request): its file names arrests v2, GitHub Deployments "
                   "say v3 runs there") in body


def test_publish_order_rule_fails_a_version_staging_never_ran(repo: Path, gh: GitHubEmulator,
                                                              monkeypatch) -> None:
    deployed(gh, "staging", "v3")
    deployed(gh, "production", "v3")
    set_env(repo, "production", "arrests: v1\n")  # rollback to a version staging never ran (per GitHub)
    code, body = publish(repo, gh, monkeypatch)
    assert code == 1
    assert "`v3` → `v1` ⏪ rollback" in body and "❌ never deployed to `staging`" in body
    assert md_text("rule 'environment order': arrests@v1 has never been deployed to staging") in body


@pytest.mark.parametrize("hostile", HOSTILE[:6])
def test_hostile_names_in_deployments_cannot_break_the_comment(repo: Path, gh: GitHubEmulator, monkeypatch,
                                                               hostile: str) -> None:
    deployed(gh, "production", "v2")
    deployed(gh, "production", hostile, model=hostile, ref="main")
    set_env(repo, "production", "arrests: v3\n")
    code, body = publish(repo, gh, monkeypatch)
    assert "`v2` → `v3` ⏫ promotion" in body and "is no longer named; deploy removes nothing" in body
    assert_safe_markdown(body.split("\n<!-- mlops-actions:evidence ")[0])  # the evidence line: hex digests only
    assert code == 1  # production requires staging; GitHub says v3 never ran there


# the pure core and the renderer, without git -----------------------------------------------------------


def _ref(number: int, record: dict | None, problem: str | None = None) -> VersionRef:
    return VersionRef("arrests", number, f"arrests@v{number}", record, problem, "2026-11-20T10:00:00Z")


def _record(number: int, gates: str = "pass") -> dict:
    return {"metrics": {"accuracy": round(0.8 + number / 100, 4)}, "metric_directions": {"accuracy": "higher"},
            "gates": {"verdict": gates}}


POLICY = Policy.from_dict({"environments": [
    {"name": "staging"},
    {"name": "production", "requires": ["staging"],
     "approvals": {"required": 2, "teams": ["acme/ml-leads"], "users": ["bob"], "stale_approvals_count": True}}]})


def _preview(desired: dict, current: CurrentState, changed: list[str]) -> PromotionPreview:
    versions = [_ref(1, _record(1)), _ref(2, _record(2)), _ref(3, None, "lightweight tag")]
    approvals = {e.name: approval_words(e.name, e.approvals, f"environments/{e.name}.yaml", None)
                 for e in POLICY.environments}
    return preview(desired, current, POLICY, changed=changed, versions=KnownVersions(versions), approvals=approvals)


def test_kind_of_a_change() -> None:
    assert kind_of(Change("p", "m", "v2", "v10")) == ROLLBACK
    assert kind_of(Change("p", "m", "v10", "v2")) == PROMOTION
    assert kind_of(Change("p", "m", "v1", None)) == FIRST
    assert kind_of(Change("p", "m", "v1", "<b>")) == REDEPLOY  # a payload from GitHub that is no version


def test_order_with_github_history_passes_when_the_version_reached_the_required_environment() -> None:
    history = {"staging": (Deployed("staging", "arrests", "v1", 7),), "production": ()}
    current = CurrentState(GITHUB, {"staging": {"arrests": "v1"}, "production": {"arrests": "v2"}},
                           history=history)
    result = _preview({"staging": {"arrests": "v1"}, "production": {"arrests": "v1"}}, current, ["production"])
    [item] = result.items
    assert item.kind == ROLLBACK and item.order.status == "pass" and result.verdict == "pass"
    assert [(d.name, d.old, d.new, d.change) for d in item.metrics] == [("accuracy", 0.82, 0.81, "worse")]


def test_an_untrusted_replaced_version_is_named_not_compared() -> None:
    current = CurrentState(BASE_FILES, {"staging": {"arrests": "v3"}}, ref="main")
    [item] = _preview({"staging": {"arrests": "v2"}}, current, ["staging"]).items
    assert item.metrics_note == "the replaced version v3 has no trusted record"
    assert [d.change for d in item.metrics] == ["new"]


def test_approval_rule_in_words() -> None:
    text = approval_line(_preview({"production": {"arrests": "v2"}}, CurrentState(BASE_FILES, {}),
                                  ["production"]).approvals[0])
    assert text == ("2 approvals from `@bob` or `@acme/ml-leads`; stale approvals count; the PR author never "
                    "counts; an outstanding request for changes blocks.")
    anyone_rule = approval_words("staging", Policy().environments[0].approvals, "environments/staging.yaml", None)
    assert approval_line(anyone_rule).startswith("1 approval from reviewers with write access; stale approvals don't")
    owners = approval_words("s", ApprovalRule(codeowners=True), "environments/s.yaml", ())
    assert "CODEOWNERS at the base ref names no owner for it" in approval_line(owners)


def test_the_section_is_compacted_then_cut_to_fit_the_comment_limit() -> None:
    desired = {"staging": {f"model-{i:03d}": "v1" for i in range(300)}}
    ctx = ReportContext(promotions=_preview(desired, CurrentState(BASE_FILES, {}), ["staging"]))
    full = render_comment([], ctx)
    assert len(full) <= 65_536 and "300 environment changes (300 refused)" in full
    assert "`model-039`" in full and "`model-040`" not in full and "… and 260 more changes in the job summary" in full
    assert "`model-299`" in render_summary([], ctx)
    tight = render_comment([], ctx, limit=8_000)
    assert len(tight) <= 8_000 and tight.startswith(MARKER + "\n## ❌ fail")
    assert "left out 1 promotion previews" in tight


def test_compact_form_drops_the_metric_tables() -> None:
    names = [f"model-{i}" for i in range(6)]
    versions = [VersionRef(n, k, f"{n}@v{k}", _record(k), None, "") for n in names for k in (1, 2)]
    current = CurrentState(BASE_FILES, {"staging": dict.fromkeys(names, "v1")}, ref="main")
    result = preview({"staging": dict.fromkeys(names, "v2")}, current, POLICY, changed=["staging"],
                     versions=KnownVersions(versions), approvals={})
    full, compact = promotions(result), promotions(result, compact=True)
    assert "Key metrics" in full and "Key metrics" not in compact
    text = render_comment([], ReportContext(promotions=result), limit=len(compact) + 1_200)
    assert len(full) + 200 > len(compact) + 1_200, "the full section must not fit for this test to mean anything"
    assert "Promotions" in text and "Key metrics" not in text and "collapsed long tables" in text


def test_publish_rollback_to_a_version_staging_ran_before_passes_the_order_rule(repo: Path, gh: GitHubEmulator,
                                                                               monkeypatch) -> None:
    """GitHub marks staging's v1 deployment inactive once v3 succeeds there: v1 still ran in staging."""
    deployed(gh, "staging", "v1")
    deployed(gh, "staging", "v3")
    deployed(gh, "production", "v3")
    assert [d.latest_status.state for d in _bot(gh).deployments("staging")] == ["success", "inactive"]
    set_env(repo, "production", "arrests: v1\n")
    code, body = publish(repo, gh, monkeypatch)
    assert code == 0, body
    assert "`v3` → `v1` ⏪ rollback" in body and "✅ reached `staging` before" in body


def test_publish_another_model_deploying_to_the_environment_does_not_hide_what_runs(
        repo: Path, gh: GitHubEmulator, monkeypatch) -> None:
    deployed(gh, "staging", "v2")
    deployed(gh, "staging", "v1", model="churn", ref="main")  # GitHub marks arrests' deployment inactive
    set_env(repo, "staging", "arrests: v3\nchurn: v1\n")
    _, body = publish(repo, gh, monkeypatch)
    assert "`v2` → `v3` ⏫ promotion" in body and "churn" not in body.split("Promotions")[1].split("|\n\n")[0]


def test_a_model_retrained_here_may_be_promoted_to_its_next_version(repo: Path, capsys) -> None:
    """register runs before deploy on the merge: v4 is this PR's candidate, not an unknown version."""
    write_results(repo / "pr-out", metrics={"accuracy": 0.95})
    set_env(repo, "staging", "arrests: v4\n")
    capsys.readouterr()
    code = main(["-C", str(repo), "report", "--base", "main", "--results", "pr-out"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "`v2` → `v4` ⏫ promotion | ⏳ this merge registers it (retrained in this PR)" in out
    metrics = out.split("<summary>Key metrics: staging arrests v2 → v4</summary>")[1].split("</details>")[0]
    [accuracy] = [line.split("|")[1:7] for line in metrics.splitlines() if line.startswith("| accuracy ")]
    assert [c.strip() for c in accuracy] == ["accuracy", "higher", "0.82", "0.95", "+0.13", "+15.9%"]


def test_a_retrained_model_whose_gates_fail_cannot_be_promoted(repo: Path, capsys) -> None:
    write_results(repo / "pr-out", metrics={"accuracy": 0.5})
    set_env(repo, "staging", "arrests: v4\n")
    capsys.readouterr()
    assert main(["-C", str(repo), "report", "--base", "main", "--results", "pr-out"]) == 1
    out = capsys.readouterr().out
    assert md_text("arrests@v4 is the version this merge would register, but its gates fail") in out


def test_a_retrained_model_skipping_a_number_is_unknown(repo: Path, capsys) -> None:
    write_results(repo / "pr-out", metrics={"accuracy": 0.95})
    set_env(repo, "staging", "arrests: v5\n")
    capsys.readouterr()
    assert main(["-C", str(repo), "report", "--base", "main", "--results", "pr-out"]) == 1
    assert md_text("version arrests@v5 does not exist") in capsys.readouterr().out
