"""onepassword_item against fake_connect.FakeConnect (1Password Connect is a hosted service that cannot run here; the
fake speaks its REST API - vaults and items by filter, POST and PUT of items checked as Connect checks them), run as
Ansible runs modules: an item is created, then its field replaced with the other fields kept; neither the value nor
the Connect token is ever in the result; the SDK the secret lookup uses reads back what was written."""

from __future__ import annotations

import json

import pytest
from fake_connect import TOKEN, VAULT, FakeConnect
from onepasswordconnectsdk.client import new_client

SECRET = "devpi-AgEXAMPLEtoken-value-1"


@pytest.fixture
def connect():
    fake = FakeConnect()
    yield fake
    fake.close()


@pytest.fixture
def store(run_module, connect):
    def call(check_mode=False, env=None, **params):
        args = {"vault": VAULT["name"], "title": "devpi ci-upload", "secret_value": SECRET, **params}
        environment = {"OP_CONNECT_HOST": connect.url, "OP_CONNECT_TOKEN": TOKEN, **(env or {})}
        result = run_module("onepassword_item", args, env=environment, check_mode=check_mode)
        assert SECRET not in json.dumps(result)
        assert TOKEN not in json.dumps(result)
        return result

    return call


def read_back(connect, title):
    client = new_client(connect.url, TOKEN)
    item = client.get_item_by_title(title, VAULT["id"])
    return {field.label: field.value for field in item.fields}, item


def test_created_then_updated_keeping_other_fields(store, connect):
    check = store(check_mode=True)
    assert (check["changed"], check["action"], check["item_id"]) == (True, "created", None)
    assert not any(request.startswith("POST") for request in connect.requests)
    created = store()
    assert (created["changed"], created["action"]) == (True, "created"), created
    fields, item = read_back(connect, "devpi ci-upload")
    assert fields == {"credential": SECRET}
    assert item.category == "API_CREDENTIAL"
    # Someone adds a note; the next token replaces the credential only.
    client = new_client(connect.url, TOKEN)
    item.fields.append(type(item.fields[0])(label="notes", value="for the CI of team x", type="STRING", purpose=""))
    client.update_item(item.id, VAULT["id"], item)
    updated = store(secret_value="devpi-AgEXAMPLEtoken-value-2")
    assert (updated["action"], updated["item_id"]) == ("updated", created["item_id"])
    fields, _item = read_back(connect, "devpi ci-upload")
    assert fields == {"notes": "for the CI of team x", "credential": "devpi-AgEXAMPLEtoken-value-2"}


@pytest.mark.parametrize(
    ("params", "env", "expected"),
    [
        ({"vault": "Nope"}, {}, "vault 'Nope': 0 vaults of that name"),
        ({}, {"OP_CONNECT_TOKEN": "wrong-token"}, "Connect answered HTTP 401: Invalid token signature"),
        ({}, {"OP_CONNECT_HOST": "http://127.0.0.1:9"}, "did not answer"),
        ({}, {"OP_CONNECT_HOST": ""}, "connect_host and connect_token (or OP_CONNECT_HOST and OP_CONNECT_TOKEN)"),
    ],
)
def test_failures_say_why(store, params, env, expected):
    result = store(env=env, **params)
    assert result.get("failed") is True
    assert expected in result["msg"]
