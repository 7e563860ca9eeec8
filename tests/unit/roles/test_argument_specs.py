"""defaults/main.yml and meta/argument_specs.yml of every role must describe the same variables.

Every public variable has a type and a description; where the spec states a default it is the one in
defaults/main.yml (platform-dependent defaults are resolved from vars/ and are stated in the description instead).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
ROLES = sorted(p.name for p in (ROOT / "roles").iterdir() if (p / "meta" / "argument_specs.yml").exists())


def load(role):
    defaults = yaml.safe_load((ROOT / "roles" / role / "defaults" / "main.yml").read_text()) or {}
    spec = yaml.safe_load((ROOT / "roles" / role / "meta" / "argument_specs.yml").read_text())
    return defaults, spec["argument_specs"]["main"]["options"]


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
