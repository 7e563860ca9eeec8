"""root only from trusted networks, decided on the identity devpi itself authenticated.

A header pattern in a proxy cannot tell every spelling devpi accepts as root (Basic or X-Devpi-Auth, prefixes,
padding, whitespace, tokens from an earlier login); devpi's own security policy can. This plugin asks it: a request
from outside the trusted networks that devpi authenticates as root, or that logs in as root, is refused with 403.

The client address is the peer's, or the X-Real-IP header when the peer is a trusted proxy (Caddy on the same host
sets it from the connection and drops whatever the client sent). With no trusted networks configured the plugin
does nothing.
"""

from __future__ import annotations

import ipaddress
import json

from pluggy import HookimplMarker
from pyramid.response import Response

hookimpl = HookimplMarker("devpiserver")

ROOT = "root"
LOOPBACK = ("127.0.0.0/8", "::1/128")


def parse_networks(value):
    """A comma-separated list of CIDR networks (a bare address is its own /32 or /128)."""
    parts = (part.strip() for part in (value or "").split(","))
    return tuple(ipaddress.ip_network(part, strict=False) for part in parts if part)


def _address(text):
    try:
        address = ipaddress.ip_address((text or "").strip().strip("[]"))
    except ValueError:
        return None
    # An IPv4 client on a dual-stack socket shows up as ::ffff:a.b.c.d.
    return getattr(address, "ipv4_mapped", None) or address


def within(address, networks):
    return address is not None and any(address in network for network in networks)


def client_address(peer, real_ip, proxies):
    """The address the rule is about: the peer, or what a trusted proxy says the client was."""
    peer_address = _address(peer)
    if real_ip and within(peer_address, proxies):
        return _address(real_ip.split(",")[-1])
    return peer_address


def login_user(body):
    """The user a POST /+login asks for, or None when the body says none (devpi refuses those itself)."""
    try:
        data = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        return None
    user = data.get("user") if isinstance(data, dict) else None
    return user if isinstance(user, str) else None


def refusal():
    body = json.dumps({"type": "error", "message": "root is not allowed from this network"})
    return Response(body=body, status=403, content_type="application/json", charset="utf-8")


class Guard:
    def __init__(self, trusted, proxies):
        self.trusted = trusted
        self.proxies = proxies

    def is_trusted(self, request):
        address = client_address(request.client_addr, request.headers.get("X-Real-IP"), self.proxies)
        return within(address, self.trusted)

    def refuses(self, request):
        """True when the request comes from outside and devpi would act on it as root."""
        if self.is_trusted(request):
            return False
        if request.method == "POST" and request.path_info.rstrip("/") == "/+login":
            # Judged on the user asked for; the identity is left alone here: the login view works it out itself
            # once it has checked the password, and devpi caches it for the request.
            return login_user(request.body) == ROOT
        identity = request.identity
        return identity is not None and identity.username == ROOT


def guard_tween_factory(handler, registry):
    args = registry["xom"].config.args
    trusted = parse_networks(args.root_trusted_networks)
    if not trusted:
        return handler
    guard = Guard(trusted + parse_networks(",".join(LOOPBACK)), parse_networks(args.root_trusted_proxies))

    def guard_tween(request):
        if guard.refuses(request):
            return refusal()
        return handler(request)

    return guard_tween


@hookimpl
def devpiserver_add_parser_options(parser):
    group = parser.addgroup("root lockdown (hostnative-devpi-guard)")
    group.addoption(
        "--root-trusted-networks",
        default="",
        help="comma-separated CIDR networks root may act from (loopback always may); empty: no restriction",
    )
    group.addoption(
        "--root-trusted-proxies",
        default=",".join(LOOPBACK),
        help="comma-separated CIDR networks of proxies whose X-Real-IP header names the client",
    )


@hookimpl
def devpiserver_pyramid_configure(config, pyramid_config):
    # Under devpi's keyfs transaction: working out the identity reads users from the database.
    pyramid_config.add_tween(
        "hostnative_devpi_guard.guard_tween_factory", under="devpi_server.views.tween_keyfs_transaction"
    )
