"""The connect backend in process: the REAL onepasswordconnectsdk, with its HTTP transport replaced by an httpx
MockTransport that answers from fake_connect.ConnectAPI (Connect's REST answers, the same ones the fake server
gives the integration tests over HTTP - 1Password Connect is a hosted service). Errors never hold a value or token."""

from __future__ import annotations

import json

import httpx
import pytest
from ansible_collections.hostnative.devpi.plugins.plugin_utils import _secret_connect
from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import SecretError, parse_reference
from fake_connect import API_KEY, ROOT_PASSWORD, TOKEN, UPLOAD_PASSWORD, VAULT, ConnectAPI

SECRETS = (ROOT_PASSWORD, API_KEY, UPLOAD_PASSWORD, TOKEN, "dup-one", "dup-two")


@pytest.fixture
def api(monkeypatch):
    """The Connect API the backend talks to; `api.failure` makes the transport raise instead of answering."""
    api = ConnectAPI()
    api.failure = None

    def handle(request):
        if api.failure is not None:
            raise api.failure
        path = request.url.raw_path.decode()
        api.requests.append(path)
        status, body, content_type = api.answer(path, request.headers.get("Authorization", ""))
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.Response(status, content=payload, headers={"Content-Type": content_type})

    monkeypatch.setattr(_secret_connect.httpx, "HTTPTransport", lambda retries: httpx.MockTransport(handle))
    return api


def backend(token=TOKEN):
    return _secret_connect.ConnectBackend("http://connect.example", token, timeout=2, retries=0)


def read(text, connect=None):
    return (connect or backend()).read(parse_reference(text))


def error_of(call):
    with pytest.raises(SecretError) as info:
        call()
    message = str(info.value)
    assert not [secret for secret in SECRETS if secret in message], message
    return message


def test_a_field_by_names_and_by_ids(api):
    assert read("op://devpi/devpi/root password") == ROOT_PASSWORD
    assert read("op://DEVPI/Devpi/Root Password") == ROOT_PASSWORD  # names match whatever their case
    assert read(f"op://{VAULT['id']}/2fcbqwe9ndg175zg2dzwftvkpa/password") == ROOT_PASSWORD


def test_several_fields_of_one_item_cost_one_fetch(api):
    connect = backend()
    assert read("op://devpi/devpi/root password", connect) == ROOT_PASSWORD
    assert read("op://devpi/devpi/username", connect) == "root"
    item_fetches = [path for path in api.requests if path.startswith(f"/v1/vaults/{VAULT['id']}/items/")]
    assert item_fetches == [f"/v1/vaults/{VAULT['id']}/items/2fcbqwe9ndg175zg2dzwftvkpa"]
    assert [path for path in api.requests if path == "/v1/vaults"] == ["/v1/vaults"]


def test_a_section_scopes_the_field(api):
    assert read("op://devpi/devpi/admin/api key") == API_KEY
    assert error_of(lambda: read("op://devpi/devpi/admin/root password")).endswith("field 'root password' not found")
    assert error_of(lambda: read("op://devpi/devpi/nosection/api key")).endswith("section 'nosection' not found")


def test_a_title_with_ampersand_and_plus_is_quoted_for_the_filter(api):
    assert read("op://devpi/R&D + Ops/password") == UPLOAD_PASSWORD
    assert any("R%26D%20%2B%20Ops" in path for path in api.requests)


def test_an_unknown_vault_says_the_token_may_not_see_it(api):
    assert error_of(lambda: read("op://nope/devpi/password")) == (
        "secret op://nope/devpi/password (connect backend): vault 'nope' not found among the 2 vault(s) this Connect "
        "token can see (a token reads only the vaults it was granted: check the vault's name and the token's access)"
    )


def test_an_ambiguous_title_says_how_many(api):
    assert error_of(lambda: read("op://devpi/dup/password")).endswith(
        "item 'dup' in vault 'devpi' is ambiguous (2 match); use its ID to pick one"
    )


def test_an_unknown_item_and_a_missing_field(api):
    assert error_of(lambda: read("op://devpi/ghost/password")).endswith("item 'ghost' in vault 'devpi' not found")
    assert error_of(lambda: read("op://devpi/devpi/nothing")).endswith("field 'nothing' not found")


def test_a_wrong_token_is_the_servers_401(api):
    message = error_of(lambda: read("op://devpi/devpi/root password", backend(token="nope-nope")))
    assert message.endswith("Received 401 for /v1/vaults with message Invalid token signature")
    assert "nope-nope" not in message


def test_a_proxys_html_error_page_is_named_as_such(api):
    api.mode = "html502"
    assert error_of(lambda: read("op://devpi/devpi/root password")).endswith(
        "http://connect.example answered with something that is not JSON (a proxy error page?)"
    )


@pytest.mark.parametrize(
    ("failure", "says"),
    [
        (httpx.ReadTimeout("timed out"), "no answer from http://connect.example within 2 s"),
        (httpx.ConnectError("connection refused"), "cannot connect to http://connect.example: connection refused"),
        (httpx.RemoteProtocolError("bad"), "HTTP error talking to http://connect.example: RemoteProtocolError"),
    ],
)
def test_transport_failures_are_named(api, failure, says):
    api.failure = failure
    assert error_of(lambda: read("op://devpi/devpi/root password")).endswith(says)


@pytest.mark.parametrize(
    ("host", "token", "says"), [("", TOKEN, "OP_CONNECT_HOST"), ("http://c", "", "OP_CONNECT_TOKEN")]
)
def test_host_and_token_are_required(host, token, says):
    assert says in error_of(lambda: _secret_connect.ConnectBackend(host, token))
