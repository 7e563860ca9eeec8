"""devpi_user's decisions in process, against a recording stand-in for the HTTP client (the module's behaviour
against a real devpi is in tests/integration/plugins/modules/test_devpi_user.py)."""

from __future__ import annotations

import pytest
from ansible_collections.hostnative.devpi.plugins.modules import devpi_user

CURRENT = {"username": "ci", "email": "old@example.org", "title": "CI", "indexes": {}}


class Module:
    def __init__(self, check_mode, **params):
        self.check_mode = check_mode
        self.params = {
            "name": "ci",
            "password": None,
            "login": True,
            "update_password": "always",
            "email": None,
            "title": None,
            **params,
        }

    def fail_json(self, **kwargs):
        raise AssertionError(kwargs["msg"])


class Client:
    def __init__(self, logs_in=True):
        self.requests = []
        self.logs_in = logs_in

    def request(self, method, path, body=None, **_kwargs):
        self.requests.append((method, path, body))
        return 200, {}

    def get(self, path):
        return CURRENT

    def can_login(self, name, password):
        return self.logs_in


@pytest.mark.parametrize(
    ("params", "logs_in"),
    [({"email": "new@example.org"}, True), ({"password": "new-Pass-1"}, False), ({"title": "x"}, True)],
)
def test_check_mode_reports_the_change_and_sends_nothing(params, logs_in):
    client = Client(logs_in)
    changed, _after, _secret = devpi_user.ensure_present(Module(True, **params), client, CURRENT)
    assert changed is True
    assert client.requests == []
    real = Client(logs_in)
    assert devpi_user.ensure_present(Module(False, **params), real, CURRENT)[0] is True
    assert [method for method, _path, _body in real.requests] == ["PATCH"]


def test_check_mode_creates_nothing():
    client = Client()
    changed, after, secret = devpi_user.ensure_present(Module(True, password="p-Pass-1"), client, None)
    assert (changed, after["username"], secret) == (True, "ci", {"password": "********"})
    assert client.requests == []


def test_on_create_never_resets_a_live_password():
    client = Client(logs_in=False)
    module = Module(False, password="other-Pass-1", update_password="on_create")
    assert devpi_user.ensure_present(module, client, CURRENT)[0] is False
    assert client.requests == []
