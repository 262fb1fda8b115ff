"""``mlops-actions init``: scaffolds a valid repository, idempotently, never overwriting the user's changes."""

from __future__ import annotations

from pathlib import Path

import pytest
from ruamel.yaml import YAML

from mlops_actions.cli import main
from mlops_actions.resources import template_path
from testkit import EXAMPLE, REPO, git

BASE_FILES = [
    ".github/CODEOWNERS",
    ".github/workflows/mlops-deploy.yml",
    ".github/workflows/mlops-main.yml",
    ".github/workflows/mlops-monitor.yml",
    ".github/workflows/mlops-pr-comment.yml",
    ".github/workflows/mlops-pr.yml",
    ".gitignore",
    "environments/production.yaml",
    "environments/staging.yaml",
    "mlops.yaml",
    "models/README.md",
]
EXAMPLE_MODEL_FILES = ["models/arrests-gbm/features.py", "models/arrests-gbm/model.yaml",
                       "models/arrests-gbm/pipeline.py", "models/arrests-np/load.py", "models/arrests-np/metrics.py",
                       "models/arrests-np/model.yaml", "models/arrests-np/train.py", "models/arrests/model.yaml"]
EXAMPLE_FILES = ["data/arrests.csv", *EXAMPLE_MODEL_FILES]


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file() and ".git" not in p.parts)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    return root


@pytest.fixture(scope="module")
def arrests_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One scaffold with the example, shared by the read-only tests (loading the data takes a second)."""
    root = tmp_path_factory.mktemp("scaffold") / "repo"
    assert main(["init", str(root), "--example", "arrests"]) == 0
    return root


def test_init_writes_the_convention_files(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["-C", str(repo), "init"]) == 0
    assert files_under(repo) == sorted(BASE_FILES)
    assert "11 file(s) created" in capsys.readouterr().out


def test_scaffold_without_example_passes_validate(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(repo)]) == 0
    capsys.readouterr()
    assert main(["-C", str(repo), "validate"]) == 0
    assert "3 file(s) valid" in capsys.readouterr().out


def test_scaffold_with_example_passes_validate(arrests_repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert files_under(arrests_repo) == sorted(BASE_FILES + EXAMPLE_FILES)
    assert main(["-C", str(arrests_repo), "validate"]) == 0
    assert "6 file(s) valid" in capsys.readouterr().out


def test_the_starter_spec_in_models_readme_is_valid(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(repo)]) == 0
    readme = (repo / "models/README.md").read_text()
    spec = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert spec.startswith("# yaml-language-server: $schema=")
    (repo / "models/churn").mkdir()
    (repo / "models/churn/model.yaml").write_text(spec)
    (repo / "data").mkdir()
    (repo / "data/churn.csv").write_text("churned,tenure_months,plan,has_support_contract,age_band\n")
    capsys.readouterr()
    assert main(["-C", str(repo), "validate"]) == 0, capsys.readouterr().out


def test_example_data_is_byte_identical_to_the_shipped_example(arrests_repo: Path) -> None:
    assert (arrests_repo / "data/arrests.csv").read_bytes() == (EXAMPLE / "data/arrests.csv").read_bytes()


def test_the_example_models_are_the_packaged_ones_file_for_file() -> None:
    """examples/arrests/models/ (the repository's runnable example) and templates/examples/arrests/models/ (what
    init ships) must be two copies of one thing: a file added, removed or edited in only one of them fails here."""
    assert files_under(EXAMPLE / "models") == files_under(template_path("examples", "arrests", "models"))
    assert ["models/" + rel for rel in files_under(EXAMPLE / "models")] == EXAMPLE_MODEL_FILES


@pytest.mark.parametrize("rel", EXAMPLE_MODEL_FILES)
def test_example_files_are_the_shipped_example_with_a_schema_url(arrests_repo: Path, rel: str) -> None:
    """Byte for byte (line endings, a trailing newline, encoding): the team's code (train.py, features.py...)
    and the specs, whose first line alone differs (a schema URL instead of a relative path)."""
    scaffolded, shipped = (arrests_repo / rel).read_bytes(), (EXAMPLE / rel).read_bytes()
    assert scaffolded == (template_path("examples", "arrests") / rel).read_bytes()
    if not rel.endswith(".yaml"):
        assert scaffolded == shipped
        return
    assert scaffolded.split(b"\n", 1)[1] == shipped.split(b"\n", 1)[1]
    assert scaffolded.split(b"\n", 1)[0] == (b"# yaml-language-server: $schema=https://raw.githubusercontent.com/"
                                             b"mlops-actions/mlops-actions/v1/schemas/model-spec.schema.json")


def test_example_policy_allows_lightgbm_for_the_factory_model(arrests_repo: Path) -> None:
    assert '"lightgbm."' in (arrests_repo / "mlops.yaml").read_text()


def test_every_yaml_file_names_its_schema_for_editors(arrests_repo: Path) -> None:
    for rel in ["mlops.yaml", "environments/staging.yaml", "environments/production.yaml",
                "models/arrests/model.yaml"]:
        first = (arrests_repo / rel).read_text().splitlines()[0]
        assert first.startswith("# yaml-language-server: $schema=https://raw.githubusercontent.com/"), rel


def test_schema_urls_point_at_schemas_we_ship(arrests_repo: Path) -> None:
    prefix = "# yaml-language-server: $schema=https://raw.githubusercontent.com/mlops-actions/mlops-actions/v1/"
    for path in arrests_repo.rglob("*.yaml"):
        first = path.read_text().splitlines()[0]
        assert (REPO / first.removeprefix(prefix)).is_file(), path


def test_second_run_changes_nothing(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(repo)]) == 0
    before = {rel: (repo / rel).stat().st_mtime_ns for rel in BASE_FILES}
    capsys.readouterr()
    assert main(["init", str(repo)]) == 0
    out = capsys.readouterr().out
    assert "0 file(s) created, 11 already up to date" in out
    assert {rel: (repo / rel).stat().st_mtime_ns for rel in BASE_FILES} == before


def test_a_changed_file_stops_init_and_nothing_is_written(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(repo)]) == 0
    (repo / "mlops.yaml").write_text("environments: [{name: qa}]\n")
    (repo / ".github/CODEOWNERS").write_text("* @me\n")
    (repo / "environments/staging.yaml").unlink()
    capsys.readouterr()
    assert main(["init", str(repo)]) == 1
    err = capsys.readouterr().err
    assert "mlops.yaml" in err and ".github/CODEOWNERS" in err and "nothing was written" in err
    assert not (repo / "environments/staging.yaml").exists()  # checked everything before writing anything
    assert (repo / "mlops.yaml").read_text() == "environments: [{name: qa}]\n"


def test_a_folder_in_place_of_a_file_is_a_conflict(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (repo / "mlops.yaml").mkdir()
    assert main(["init", str(repo)]) == 1
    assert "mlops.yaml" in capsys.readouterr().err
    assert files_under(repo) == []


def test_init_creates_a_missing_folder(tmp_path: Path) -> None:
    assert main(["init", str(tmp_path / "new" / "repo")]) == 0
    assert files_under(tmp_path / "new" / "repo") == sorted(BASE_FILES)


def test_owner_is_rendered_into_workflows_and_schema_urls(repo: Path) -> None:
    assert main(["init", str(repo), "--owner", "acme-ml"]) == 0
    pr = (repo / ".github/workflows/mlops-pr.yml").read_text()
    assert "uses: acme-ml/mlops-actions/.github/workflows/mlops-pr.yml@v1" in pr
    assert "raw.githubusercontent.com/acme-ml/mlops-actions/v1/" in (repo / "mlops.yaml").read_text()
    assert "mlops-actions/mlops-actions" not in "".join((repo / f).read_text() for f in BASE_FILES)


@pytest.mark.parametrize("owner", ["", "-x", "a/b", "a b", "x;rm"])
def test_a_bad_owner_is_a_usage_error(repo: Path, owner: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", str(repo), f"--owner={owner}"]) == 2
    assert "--owner" in capsys.readouterr().err
    assert files_under(repo) == []


def test_an_unknown_example_is_a_usage_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["init", str(repo), "--example", "nope"])
    assert exc.value.code == 2
    assert "arrests" in capsys.readouterr().err
    assert files_under(repo) == []


def test_a_file_as_target_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    assert main(["init", str(target)]) == 2
    assert "not a folder" in capsys.readouterr().err


def test_template_comment_job_runs_the_same_steps_as_the_reusable_workflow() -> None:
    """The fork-PR commenter exists twice (inline in the template, reusable in .github): one truth, tested."""
    yaml = YAML(typ="safe")
    template = yaml.load(template_path("repo", "github", "workflows", "mlops-pr-comment.yml").read_text())
    reusable = yaml.load((REPO / ".github/workflows/mlops-pr-comment.yml").read_text())
    inline, called = template["jobs"]["comment"], reusable["jobs"]["comment"]
    assert inline["permissions"] == called["permissions"]
    steps = [dict(s, **{"with": {k: v for k, v in s.get("with", {}).items() if k != "working-directory"}})
             for s in called["steps"]]
    assert inline["steps"] == steps
