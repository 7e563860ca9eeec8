"""defaults/main.yml and meta/argument_specs.yml (all entry points) of every role must describe the same variables.

Every public variable has a type and a description; where the spec states a default it is the one in
defaults/main.yml (platform-dependent defaults are resolved from vars/ and are stated in the description instead).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def load(role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    # The options of every entry point (those of an entry point other than main, such as uninstall's, too).
    options = {}
    for entry in spec["argument_specs"].values():
        options.update(entry.get("options") or {})
    return defaults, options


def test_there_are_roles():
    assert "devpi_server" in ROLES


@pytest.mark.parametrize("role", ROLES)
def test_defaults_and_spec_name_the_same_variables(role):
    defaults, options = load(role)
    assert sorted(set(defaults) - set(options)) == [], "in defaults/main.yml but not in argument_specs"
    assert sorted(set(options) - set(defaults)) == [], "in argument_specs but not in defaults/main.yml"


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_match(role):
    defaults, options = load(role)
    drift = {
        name: (option["default"], defaults[name])
        for name, option in options.items()
        if "default" in option and option["default"] != defaults[name]
    }
    assert drift == {}


@pytest.mark.parametrize("role", ROLES)
def test_every_option_is_typed_described_and_prefixed(role):
    options = load(role)[1]
    for name, option in options.items():
        assert name.startswith(f"{role}_"), name
        assert option.get("type"), f"{name} has no type"
        assert option.get("description"), f"{name} has no description"
        if option["type"] == "list":
            assert option.get("elements"), f"{name} is a list without elements"
        if "default" not in option:
            text = str(option["description"]).lower()
            assert "default" in text or ("linux" in text and "macos" in text), (
                f"{name} has no default in the spec; its description must say what the default is"
            )


PYTHON_TYPES = {
    "str": str,
    "bool": bool,
    "int": int,
    "list": list,
    "dict": dict,
    "path": str,
    "raw": object,
    "float": float,
}


def static_defaults():
    """Every option of every entry point whose spec states a default known before run time."""
    for role in ROLES:
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        for entry, spec in specs.items():
            for name, option in spec.get("options", {}).items():
                default = option.get("default")
                if "default" in option and not (isinstance(default, str) and "{{" in default):
                    yield f"{role}:{entry}:{name}", option


@pytest.mark.parametrize(
    ("where", "option"), list(static_defaults()), ids=lambda value: value if isinstance(value, str) else ""
)
def test_a_stated_default_has_the_stated_type_and_is_one_of_the_choices(where, option):
    """A default the spec states is what the documentation shows: it must be a value the option accepts."""
    default = option["default"]
    assert isinstance(default, PYTHON_TYPES[option["type"]]), f"{where}: default {default!r} is not a {option['type']}"
    assert option["type"] != "int" or not isinstance(default, bool), f"{where}: default {default!r} is a bool"
    if "choices" in option:
        values = default if option["type"] == "list" else [default]
        assert set(values) <= set(option["choices"]), f"{where}: default {default!r} not in {option['choices']}"
    if option["type"] == "list" and "elements" in option:
        assert all(isinstance(item, PYTHON_TYPES[option["elements"]]) for item in default), where


def test_every_entry_point_other_roles_and_playbooks_use_has_an_argument_spec():
    """include_role/import_role with tasks_from validates against argument_specs[<entry>] only when it exists."""
    used = set()
    for path in [*ROOT.glob("roles/*/tasks/*.yml"), *ROOT.glob("playbooks/*.yml"), *ROOT.glob("molecule/**/*.yml")]:
        text = path.read_text()
        for role, entry in re.findall(r"name: hostnative\.devpi\.(\w+)\s*\n\s*tasks_from: ([\w.]+)", text):
            used.add((role, entry, path.relative_to(ROOT).as_posix()))
    assert used, "no tasks_from found: the pattern no longer matches how roles are included"
    missing = []
    for role, entry, where in sorted(used):
        specs = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())["argument_specs"]
        if entry.endswith(".yml") or entry not in specs:
            missing.append(f"{where}: {role} tasks_from {entry} (spec entries: {sorted(specs)})")
    assert missing == []
