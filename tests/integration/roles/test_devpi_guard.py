"""The devpi_server role's devpi plugin (files/hostnative-devpi-guard): root only from trusted networks.

In-process tests of its decisions, then a real devpi-server with the plugin loaded (as the role installs it) asked
with every spelling of root's credentials we know devpi to accept. "From outside" is simulated the way Caddy
presents it: a loopback peer (the proxy) with X-Real-IP naming an address outside the trusted networks.
"""

from __future__ import annotations

import base64
import ipaddress
import json
import urllib.error
import urllib.request

import hostnative_devpi_guard as guard
import pytest
from conftest import ROOT_PASSWORD, api, start_devpi, stop_devpi

OUTSIDE = "192.0.2.7"  # TEST-NET-1, outside the trusted networks below
TRUSTED = "198.51.100.0/24"
INSIDE = "198.51.100.9"
ROOT_LOGIN = b'{"user": "root", "password": "x"}'
ALICE_LOGIN = b'{"user": "alice", "password": "x"}'


# ---- decisions, in process -------------------------------------------------------------------------------------------


def test_parse_networks_reads_a_comma_list_and_refuses_nonsense():
    assert guard.parse_networks(" 10.0.0.0/8, ::1/128 ,") == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert guard.parse_networks("") == ()
    with pytest.raises(ValueError):
        guard.parse_networks("10.0.0.0/33")


@pytest.mark.parametrize(
    ("peer", "real_ip", "expected"),
    [
        ("127.0.0.1", OUTSIDE, OUTSIDE),  # the proxy says who the client was
        ("127.0.0.1", f"10.1.1.1, {OUTSIDE}", OUTSIDE),  # the last hop is the proxy's own word
        ("127.0.0.1", None, "127.0.0.1"),  # a local program talking to devpi directly
        (OUTSIDE, "127.0.0.1", OUTSIDE),  # not a proxy: its header is ignored
        ("::ffff:127.0.0.1", OUTSIDE, OUTSIDE),  # IPv4 on a dual-stack socket is still loopback
        ("127.0.0.1", "not-an-address", None),
    ],
)
def test_client_address_trusts_the_header_only_from_a_proxy(peer, real_ip, expected):
    proxies = guard.parse_networks("127.0.0.0/8,::1/128")
    found = guard.client_address(peer, real_ip, proxies)
    assert found == (ipaddress.ip_address(expected) if expected else None)


@pytest.mark.parametrize(
    ("body", "user"),
    [
        (b'{"user": "root", "password": "x"}', "root"),
        (b'{"user": "alice", "password": "x"}', "alice"),
        (b'{"user": ["root"]}', None),
        (b"[1, 2]", None),
        (b"\xff", None),
        (b"", None),
    ],
)
def test_login_user(body, user):
    assert guard.login_user(body) == user


class FakeRequest:
    """Only the attributes the guard reads; identity stands for what devpi's security policy decided."""

    def __init__(self, peer, real_ip=None, **request):
        self.client_addr = peer
        self.headers = {"X-Real-IP": real_ip} if real_ip else {}
        self.method = request.get("method", "GET")
        self.path_info = request.get("path", "/+api")
        self.body = request.get("body", b"")
        self.identity = request.get("identity")


class Identity:
    def __init__(self, username):
        self.username = username


@pytest.mark.parametrize(
    ("request_", "refused"),
    [
        (FakeRequest("127.0.0.1", OUTSIDE, identity=Identity("root")), True),
        (FakeRequest("127.0.0.1", INSIDE, identity=Identity("root")), False),
        (FakeRequest("127.0.0.1", identity=Identity("root")), False),  # loopback is always trusted
        (FakeRequest("127.0.0.1", OUTSIDE, identity=Identity("alice")), False),
        (FakeRequest("127.0.0.1", OUTSIDE), False),
        (FakeRequest("127.0.0.1", OUTSIDE, method="POST", path="/+login", body=ROOT_LOGIN), True),
        (FakeRequest("127.0.0.1", OUTSIDE, method="POST", path="/+login/", body=ROOT_LOGIN), True),
        (
            FakeRequest(
                "127.0.0.1", OUTSIDE, method="POST", path="/+login", body=b'{"user": "alice", "password": "x"}'
            ),
            False,
        ),
        (FakeRequest("127.0.0.1", INSIDE, method="POST", path="/+login", body=ROOT_LOGIN), False),
    ],
)
def test_guard_refuses_root_from_outside_only(request_, refused):
    networks = guard.parse_networks(f"{TRUSTED},127.0.0.0/8,::1/128")
    assert guard.Guard(networks, guard.parse_networks("127.0.0.0/8")).refuses(request_) is refused


# ---- a real devpi-server with the plugin -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """devpi with root's password, root allowed from TRUSTED (and loopback), the loopback peer a trusted proxy."""
    args = ["--root-trusted-networks", TRUSTED, "--root-trusted-proxies", "127.0.0.0/8"]
    url, proc = start_devpi(tmp_path_factory.mktemp("guard") / "server", ROOT_PASSWORD, args)
    yield url
    stop_devpi(proc)


def call(url, path, headers=None, method="GET", body=None):
    """(status, parsed JSON or text) of a raw request; headers exactly as given."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url + path, data=data, method=method)  # noqa: S310 - loopback URL
    request.add_header("Accept", "application/json")
    if body is not None:
        request.add_header("Content-Type", "application/json")
    for name, value in (headers or {}).items():
        request.add_header(name, value)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback URL
            status, text = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, text = exc.code, exc.read()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text.decode(errors="replace")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def credential_variants(token):
    """Spellings of root's credentials: what a proxy's header pattern would have to foresee."""
    basic = b64(f"root:{ROOT_PASSWORD}")
    devpi = b64(f"root:{token}")
    variants = {
        "basic": {"Authorization": f"Basic {basic}"},
        "basic lower": {"authorization": f"basic {basic}"},
        "basic upper": {"Authorization": f"BASIC {basic}"},
        "basic two spaces": {"Authorization": f"Basic  {basic}"},
        "basic unpadded": {"Authorization": f"Basic {basic.rstrip('=')}"},
        "basic star": {"Authorization": f"*Basic {basic}"},
        "basic dot inside": {"Authorization": f"Basic {basic[:4]}.{basic[4:]}"},
        "basic space inside": {"Authorization": f"Basic {basic[:4]} {basic[4:]}"},
        "token": {"X-Devpi-Auth": devpi},
        "token lower header": {"x-devpi-auth": devpi},
        "token star": {"X-Devpi-Auth": f"*{devpi}"},
        "token dot inside": {"X-Devpi-Auth": f"{devpi[:4]}.{devpi[4:]}"},
        "token space inside": {"X-Devpi-Auth": f"{devpi[:4]} {devpi[4:]}"},
        "token unpadded": {"X-Devpi-Auth": devpi.rstrip("=")},
        "token and bogus basic": {"X-Devpi-Auth": devpi, "Authorization": "Basic Ym9ndXM6Ym9ndXM="},
        "cookie": {"Cookie": f"X-Devpi-Auth={devpi}; auth={basic}"},
    }
    return variants


def test_every_spelling_devpi_takes_as_root_is_refused_from_outside_and_allowed_inside(guarded):
    status, login = call(guarded, "/+login", method="POST", body={"user": "root", "password": ROOT_PASSWORD})
    assert status == 200, login
    token = login["result"]["password"]
    root_spellings = []
    for name, headers in credential_variants(token).items():
        _status, inside = call(guarded, "/+api", {**headers, "X-Real-IP": INSIDE})
        if inside["result"]["authstatus"][1] != "root":
            continue  # devpi does not take this one as root: nothing to refuse
        root_spellings.append(name)
        status, outside = call(guarded, "/+api", {**headers, "X-Real-IP": OUTSIDE})
        assert status == 403, (name, outside)
        assert outside["message"] == "root is not allowed from this network"
        # The same from a loopback program that talks to devpi directly (no proxy header): allowed.
        assert call(guarded, "/+api", headers)[1]["result"]["authstatus"][1] == "root", name
    # The list is not vacuous: devpi accepts these spellings as root, and more than the plain ones.
    assert {"basic", "basic lower", "token", "token lower header"} <= set(root_spellings), root_spellings
    assert len(root_spellings) >= 6, root_spellings


def test_management_as_root_from_outside_changes_nothing(guarded):
    headers = {"Authorization": f"Basic {b64(f'root:{ROOT_PASSWORD}')}", "X-Real-IP": OUTSIDE}
    status, _body = call(guarded, "/root/fromoutside", headers, method="PUT", body={"type": "stage"})
    assert status == 403
    assert api(guarded + "/root/fromoutside")[0] == 404
    headers["X-Real-IP"] = INSIDE
    assert call(guarded, "/root/frominside", headers, method="PUT", body={"type": "stage"})[0] == 200


def test_login_as_root_from_outside_is_refused_and_gives_no_token(guarded):
    for password in (ROOT_PASSWORD, "wrong"):
        status, body = call(
            guarded, "/+login", {"X-Real-IP": OUTSIDE}, method="POST", body={"user": "root", "password": password}
        )
        assert status == 403, body
        assert "password" not in json.dumps(body.get("result") or {})
    status, body = call(
        guarded, "/+login", {"X-Real-IP": INSIDE}, method="POST", body={"user": "root", "password": ROOT_PASSWORD}
    )
    assert status == 200
    # A token from that trusted login, replayed from outside, is refused too.
    token = b64(f"root:{body['result']['password']}")
    assert call(guarded, "/+api", {"X-Devpi-Auth": token, "X-Real-IP": OUTSIDE})[0] == 403


def test_other_users_and_anonymous_reads_from_outside_are_untouched(guarded):
    root = ("root", ROOT_PASSWORD)
    assert api(guarded + "/alice", "PUT", {"password": "alice-Pass-1"}, auth=root)[0] == 201
    alice = {"Authorization": f"Basic {b64('alice:alice-Pass-1')}", "X-Real-IP": OUTSIDE}
    status, body = call(guarded, "/+api", alice)
    assert (status, body["result"]["authstatus"][1]) == (200, "alice")
    status, body = call(
        guarded, "/+login", {"X-Real-IP": OUTSIDE}, method="POST", body={"user": "alice", "password": "alice-Pass-1"}
    )
    assert status == 200
    assert call(guarded, "/root/", {"X-Real-IP": OUTSIDE})[0] == 200


def test_without_trusted_networks_the_plugin_does_nothing(tmp_path):
    url, proc = start_devpi(tmp_path / "server", ROOT_PASSWORD)
    try:
        headers = {"Authorization": f"Basic {b64(f'root:{ROOT_PASSWORD}')}", "X-Real-IP": OUTSIDE}
        status, body = call(url, "/+api", headers)
        assert (status, body["result"]["authstatus"][1]) == (200, "root")
    finally:
        stop_devpi(proc)
