"""devpi_index's main() in process: AnsibleModule with patched arguments, the HTTP client replaced by a recording
stand-in for devpi's API (tests/harness/devpi_api_stub.py; the module against a real devpi-server is in
tests/integration/plugins/modules/test_devpi_index.py)."""

from __future__ import annotations

import pytest
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import DevpiError
from ansible_collections.hostnative.devpi.plugins.modules import devpi_index
from devpi_api_stub import Server as StubServer
from devpi_api_stub import runner


@pytest.fixture
def run(monkeypatch, capsys):
    return runner(devpi_index, monkeypatch, capsys)


def server_with(indexes=None):
    """The stand-in server holding {'user/index': config}."""
    return StubServer({f"/{name}": config for name, config in (indexes or {}).items()})


STAGE = {"type": "stage", "bases": ["root/pypi"], "volatile": True}


def test_creates_a_stage_with_the_keys_given(run):
    server = server_with()
    result = run(server, name="team/dev", bases=["root/pypi"], volatile=False)
    assert server.writes == [("PUT", "/team/dev", {"type": "stage", "bases": ["root/pypi"], "volatile": False})]
    assert (result["changed"], result["diff"]["before"]) == (True, {})
    assert result["index"] == {"type": "stage", "bases": ["root/pypi"], "volatile": False}


def test_check_mode_creates_nothing(run):
    server = server_with()
    result = run(server, check_mode=True, name="team/dev", bases=["root/pypi"])
    assert (server.writes, result["changed"]) == ([], True)
    assert result["index"] == {"type": "stage", "bases": ["root/pypi"]}


def test_an_index_as_wanted_is_left_alone(run):
    server = server_with({"team/dev": STAGE})
    result = run(server, name="team/dev", bases=["root/pypi"], volatile=True)
    assert (server.writes, result["changed"]) == ([], False)


def test_only_the_keys_that_differ_are_patched(run):
    server = server_with({"team/dev": {**STAGE, "title": "Dev"}})
    result = run(server, name="team/dev", volatile=False, title="Dev")
    assert server.writes == [("PATCH", "/team/dev", {"volatile": False})]
    assert result["changed"] is True
    assert (result["diff"]["before"]["volatile"], result["diff"]["after"]["volatile"]) == (True, False)


def test_check_mode_patches_nothing_but_shows_the_change(run):
    server = server_with({"team/dev": STAGE})
    result = run(server, check_mode=True, name="team/dev", volatile=False)
    assert server.writes == []
    assert (result["changed"], result["index"]["volatile"]) == (True, False)


def test_config_takes_the_same_keys_as_one_mapping(run):
    server = server_with({"team/dev": STAGE})
    result = run(server, name="team/dev", config={"volatile": False, "title": None})
    assert server.writes == [("PATCH", "/team/dev", {"volatile": False})]
    assert result["changed"] is True


def test_config_and_a_separate_key_are_mutually_exclusive(run):
    result = run(server_with(), name="team/dev", config={"volatile": False}, volatile=True)
    assert result["failed"] is True
    assert "mutually exclusive: config|volatile" in result["msg"]


def test_the_type_of_an_existing_index_is_never_changed(run):
    server = server_with({"team/dev": STAGE})
    result = run(server, name="team/dev", type="mirror", mirror_url="https://pypi.org/simple/")
    assert server.writes == []
    assert result["msg"] == (
        "team/dev is a stage index; devpi cannot change it to mirror. Delete and recreate it (its packages would be "
        "lost)."
    )


def test_a_mirror_needs_its_url(run):
    result = run(server_with(), name="team/mirror", type="mirror")
    assert result["msg"] == "mirror_url is required to create the mirror index team/mirror"


@pytest.mark.parametrize("name", ["team", "team/dev/x", "/dev", "team/", "te am/dev"])
def test_a_name_that_is_not_user_slash_index_is_refused(run, name):
    server = server_with()
    result = run(server, name=name)
    assert (result["msg"], server.writes) == (f"name: {name!r} is not user/index", [])


def test_bad_values_name_the_index_and_the_key(run):
    result = run(server_with(), name="team/dev", bases=["pypi"])
    assert result["msg"] == "team/dev: bases: 'pypi' is not user/index"
    result = run(server_with(), name="team/dev", type="stage", mirror_url="https://pypi.org/simple/")
    assert result["msg"] == "team/dev: mirror_url: only for mirror indexes; this is a stage"


def test_extra_plugin_keys_go_along(run):
    server = server_with()
    run(server, name="team/dev", extra={"push_to": "x"})
    assert server.writes == [("PUT", "/team/dev", {"type": "stage", "push_to": "x"})]


def test_absent_refuses_a_non_volatile_index_and_a_base_of_others(run):
    server = server_with({"team/stable": {**STAGE, "volatile": False}, "team/dev": {**STAGE, "bases": ["team/stable"]}})
    result = run(server, name="team/stable", state="absent")
    assert server.writes == []
    assert result["msg"] == (
        "refusing to delete team/stable: it is not volatile (its packages would be lost) and ['team/dev'] use it "
        "as a base. Set force=true to delete it anyway."
    )


def test_absent_with_force_makes_it_volatile_then_deletes_it(run):
    server = server_with({"team/stable": {**STAGE, "volatile": False}})
    result = run(server, name="team/stable", state="absent", force=True)
    assert server.writes == [("PATCH", "/team/stable", ["volatile=True"]), ("DELETE", "/team/stable", None)]
    assert (result["changed"], result["diff"]["after"]) == (True, {})


def test_absent_deletes_a_volatile_index_without_force(run):
    server = server_with({"team/dev": STAGE})
    assert run(server, name="team/dev", state="absent")["changed"] is True
    assert server.writes == [("DELETE", "/team/dev", None)]


def test_absent_in_check_mode_deletes_nothing(run):
    server = server_with({"team/dev": STAGE})
    assert run(server, check_mode=True, name="team/dev", state="absent")["changed"] is True
    assert server.writes == []


def test_absent_when_missing_is_no_change(run):
    server = server_with()
    assert run(server, name="team/dev", state="absent")["changed"] is False


def test_devpis_error_is_the_failure_message(run):
    class Failing(StubServer):
        def get(self, path):
            raise DevpiError("GET /team/dev: HTTP 502 Bad Gateway")

    result = run(Failing(), name="team/dev")
    assert (result["failed"], result["msg"]) == (True, "GET /team/dev: HTTP 502 Bad Gateway")
