"""devpi_user's main() in process: AnsibleModule with patched arguments against the recording stand-in for devpi's
API (tests/harness/devpi_api_stub.py; the module against a real devpi-server is in
tests/integration/plugins/modules/test_devpi_user.py). Passwords never reach the result."""

from __future__ import annotations

import json

import pytest
from ansible_collections.hostnative.devpi.plugins.modules import devpi_user
from devpi_api_stub import Server, runner

PASSWORD = "user-Secret-Pass-1"


@pytest.fixture
def run(monkeypatch, capsys):
    def run_and_check_no_password(server, **params):
        result = runner(devpi_user, monkeypatch, capsys)(server, **params)
        assert PASSWORD not in json.dumps(result)
        return result

    return run_and_check_no_password


def alice(**config):
    return {"/alice": {"username": "alice", "email": "a@example.org", "indexes": {}, **config}}


def test_creates_a_user_with_password_and_email(run):
    server = Server()
    result = run(server, name="alice", password=PASSWORD, email="a@example.org")
    assert server.writes == [("PUT", "/alice", {"password": PASSWORD, "email": "a@example.org"})]
    assert result["changed"] is True
    assert result["diff"]["after"]["password"] == devpi_user.MASK


def test_a_namespace_user_is_created_with_an_explicit_null_password(run):
    server = Server()
    result = run(server, name="shared", login=False, title="Team")
    assert server.writes == [("PUT", "/shared", {"password": None, "title": "Team"})]
    assert "password" not in result["diff"]["after"]


def test_a_password_with_login_false_is_refused(run):
    result = run(Server(), name="shared", login=False, password=PASSWORD)
    assert result["msg"] == "password: not with login=false (user 'shared' has no password)"


def test_creating_needs_a_password(run):
    result = run(Server(), name="alice")
    assert result["msg"] == "password is required to create user 'alice' (or login=false for a namespace)"


def test_check_mode_creates_nothing(run):
    server = Server()
    assert run(server, check_mode=True, name="alice", password=PASSWORD)["changed"] is True
    assert server.writes == []


def test_a_user_as_wanted_is_left_alone(run):
    server = Server(alice(), passwords={"alice": PASSWORD})
    result = run(server, name="alice", password=PASSWORD, email="a@example.org")
    assert (result["changed"], server.writes) == (False, [])


def test_a_password_that_does_not_log_in_is_set_with_always(run):
    server = Server(alice(), passwords={"alice": "old"})
    result = run(server, name="alice", password=PASSWORD)
    assert server.writes == [("PATCH", "/alice", {"password": PASSWORD})]
    assert result["diff"]["after"]["password"] == devpi_user.MASK


def test_on_create_never_resets_a_live_password(run):
    server = Server(alice(), passwords={"alice": "old"})
    result = run(server, name="alice", password=PASSWORD, update_password="on_create")
    assert (result["changed"], server.writes) == (False, [])


def test_only_changed_keys_are_patched(run):
    server = Server(alice(), passwords={"alice": PASSWORD})
    result = run(server, name="alice", password=PASSWORD, email="new@example.org")
    assert server.writes == [("PATCH", "/alice", {"email": "new@example.org"})]
    assert (result["diff"]["before"]["email"], result["diff"]["after"]["email"]) == ("a@example.org", "new@example.org")
    assert "password" not in result["diff"]["after"]


def test_check_mode_patches_nothing(run):
    server = Server(alice(), passwords={"alice": "old"})
    assert run(server, check_mode=True, name="alice", password=PASSWORD, email="n@example.org")["changed"] is True
    assert server.writes == []


def test_absent_refuses_a_user_owning_non_volatile_indexes(run):
    server = Server(alice(indexes={"stable": {"volatile": False}, "dev": {"volatile": True}}))
    result = run(server, name="alice", state="absent")
    assert server.writes == []
    assert result["msg"] == (
        "user 'alice' owns non-volatile indexes ['stable']; deleting would lose their packages. Set force=true to "
        "delete them with the user."
    )


def test_absent_with_force_unlocks_the_indexes_then_deletes(run):
    server = Server(alice(indexes={"stable": {"volatile": False}}))
    server.resources["/alice/stable"] = {"volatile": False}
    assert run(server, name="alice", state="absent", force=True)["changed"] is True
    assert server.writes == [("PATCH", "/alice/stable", ["volatile=True"]), ("DELETE", "/alice", None)]


def test_absent_when_missing_is_no_change(run):
    assert run(Server(), name="alice", state="absent")["changed"] is False
