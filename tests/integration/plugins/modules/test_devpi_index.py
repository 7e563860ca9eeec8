"""devpi_index against a REAL devpi-server (session fixture in conftest.py), run as Ansible runs modules."""

from __future__ import annotations

import uuid

import pytest
from conftest import ROOT_PASSWORD, api

AUTH = ("root", ROOT_PASSWORD)


@pytest.fixture
def owner(devpi_url):
    name = f"o{uuid.uuid4().hex[:10]}"
    assert api(devpi_url + f"/{name}", "PUT", {"password": "p-Pass-1"}, auth=AUTH)[0] == 201
    return name


@pytest.fixture
def index(run_module, devpi_url):
    def call(name, check_mode=False, **params):
        return run_module(
            "devpi_index",
            {"url": devpi_url, "login_password": ROOT_PASSWORD, "name": name, **params},
            check_mode=check_mode,
        )

    return call


def test_create_noop_and_config(index, owner):
    first = index(f"{owner}/stable", bases=["root/pypi"], volatile=False, acl_upload=[owner])
    assert first["changed"] is True, first
    assert (first["index"]["bases"], first["index"]["volatile"], first["index"]["acl_upload"]) == (
        ["root/pypi"],
        False,
        [owner],
    )
    assert index(f"{owner}/stable", bases=["root/pypi"], volatile=False, acl_upload=[owner])["changed"] is False


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("bases", ["root/pypi"]),
        ("volatile", False),
        ("acl_upload", [":ANONYMOUS:"]),
        ("acl_toxresult_upload", ["root"]),
        ("mirror_whitelist", ["requests"]),
        ("mirror_whitelist_inheritance", "union"),
        ("title", "Stable packages"),
        ("description", "What CI publishes"),
    ],
)
def test_modify_each_key(index, owner, key, value):
    index(f"{owner}/dev")
    changed = index(f"{owner}/dev", **{key: value})
    assert changed["changed"] is True
    assert changed["index"][key] == value
    assert changed["diff"]["after"][key] == value
    assert index(f"{owner}/dev", **{key: value})["changed"] is False


def test_check_mode_changes_nothing(index, owner, devpi_url):
    created = index(f"{owner}/dev", check_mode=True, volatile=True)
    assert created["changed"] is True
    assert api(devpi_url + f"/{owner}/dev")[0] == 404
    index(f"{owner}/dev", volatile=True)
    modified = index(f"{owner}/dev", check_mode=True, volatile=False)
    assert modified["changed"] is True
    assert api(devpi_url + f"/{owner}/dev")[1]["result"]["volatile"] is True


def test_mirror_index(index, owner):
    result = index(
        f"{owner}/mirror",
        type="mirror",
        mirror_url="https://pypi.org/simple/",
        mirror_no_project_list=True,
        mirror_cache_expiry=600,
    )
    assert result["changed"] is True
    assert (result["index"]["type"], result["index"]["mirror_cache_expiry"]) == ("mirror", 600)


def test_type_change_is_an_error(index, owner):
    index(f"{owner}/dev")
    result = index(f"{owner}/dev", type="mirror", mirror_url="https://pypi.org/simple/")
    assert result["failed"] is True
    assert "is a stage index; devpi cannot change it to mirror" in result["msg"]


def test_stage_with_mirror_url_and_mirror_without_one(index, owner):
    stage = index(f"{owner}/dev", mirror_url="https://pypi.org/simple/")
    assert stage["failed"] is True
    assert stage["msg"] == f"{owner}/dev: mirror_url: only for mirror indexes; this is a stage"
    mirror = index(f"{owner}/m", type="mirror")
    assert mirror["msg"] == f"mirror_url is required to create the mirror index {owner}/m"


def test_config_takes_the_keys_as_one_mapping(index, owner):
    config = {"bases": ["root/pypi"], "volatile": False, "acl_upload": [owner], "title": "Stable"}
    created = index(f"{owner}/stable", config=config)
    assert created["changed"] is True, created
    assert {key: created["index"][key] for key in config} == config
    assert index(f"{owner}/stable", config=config)["changed"] is False
    assert index(f"{owner}/stable", config={**config, "volatile": True})["index"]["volatile"] is True


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"volatile": "no"}, "volatile must be true or false, got 'no'"),
        ({"bases": "root/pypi"}, "bases must be a list of strings, got 'root/pypi'"),
        ({"volatil": True}, "unknown index keys ['volatil']"),
    ],
)
def test_config_is_checked_strictly_before_any_change(index, owner, devpi_url, config, message):
    result = index(f"{owner}/dev", config=config)
    assert result["failed"] is True
    assert result["msg"].startswith(f"{owner}/dev: {message}"), result["msg"]
    assert api(devpi_url + f"/{owner}/dev")[0] == 404


def test_config_and_separate_keys_are_exclusive(index, owner):
    result = index(f"{owner}/dev", config={"volatile": True}, title="x")
    assert result["failed"] is True
    assert "mutually exclusive: config|title" in result["msg"]


def test_absent_refuses_non_volatile_and_bases_unless_forced(index, owner, devpi_url):
    index(f"{owner}/stable", volatile=False)
    index(f"{owner}/staging", bases=[f"{owner}/stable"], volatile=True)
    refused = index(f"{owner}/stable", state="absent")
    assert refused["failed"] is True
    assert "it is not volatile" in refused["msg"]
    assert f"['{owner}/staging'] use it as a base" in refused["msg"]
    assert api(devpi_url + f"/{owner}/stable")[0] == 200
    assert index(f"{owner}/staging", state="absent")["changed"] is True
    assert index(f"{owner}/stable", state="absent", force=True)["changed"] is True
    assert api(devpi_url + f"/{owner}/stable")[0] == 404
    assert index(f"{owner}/stable", state="absent")["changed"] is False


def test_extra_keys_pass_through_and_unknown_keys_are_reported(index, owner):
    result = index(f"{owner}/dev", extra={"no_such_key": True})
    assert result["failed"] is True
    assert "answered HTTP 400" in result["msg"]


@pytest.mark.parametrize("name", ["nouser", "a/b/c", "/x", "a b/c"])
def test_bad_names(index, name):
    result = index(name)
    assert result["failed"] is True
    assert result["msg"] == f"name: {name!r} is not user/index"
