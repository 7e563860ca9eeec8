"""devpi_user against a REAL devpi-server (session fixture in conftest.py), run as Ansible runs modules."""

from __future__ import annotations

import uuid

import pytest
from conftest import ROOT_PASSWORD, api


@pytest.fixture
def user(run_module, devpi_url):
    name = f"u{uuid.uuid4().hex[:10]}"

    def call(check_mode=False, **params):
        args = {"url": devpi_url, "login_password": ROOT_PASSWORD, "name": name, **params}
        return run_module("devpi_user", args, check_mode=check_mode)

    call.name = name
    return call


def login(url, name, password):
    return api(url + "/+login", "POST", {"user": name, "password": password})[0] == 200


def test_create_then_noop(user, devpi_url):
    first = user(password="first-Pass-1", email="a@example.org")
    assert first["changed"] is True, first
    assert first["user"]["email"] == "a@example.org"
    assert login(devpi_url, user.name, "first-Pass-1")
    again = user(password="first-Pass-1", email="a@example.org")
    assert again["changed"] is False


def test_password_is_checked_by_logging_in(user, devpi_url):
    user(password="first-Pass-1")
    changed = user(password="second-Pass-2")
    assert changed["changed"] is True
    assert changed["diff"]["after"]["password"] == "********"
    assert "second-Pass-2" not in str(changed)
    assert login(devpi_url, user.name, "second-Pass-2")
    assert not login(devpi_url, user.name, "first-Pass-1")
    on_create = user(password="third-Pass-3", update_password="on_create")
    assert on_create["changed"] is False
    assert login(devpi_url, user.name, "second-Pass-2")


def test_update_email_and_title_with_diff(user):
    user(password="p-Pass-1", email="old@example.org")
    result = user(email="new@example.org", title="New Name")
    assert result["changed"] is True
    assert result["diff"]["before"]["email"] == "old@example.org"
    assert (result["diff"]["after"]["email"], result["diff"]["after"]["title"]) == ("new@example.org", "New Name")
    assert result["user"]["title"] == "New Name"


def test_check_mode_creates_nothing(user, devpi_url):
    result = user(check_mode=True, password="p-Pass-1")
    assert result["changed"] is True
    assert api(devpi_url + f"/{user.name}")[0] == 404


def test_create_needs_a_password(user):
    result = user(email="x@example.org")
    assert result["failed"] is True
    assert result["msg"] == f"password is required to create user {user.name!r} (or login=false for a namespace)"


def test_a_namespace_user_has_no_password_and_owns_indexes(user, devpi_url):
    created = user(login=False, title="Team namespace")
    assert created["changed"] is True, created
    assert created["user"]["title"] == "Team namespace"
    assert "password" not in created["diff"]["after"]
    for password in ("", " ", "x", "None", "null"):
        assert not login(devpi_url, user.name, password)
    created_index = api(
        devpi_url + f"/{user.name}/stable", "PUT", {"type": "stage", "bases": []}, auth=("root", ROOT_PASSWORD)
    )
    assert created_index[0] in {200, 201}
    assert user(login=False, title="Team namespace")["changed"] is False


def test_a_namespace_user_takes_no_password(user, devpi_url):
    result = user(login=False, password="p-Pass-1")
    assert result["failed"] is True
    assert result["msg"] == f"password: not with login=false (user {user.name!r} has no password)"
    assert api(devpi_url + f"/{user.name}")[0] == 404


def test_absent_refuses_a_user_with_non_volatile_indexes_unless_forced(user, devpi_url):
    user(password="p-Pass-1")
    auth = ("root", ROOT_PASSWORD)
    assert api(devpi_url + f"/{user.name}/keep", "PUT", {"type": "stage", "volatile": False}, auth=auth)[0] == 200
    refused = user(state="absent")
    assert refused["failed"] is True
    assert "owns non-volatile indexes ['keep']" in refused["msg"]
    assert api(devpi_url + f"/{user.name}/keep")[0] == 200
    forced = user(state="absent", force=True)
    assert forced["changed"] is True
    assert api(devpi_url + f"/{user.name}")[0] == 404
    assert user(state="absent")["changed"] is False


def test_wrong_login_password_is_a_clear_error(user, run_module, devpi_url):
    user(password="p-Pass-1")
    args = {"url": devpi_url, "login_password": "not-the-root-pw", "name": user.name, "email": "x@example.org"}
    result = run_module("devpi_user", args)
    assert result["failed"] is True
    assert result["msg"].startswith(f"PATCH /{user.name} answered HTTP 40")
    assert "not-the-root-pw" not in str(result)
