"""The path_differs filter in process: the desired record against the probe's paths."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.path_differs import keys_differ, path_differs

CONFIG = {"exists": True, "type": "file", "mode": "0640", "owner": "root", "group": "devpi", "checksum": "abc"}
WANTED = {"path": "/etc/devpi/devpi-server.yml", "type": "file", "mode": "0640", "owner": "root", "group": "devpi"}


def test_same_on_every_named_attribute_is_no_difference():
    assert path_differs({**WANTED, "checksum": "abc"}, {WANTED["path"]: CONFIG}) is False


@pytest.mark.parametrize(
    ("key", "value"),
    [("type", "directory"), ("mode", "0644"), ("owner", "devpi"), ("group", "root"), ("checksum", "abd")],
)
def test_any_named_attribute_that_differs_is_a_difference(key, value):
    assert path_differs({**WANTED, "checksum": "abc", key: value}, {WANTED["path"]: CONFIG}) is True


def test_attributes_the_record_leaves_out_are_not_compared():
    assert path_differs({"path": WANTED["path"], "mode": "0640"}, {WANTED["path"]: {**CONFIG, "owner": "x"}}) is False


@pytest.mark.parametrize("paths", [{}, {WANTED["path"]: {"exists": False}}, {WANTED["path"]: None}])
def test_a_missing_path_differs(paths):
    assert path_differs(WANTED, paths) is True


def test_a_missing_path_differs_even_from_a_record_with_nothing_to_compare():
    assert path_differs({"path": "/x"}, {"/x": {"exists": False}}) is True
    assert path_differs({"path": "/x"}, {"/x": {"exists": True}}) is False


@pytest.mark.parametrize(("desired", "paths"), [({"mode": "0640"}, {}), ("path", {}), (WANTED, [])])
def test_bad_input_is_named(desired, paths):
    with pytest.raises(AnsibleFilterError, match="path_differs"):
        path_differs(desired, paths)


def test_keys_differ_compares_only_the_wanted_keys():
    wanted = {"mirror_url": "https://pypi.org/simple/", "mirror_no_project_list": True}
    assert keys_differ(wanted, {**wanted, "type": "mirror", "volatile": False}) is False
    assert keys_differ(wanted, {**wanted, "mirror_no_project_list": False}) is True
    assert keys_differ(wanted, {"mirror_url": wanted["mirror_url"]}) is True
    assert keys_differ(wanted, None) is True
    assert keys_differ({}, {"anything": 1}) is False


def test_keys_differ_tells_a_missing_key_from_a_null_value():
    assert keys_differ({"title": None}, {}) is True
    assert keys_differ({"title": None}, {"title": None}) is False


@pytest.mark.parametrize(("desired", "actual"), [([], {}), ({"a": 1}, "a")])
def test_keys_differ_names_bad_input(desired, actual):
    with pytest.raises(AnsibleFilterError, match="keys_differ"):
        keys_differ(desired, actual)
