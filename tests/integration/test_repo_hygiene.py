"""Rules of this repository that no linter enforces by itself."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
NOQA = re.compile(r"#\s*noqa\b(?P<rest>.*)$")


def tracked(*patterns):
    out = subprocess.run(  # noqa: S603 - fixed git argv
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", *patterns],  # noqa: S607 - git from PATH
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [REPO / line for line in out.splitlines() if line]


def test_every_noqa_names_its_rule_and_a_reason():
    bare = []
    for path in tracked("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            match = NOQA.search(line)
            if match and not re.match(r"^:\s*[A-Z]+[0-9]+(,\s*[A-Z]+[0-9]+)*\s+-\s+\S", match.group("rest")):
                bare.append(f"{path.relative_to(REPO)}:{number}")
    assert bare == []


def test_no_sanity_ignore_files_and_no_lint_skips():
    assert [p for p in tracked("tests/sanity/*") if p.name.startswith("ignore-")] == []
    for config in tracked(".ansible-lint", ".ansible-lint.yml", ".config/ansible-lint.yml"):
        text = config.read_text(encoding="utf-8")
        assert not re.search(r"^(skip_list|warn_list):\s*\n\s*-", text, re.MULTILINE), config


def test_test_modules_have_unique_basenames():
    """The tests tree has no packages (rootdir imports): two test files of the same name break collection."""
    seen = {}
    for path in tracked("tests/unit/*test_*.py", "tests/integration/*test_*.py"):
        seen.setdefault(path.name, []).append(str(path.relative_to(REPO)))
    assert {name: paths for name, paths in seen.items() if len(paths) > 1} == {}


def test_unit_tests_run_in_process():
    """tests/unit imports and calls the collection's code; processes, sockets and playbooks: tests/integration."""
    outside = re.compile(
        r"^\s*(import|from)\s+(subprocess|socket|http\.server|urllib\.request)\b|ansible_playbook|run_module"
    )
    found = [
        f"{path.relative_to(REPO)}:{number}"
        for path in tracked("tests/unit/*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if outside.search(line)
    ]
    assert found == []


def test_changelog_fragments_follow_antsibull_changelog_conventions():
    """New modules, plugins, roles and playbooks are announced by antsibull-changelog from the collection itself, and
    code that was never released has no bugs to fix: fragments say neither."""
    released = yaml.safe_load((REPO / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))["releases"]
    announcing = re.compile(r"\bnew (module|role|filter|lookup|playbook|plugin)s?\b(?! option)", re.IGNORECASE)
    wrong = []
    for path in tracked("changelogs/fragments/*.yml"):
        fragment = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not released and "bugfixes" in fragment:
            wrong.append(f"{path.name}: bugfixes before any release")
        for section, entries in fragment.items():
            for entry in entries if isinstance(entries, list) else []:
                if announcing.search(entry):
                    wrong.append(f"{path.name} ({section}): announces {announcing.search(entry).group(0)!r}")
    assert wrong == []
