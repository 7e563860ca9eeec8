"""devpi_token against a REAL devpi-server with the real devpi-tokens plugin (session fixture in conftest.py), run
as Ansible runs modules: a token is created once, kept, renewed when its scope changes or its file is lost, and
revoked - and devpi itself accepts or refuses it for an upload-permission check."""

from __future__ import annotations

import json
import time
import uuid

import pytest
from conftest import ROOT_PASSWORD, api, upload_allowed


@pytest.fixture
def owner(devpi_url):
    """A user with an index of its own."""
    name = f"t{uuid.uuid4().hex[:10]}"
    assert api(f"{devpi_url}/{name}", "PUT", {"password": "owner-Pass-1"}, auth=("root", ROOT_PASSWORD))[0] == 201
    assert api(f"{devpi_url}/{name}/dev", "PUT", {"bases": []}, auth=("root", ROOT_PASSWORD))[0] == 200
    return name


@pytest.fixture
def token(run_module, devpi_url, owner, tmp_path):
    def call(check_mode=False, **params):
        args = {
            "url": devpi_url,
            "login_password": ROOT_PASSWORD,
            "name": "ci",
            "user": owner,
            "indexes": [f"{owner}/dev"],
            "state_file": str(tmp_path / "tokens.json"),
            **params,
        }
        return run_module("devpi_token", args, check_mode=check_mode)

    return call


def test_created_once_then_kept_and_devpi_accepts_it_within_its_scope(token, devpi_url, owner, tmp_path):
    first = token(expires="30d", renew_before="1d")
    assert (first["changed"], first["action"]) == (True, "created"), first
    assert first["token"].startswith("devpi-")
    assert upload_allowed(devpi_url, owner, first["token"], f"{owner}/dev")
    state = json.loads((tmp_path / "tokens.json").read_text())
    assert (tmp_path / "tokens.json").stat().st_mode & 0o777 == 0o600
    assert first["token"] not in json.dumps(state)
    assert state["tokens"]["ci"]["scope"] == sorted(["allowed=upload", f"indexes={owner}/dev"])
    again = token(expires="30d", renew_before="1d")
    assert (again["changed"], again["action"], again["token"], again["id"]) == (False, "none", None, first["id"])


def test_a_new_scope_or_a_lost_file_renews_and_revokes_the_old_one(token, devpi_url, owner):
    first = token()
    wider = token(allowed=["upload", "pkg_read"])
    assert (wider["changed"], wider["action"]) == (True, "renewed")
    assert wider["id"] != first["id"]
    assert not upload_allowed(devpi_url, owner, first["token"], f"{owner}/dev")  # the old one stopped working
    assert upload_allowed(devpi_url, owner, wider["token"], f"{owner}/dev")
    forced = token(allowed=["upload", "pkg_read"], force_new=True)
    assert forced["action"] == "renewed"
    assert not upload_allowed(devpi_url, owner, wider["token"], f"{owner}/dev")


def test_expiring_within_renew_before_is_renewed(token):
    token(expires="1h", renew_before="30m")
    assert token(expires="1h", renew_before="30m")["changed"] is False
    assert token(expires="1h", renew_before="3599s")["action"] == "renewed"  # it has less than that left


def test_an_expired_token_is_refused_by_devpi(token, devpi_url, owner):
    short = token(expires="3s", renew_before="1s")
    assert upload_allowed(devpi_url, owner, short["token"], f"{owner}/dev")
    time.sleep(4)
    assert not upload_allowed(devpi_url, owner, short["token"], f"{owner}/dev")


def test_revoked_with_state_absent(token, devpi_url, owner):
    created = token()
    check = token(state="absent", check_mode=True)
    assert (check["changed"], check["action"]) == (True, "revoked")
    assert upload_allowed(devpi_url, owner, created["token"], f"{owner}/dev")  # check mode changed nothing
    revoked = token(state="absent")
    assert (revoked["changed"], revoked["action"]) == (True, "revoked")
    assert not upload_allowed(devpi_url, owner, created["token"], f"{owner}/dev")
    assert token(state="absent")["changed"] is False


def test_outside_its_index_it_is_refused(token, devpi_url, owner):
    assert api(f"{devpi_url}/{owner}/other", "PUT", {"bases": []}, auth=("root", ROOT_PASSWORD))[0] == 200
    created = token()
    assert not upload_allowed(devpi_url, owner, created["token"], f"{owner}/other")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"expires": "90"}, "expires='90' is not a duration"),
        ({"expires": "1d", "renew_before": "2d"}, "renew_before=2d must be shorter than expires=1d"),
        ({"user": "nobody-here"}, "user 'nobody-here' does not exist"),
    ],
)
def test_bad_input_fails_naming_it(token, params, expected):
    result = token(**params)
    assert result.get("failed") is True
    assert expected in result["msg"]
