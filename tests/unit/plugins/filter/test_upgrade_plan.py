"""The upgrade_plan filter: which way devpi-server goes from the installed version to the target one, and when
that must not happen. The formats are .serverversion / DATABASE_VERSION values as devpi writes them ("4" from
4.9 through 6.20.3)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.upgrade_plan import FilterModule, upgrade_plan


@pytest.mark.parametrize("installed", ["5.5.1", "6.0.0", "6.20.2"])
def test_same_format_upgrades_in_place(installed):
    plan = upgrade_plan(installed, "6.20.3", ["4", "4"])
    assert plan == {
        "method": "in_place",
        "format_change": False,
        "downgrade": False,
        "refused": "",
        "reason": "same database format",
    }


@pytest.mark.parametrize(("data", "target"), [("4", "5"), ("3", "4"), ("4.1", "5.0")])
def test_a_different_major_is_a_format_change_and_goes_through_export(data, target):
    plan = upgrade_plan("6.20.3", "7.0.0", [data, target])
    assert (plan["method"], plan["format_change"], plan["refused"]) == ("export", True, "")
    assert plan["reason"] == "database format change"


def test_only_the_major_counts_as_devpi_compares_it():
    assert upgrade_plan("6.0.0", "6.20.3", ["4", "4.2"])["format_change"] is False


def test_an_unknown_target_format_is_no_format_change_yet():
    plan = upgrade_plan("6.0.0", "6.20.3", ["4", None])
    assert (plan["method"], plan["format_change"]) == ("in_place", False)
    assert plan["reason"] == "database format not known yet"


def test_export_can_be_forced_on_the_same_format_and_even_the_same_version():
    assert upgrade_plan("6.0.0", "6.20.3", ["4", "4"], "export")["method"] == "export"
    plan = upgrade_plan("6.20.3", "6.20.3", ["4", "4"], "export")
    assert (plan["method"], plan["reason"]) == ("export", "export forced")


def test_the_same_version_is_nothing_to_do():
    assert upgrade_plan("6.20.3", "6.20.3", ["4", "4"])["method"] == "none"


def test_nothing_installed_is_nothing_to_upgrade():
    assert upgrade_plan(None, "6.20.3")["method"] == "none"
    assert upgrade_plan("", "6.20.3")["reason"] == "not installed"


@pytest.mark.parametrize(("installed", "target"), [("6.20.3", "6.0.0"), ("6.10.0", "6.9.1"), ("6.0.0", "5.5.1")])
def test_a_downgrade_is_refused_unless_allowed(installed, target):
    plan = upgrade_plan(installed, target, ["4", "4"])
    assert plan["downgrade"] is True
    assert "devpi_server_allow_downgrade=true" in plan["refused"]
    assert f"devpi-server {installed} is installed and {target} is older" in plan["refused"]
    assert upgrade_plan(installed, target, ["4", "4"], "auto", True)["refused"] == ""


def test_versions_compare_as_versions_not_as_text():
    assert upgrade_plan("6.9.0", "6.10.0", ["4", "4"])["downgrade"] is False
    assert upgrade_plan("6.10.0", "6.10.0rc1", ["4", "4"])["downgrade"] is True


def test_in_place_across_a_format_change_is_refused():
    plan = upgrade_plan("6.20.3", "7.0.0", ["4", "5"], "in_place")
    assert "database format 4" in plan["refused"]
    assert "devpi_server_upgrade_method=in_place" in plan["refused"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("6.20.3", "6.20.3", ["4", "4"], "rsync"), "method 'rsync'"),
        (("six", "6.20.3"), "installed version 'six'"),
        (("6.0.0", "latest"), "target version 'latest'"),
    ],
)
def test_bad_input_is_named(args, message):
    with pytest.raises(AnsibleFilterError, match=message):
        upgrade_plan(*args)


def test_the_filter_is_registered():
    assert FilterModule().filters()["upgrade_plan"] is upgrade_plan
