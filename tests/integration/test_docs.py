"""The documentation site: it builds with --strict (no broken link or anchor), offline, and its generated
reference names every command and option, every action input and output and every schema key."""

from __future__ import annotations

import argparse
import html
import importlib
import importlib.util
import json
import logging
import re
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from mlops_actions.cli import build_parser
from testkit import REPO

README_LIMIT = 25 * 1024


def build_site(root: Path, site: Path) -> None:
    """``mkdocs build --strict`` in this process, so the test's network guard covers it."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    config = load_config(config_file=str(root / "mkdocs.yml"), strict=True, site_dir=str(site))
    logging.getLogger("mkdocs").setLevel(logging.WARNING)
    build(config)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    build_site(REPO, out)
    return out


def page(site: Path, uri: str) -> str:
    return (site / uri / "index.html").read_text(encoding="utf-8")


def codes(text: str) -> set[str]:
    """The text of every <code> element of a page."""
    return {html.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<code[^>]*>(.*?)</code>", text, re.S)}


def yaml(path: Path) -> dict:
    return YAML(typ="safe", pure=True).load(path.read_text(encoding="utf-8"))


def test_the_site_builds_strictly_offline(site: Path) -> None:
    for uri in ("", "convention", "commands", "reference/cli", "reference/action", "reference/schemas/model-spec"):
        assert (site / uri / "index.html").is_file(), uri


def test_a_broken_anchor_fails_the_build(tmp_path: Path) -> None:
    """The site's own settings (strict, link and anchor validation) on two small pages, one link broken."""
    config = yaml(REPO / "mkdocs.yml")
    for key in ("hooks", "nav", "exclude_docs"):
        config.pop(key, None)
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the part](other.md#no-such-section).\n")
    (tmp_path / "docs" / "other.md").write_text("# Other\n\n## A section\n")
    with (tmp_path / "mkdocs.yml").open("w") as fh:
        YAML(typ="safe", pure=True).dump(config, fh)
    from mkdocs.exceptions import Abort

    with pytest.raises(Abort, match="strict mode"):
        build_site(tmp_path, tmp_path / "site")
    (tmp_path / "docs" / "index.md").write_text("# Home\n\nSee [the part](other.md#a-section).\n")
    build_site(tmp_path, tmp_path / "site")  # the same pages with the link mended build


def test_the_home_page_is_the_readme(site: Path) -> None:
    home = page(site, "")
    assert 'id="quick-start"' in home and 'id="permissions"' in home
    assert 'href="convention/' in home  # README links into docs/ are links within the site


def test_readme_links_keep_working_on_the_site() -> None:
    spec = importlib.util.spec_from_file_location("docs_reference", REPO / "docs" / "gen" / "reference.py")
    assert spec and spec.loader
    reference = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(reference)
    text = "[a](docs/forks.md#x) [b](#permissions) [c](mlops_actions/cli.py) [d](https://example.org/x)"
    assert re.sub(r"\]\(([^)\s]+)\)", reference._site_link, text) == (
        "[a](forks.md#x) [b](#permissions) "
        "[c](https://github.com/mlops-actions/mlops-actions/blob/main/mlops_actions/cli.py) [d](https://example.org/x)")


def test_the_readme_is_what_a_newcomer_needs() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    assert len(text.encode()) < README_LIMIT, f"README is {len(text.encode())} bytes; move reference into docs/"
    headings = re.findall(r"^## (.+)$", text, re.M)
    for needed in ("Quick start", "Adding the action to a repository", "Permissions", "Architecture", "Documentation"):
        assert needed in headings



def test_the_readmes_architecture_answers_the_four_questions_with_modules_that_exist() -> None:
    """Where the comment is rendered, approvals counted, the tag created, a spec becomes a pipeline: each answered
    in the README itself, by module names that resolve (a rename must update the README)."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Architecture\n", 1)[1].split("\n## ", 1)[0]
    rows = {row.split("|")[1].strip(): row.split("|")[2] for row in section.splitlines() if row.startswith("| ")}
    questions = ("the PR comment rendered?", "approvals counted?", "the tag created?", "a spec becomes a pipeline?")
    assert all(q in rows for q in questions), rows
    for question in questions:
        names = re.findall(r"`([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+)`", rows[question])
        assert names, question
        for name in names:
            assert _resolves(f"mlops_actions.{name}"), f"{question}: `{name}` is no module or function of mlops_actions"


def _resolves(dotted: str) -> bool:
    """A module, or a module's attribute."""
    try:
        importlib.import_module(dotted)
        return True
    except ModuleNotFoundError:
        module, _, member = dotted.rpartition(".")
        try:
            return hasattr(importlib.import_module(module), member)
        except ModuleNotFoundError:
            return False

def test_readme_links_to_files_resolve() -> None:
    text = (REPO / "README.md").read_text(encoding="utf-8")
    targets = [t.split("#", 1)[0] for t in re.findall(r"\]\(([^)#][^)]*)\)", text) if "://" not in t]
    assert targets, "the README links to the docs pages"
    missing = [t for t in targets if not (REPO / t).exists()]
    assert missing == []


def _commands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def test_every_command_and_option_is_in_the_cli_reference(site: Path) -> None:
    text = page(site, "reference/cli")
    options = {part.split(" ")[0] for c in codes(text) for part in c.split(", ")}
    missing = []
    for name, sub in _commands(build_parser()).items():
        if f'id="{name}"' not in text:
            missing.append(name)
        missing += [f"{name} {o}" for a in sub._actions for o in a.option_strings
                    if o not in ("-h", "--help") and o not in options]
        missing += [f"{name} {a.metavar or a.dest}" for a in sub._actions
                    if not a.option_strings and (a.metavar or a.dest) not in options]
    assert missing == []


def test_every_command_has_a_section_in_the_commands_guide(site: Path) -> None:
    text = page(site, "commands")
    assert [n for n in _commands(build_parser()) if f'id="{n}"' not in text] == []


def test_the_commands_guide_shows_each_commands_real_options() -> None:
    """The hand-written usage line under each command's heading names exactly the options its parser has."""
    text = (REPO / "docs" / "commands.md").read_text(encoding="utf-8")
    wrong = {}
    for name, sub in _commands(build_parser()).items():
        block = re.search(rf"^## {re.escape(name)}\n\n```\n(.*?)```", text, re.S | re.M)
        assert block, f"docs/commands.md: no usage block right under '## {name}'"
        shown = set(re.findall(r"(?<![\w-])(--?[A-Za-z][\w-]*)", block.group(1)))
        real = {o for a in sub._actions for o in a.option_strings if o not in ("-h", "--help")}
        if shown != real:
            wrong[name] = {"not an option": sorted(shown - real), "not shown": sorted(real - shown)}
    assert wrong == {}


def test_every_action_input_and_output_is_documented(site: Path) -> None:
    documented = codes(page(site, "reference/action"))
    action = yaml(REPO / "action.yml")
    names = [*action["inputs"], *action["outputs"]]
    for path in sorted((REPO / ".github" / "workflows").glob("mlops-*.yml")):
        call = (yaml(path).get("on") or {}).get("workflow_call") or {}
        names += [*(call.get("inputs") or {}), *(call.get("secrets") or {}), *(call.get("outputs") or {})]
        assert path.name in documented
    assert [n for n in names if n not in documented] == []


def _property_names(node: object) -> set[str]:
    """Every key declared under any `properties` of a schema, wherever it sits ($defs, branches, items)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties" and isinstance(value, dict):
                found |= set(value)
            found |= _property_names(value)
    elif isinstance(node, list):
        for item in node:
            found |= _property_names(item)
    return found


@pytest.mark.parametrize("schema", sorted(p.name for p in (REPO / "schemas").glob("*.schema.json")))
def test_every_schema_key_is_documented(site: Path, schema: str) -> None:
    name = schema.removesuffix(".schema.json")
    documented = codes(page(site, f"reference/schemas/{name}"))
    leaves = {re.split(r"[.\[]", c.replace("[]", ""))[-1] for c in documented} | {
        c.rsplit(".", 1)[-1] for c in documented}
    keys = _property_names(json.loads((REPO / "schemas" / schema).read_text(encoding="utf-8")))
    assert sorted(keys - leaves) == []
