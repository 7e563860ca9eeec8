"""module_utils/_devpi_client.py in process: the requests it makes and how it reads devpi's answers.

`open_url` is replaced by a recorder that answers from a table, so the exact request (method, URL, headers, body,
Basic auth or none) is observed, and devpi's error shapes are fed back; the real devpi-server is used by the
module tests.
"""

from __future__ import annotations

import io
import json
import urllib.error

import pytest
from ansible_collections.hostnative.devpi.plugins.module_utils import _devpi_client
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import DevpiClient, DevpiError


class Response(io.BytesIO):
    def __init__(self, status, payload):
        super().__init__(payload if isinstance(payload, bytes) else json.dumps(payload).encode())
        self.status = status

    def getcode(self):
        return self.status


@pytest.fixture
def devpi(monkeypatch):
    """Answers by (method, URL): a payload (200), (status, payload), or an exception; records every call."""
    answers, calls = {}, []

    def fake_open_url(url, **kwargs):
        calls.append({"url": url, **kwargs})
        answer = answers[(kwargs["method"], url)]
        if isinstance(answer, Exception):
            raise answer
        status, payload = answer if isinstance(answer, tuple) else (200, answer)
        if status >= 400:
            body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            raise urllib.error.HTTPError(url, status, "error", {}, io.BytesIO(body))
        return Response(status, payload)

    monkeypatch.setattr(_devpi_client, "open_url", fake_open_url)
    return answers, calls


def test_a_request_with_credentials_sends_basic_auth_and_json(devpi):
    answers, calls = devpi
    answers[("PUT", "https://d.example/alice")] = (201, {"type": "userconfig", "result": {"username": "alice"}})
    client = DevpiClient("https://d.example/", ("root", "pw"), timeout=7, validate_certs=False, ca_path="/ca.pem")
    status, result = client.request("PUT", "/alice", {"password": "x"}, expect=(201,))
    assert (status, result) == (201, {"username": "alice"})
    (call,) = calls
    assert call["url"] == "https://d.example/alice"  # no double slash from the base's trailing one
    assert (call["url_username"], call["url_password"], call["force_basic_auth"]) == ("root", "pw", True)
    assert call["headers"] == {"Accept": "application/json", "Content-Type": "application/json"}
    assert json.loads(call["data"]) == {"password": "x"}
    assert (call["timeout"], call["validate_certs"], call["ca_path"]) == (7, False, "/ca.pem")
    assert call["follow_redirects"] == "none"


def test_anonymous_clients_and_auth_false_send_no_credentials(devpi):
    answers, calls = devpi
    answers[("GET", "http://d/root/pypi")] = {"result": {"type": "mirror"}}
    DevpiClient("http://d").request("GET", "/root/pypi")
    DevpiClient("http://d", ("root", "pw")).request("GET", "/root/pypi", auth=False)
    assert all("url_username" not in call for call in calls)
    assert all("data" in call and call["data"] is None for call in calls)


def test_an_unexpected_status_raises_with_devpis_message(devpi):
    answers, _calls = devpi
    answers[("PATCH", "http://d/u/i")] = (403, {"message": "no permission to modify"})
    with pytest.raises(DevpiError, match=r"^PATCH /u/i answered HTTP 403: no permission to modify$"):
        DevpiClient("http://d", ("u", "p")).request("PATCH", "/u/i", ["volatile=False"])
    answers[("GET", "http://d/x")] = (500, b"<html>oops</html>")
    with pytest.raises(DevpiError, match="answered HTTP 500: no message"):
        DevpiClient("http://d").request("GET", "/x")


def test_no_answer_at_all_is_said_so(devpi):
    answers, _calls = devpi
    answers[("GET", "http://d/+api")] = urllib.error.URLError("connection refused")
    with pytest.raises(DevpiError, match=r"GET http://d/\+api: devpi did not answer: .*connection refused"):
        DevpiClient("http://d").request("GET", "/+api")


def test_get_is_none_for_a_missing_resource(devpi):
    answers, _calls = devpi
    answers[("GET", "http://d/nobody")] = (404, {"message": "user does not exist"})
    answers[("GET", "http://d/root")] = {"result": {"username": "root"}}
    client = DevpiClient("http://d")
    assert client.get("/nobody") is None
    assert client.get("/root") == {"username": "root"}


def test_can_login_posts_without_basic_auth_and_reads_401_as_no(devpi):
    answers, calls = devpi
    client = DevpiClient("http://d", ("root", "admin-pw"))
    answers[("POST", "http://d/+login")] = {"result": {"password": "token"}}
    assert client.can_login("alice", "right") is True
    answers[("POST", "http://d/+login")] = (401, {"message": "user 'alice' could not be authenticated"})
    assert client.can_login("alice", "wrong") is False
    assert [json.loads(call["data"]) for call in calls] == [
        {"user": "alice", "password": "right"},
        {"user": "alice", "password": "wrong"},
    ]
    assert all("url_username" not in call for call in calls)


def test_all_indexes_flattens_devpis_listing(devpi):
    answers, _calls = devpi
    answers[("GET", "http://d/")] = {
        "result": {
            "root": {"indexes": {"pypi": {"type": "mirror"}}},
            "alice": {"indexes": {"dev": {"type": "stage"}, "prod": {"type": "stage"}}},
            "bob": {},
        }
    }
    assert DevpiClient("http://d").all_indexes() == {
        "root/pypi": {"type": "mirror"},
        "alice/dev": {"type": "stage"},
        "alice/prod": {"type": "stage"},
    }
