"""Each module's argument spec - what main() really gives AnsibleModule - agrees with its documentation (the module's
DOCUMENTATION plus the documentation fragments it extends): the same options, and for each the same type, elements,
required, default, choices and aliases; check mode is supported exactly when the documentation says so; an option
holding a secret is no_log, and no other option is. (ansible-test's validate-modules checks the same against the
built collection in `make sanity`; this runs in process, so mutation testing sees it.)"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

MODULES = sorted(path.stem for path in (Path(__file__).parents[4] / "plugins/modules").glob("*.py"))
PACKAGE = "ansible_collections.hostnative.devpi.plugins"
# Options whose value is a secret: a password, a mapping of secret settings or a secret value, a service's token.
SECRET_OPTION = re.compile(r"^(login_|root_)?password$|^secret_|_token$")


FILES_FRAGMENT = "ansible.builtin.files"


class Captured(Exception):
    """Raised in place of AnsibleModule's constructor, carrying what main() passed it."""

    def __init__(self, kwargs):
        super().__init__("captured")
        self.kwargs = kwargs


def captured_spec(name, monkeypatch):
    module = importlib.import_module(f"{PACKAGE}.modules.{name}")

    def capture(**kwargs):
        raise Captured(kwargs)

    monkeypatch.setattr(module, "AnsibleModule", capture)
    with pytest.raises(Captured) as raised:
        module.main()
    return raised.value.kwargs


def documentation(name):
    """The module's documentation and the options it documents, except the file options of `ansible.builtin.files`,
    which AnsibleModule adds itself (add_file_common_args)."""
    module = importlib.import_module(f"{PACKAGE}.modules.{name}")
    doc = yaml.safe_load(module.DOCUMENTATION)
    options = {}
    for fragment in doc.get("extends_documentation_fragment", []):
        if fragment == FILES_FRAGMENT:
            continue
        collection, _dot, fragment_name = fragment.rpartition(".")
        assert collection == "hostnative.devpi", fragment
        fragment_module = importlib.import_module(f"{PACKAGE}.doc_fragments.{fragment_name}")
        options.update(yaml.safe_load(fragment_module.ModuleDocFragment.DOCUMENTATION).get("options") or {})
    options.update(doc.get("options") or {})
    return doc, options


def normalised(option):
    """The comparable part of an option, as Ansible reads it (type str and required false when not given)."""
    shape = {
        "type": option.get("type", "str"),
        "required": bool(option.get("required", False)),
        "default": option.get("default"),
        "choices": option.get("choices"),
        "elements": option.get("elements"),
        "aliases": sorted(option.get("aliases") or []) or None,
    }
    if option.get("options") is not None:
        shape["options"] = {key: normalised(value) for key, value in option["options"].items()}
    return shape


@pytest.mark.parametrize("name", MODULES)
def test_options_agree_with_the_documentation(name, monkeypatch):
    spec = captured_spec(name, monkeypatch)["argument_spec"]
    _doc, options = documentation(name)
    assert sorted(spec) == sorted(options)
    for option, value in spec.items():
        assert normalised(value) == normalised(options[option]), option


@pytest.mark.parametrize("name", MODULES)
def test_file_options_are_added_exactly_when_documented(name, monkeypatch):
    kwargs = captured_spec(name, monkeypatch)
    doc, _options = documentation(name)
    assert bool(kwargs.get("add_file_common_args")) == (FILES_FRAGMENT in doc.get("extends_documentation_fragment", []))


@pytest.mark.parametrize("name", MODULES)
def test_check_mode_support_is_the_documented_one(name, monkeypatch):
    kwargs = captured_spec(name, monkeypatch)
    doc, _options = documentation(name)
    documented = doc["attributes"]["check_mode"]["support"]
    assert documented in ("full", "none")
    assert bool(kwargs.get("supports_check_mode")) == (documented == "full")


@pytest.mark.parametrize("name", MODULES)
def test_exactly_the_secret_options_are_no_log(name, monkeypatch):
    spec = captured_spec(name, monkeypatch)["argument_spec"]
    for option, value in spec.items():
        assert bool(value.get("no_log")) == bool(SECRET_OPTION.search(option)), option


def test_the_secret_pattern_sees_the_secrets_and_not_the_modes():
    assert all(
        SECRET_OPTION.search(name)
        for name in ("password", "login_password", "root_password", "secret_settings", "secret_value", "connect_token")
    )
    assert not any(SECRET_OPTION.search(name) for name in ("update_password", "password_mode", "mode", "login_user"))
