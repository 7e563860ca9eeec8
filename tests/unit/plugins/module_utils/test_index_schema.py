"""module_utils/_index_schema.py in process, and the drift test that holds the devpi_index module's documentation
and devpi_seed's argument spec to it (the one definition of the index keys)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible_collections.hostnative.devpi.plugins.module_utils._index_schema import (
    ENTRY_KEYS,
    INDEX_KEYS,
    MIRROR_ONLY_KEYS,
    config_errors,
    index_config,
    value_error,
)
from ansible_collections.hostnative.devpi.plugins.modules import devpi_index

ROOT = Path(__file__).resolve().parents[4]
COMPARED = ("type", "elements", "choices", "required")
GOOD = {
    "bases": ["root/pypi"],
    "volatile": False,
    "acl_upload": [":ANONYMOUS:"],
    "acl_toxresult_upload": ["ci"],
    "mirror_whitelist": ["requests"],
    "mirror_whitelist_inheritance": "union",
    "mirror_url": "https://pypi.org/simple/",
    "mirror_no_project_list": True,
    "mirror_cache_expiry": 1800,
    "title": "Stable",
    "description": "What CI publishes",
}
BAD = {
    "bases": "root/pypi",
    "volatile": "no",
    "acl_upload": [1],
    "acl_toxresult_upload": "ci",
    "mirror_whitelist": {"requests": 1},
    "mirror_whitelist_inheritance": "both",
    "mirror_url": 3,
    "mirror_no_project_list": "yes",
    "mirror_cache_expiry": True,
    "title": ["Stable"],
    "description": 1,
}


def shape(spec):
    return {key: spec[key] for key in COMPARED if spec.get(key) not in (None, False)}


def module_options():
    return yaml.safe_load(devpi_index.DOCUMENTATION)["options"]


def seed_index_options():
    spec = yaml.safe_load((ROOT / "roles/devpi_seed/meta/argument_specs.yml").read_text())
    return spec["argument_specs"]["main"]["options"]["devpi_seed_indexes"]["options"]


def test_every_key_has_a_good_and_a_bad_example():
    assert set(GOOD) == set(INDEX_KEYS) == set(BAD)
    assert set(MIRROR_ONLY_KEYS) <= set(INDEX_KEYS)


@pytest.mark.parametrize("key", sorted(INDEX_KEYS))
def test_module_documentation_agrees_with_the_schema(key):
    assert shape(module_options()[key]) == shape(INDEX_KEYS[key])
    assert "default" not in module_options()[key], "index keys have no default: only the keys given are managed"


@pytest.mark.parametrize("key", sorted(INDEX_KEYS))
def test_devpi_seed_argument_spec_agrees_with_the_schema(key):
    assert shape(seed_index_options()[key]) == shape(INDEX_KEYS[key])
    assert "default" not in seed_index_options()[key]


def test_both_document_exactly_the_schema_keys():
    assert set(seed_index_options()) == set(INDEX_KEYS) | set(ENTRY_KEYS)
    assert set(module_options()) - {"config", "force"} == set(INDEX_KEYS) | set(ENTRY_KEYS)


@pytest.mark.parametrize("key", ["type", "state", "name"])
def test_entry_keys_agree(key):
    for options in (module_options(), seed_index_options()):
        assert shape(options[key]) == shape(ENTRY_KEYS[key])
        assert options[key].get("default") == ENTRY_KEYS[key].get("default")


@pytest.mark.parametrize("key", sorted(INDEX_KEYS))
def test_each_key_accepts_its_type_and_refuses_another(key):
    assert value_error(key, GOOD[key]) is None
    message = value_error(key, BAD[key])
    assert message.startswith(f"{key} must be "), message
    assert repr(BAD[key]) in message


def test_a_full_mirror_configuration_is_valid_and_a_stage_one_refuses_mirror_keys():
    assert config_errors(GOOD, "mirror") == []
    errors = config_errors(GOOD, "stage")
    assert errors == [f"{', '.join(MIRROR_ONLY_KEYS)}: only for mirror indexes; this is a stage"]
    assert MIRROR_ONLY_KEYS == ("mirror_url", "mirror_no_project_list", "mirror_cache_expiry")


def test_unknown_keys_are_named():
    assert config_errors({"bases": [], "volatil": True}, "stage") == [
        f"unknown index keys ['volatil'] (known: {sorted(INDEX_KEYS)})"
    ]


@pytest.mark.parametrize("url", ["ftp://pypi.org/simple/", "pypi.org/simple", "https://", "file:///srv/simple"])
def test_mirror_url_must_be_http(url):
    assert config_errors({"mirror_url": url}, "mirror") == [f"mirror_url must be an http(s) URL, got {url!r}"]


@pytest.mark.parametrize("base", ["pypi", "root/", "/pypi", "root/pypi/extra", "-root/pypi", "root/py pi"])
def test_each_base_must_be_user_slash_index(base):
    """The one place both devpi_index and the seed plan check the form of a base."""
    assert config_errors({"bases": ["root/pypi", base]}, "stage") == [f"bases: {base!r} is not user/index"]
    assert config_errors({"bases": ["root/pypi", "team.a/stable-1"]}, "stage") == []


def test_index_config_keeps_index_keys_and_drops_the_rest_and_nulls():
    entry = {"name": "a/b", "type": "stage", "state": "present", "extra": {"x": 1}, "bases": ["root/pypi"]}
    assert index_config({**entry, "title": None, "volatile": False}) == {"bases": ["root/pypi"], "volatile": False}
