# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The caddy_site_blocks filter; documentation in caddy_site_blocks.yml beside this file."""

from __future__ import annotations

import json
import re

_ADDRESS = re.compile(r"^(?:(?P<scheme>[a-z]+)://)?(?P<host>\[[^\]]*\]|[^:/]*)(?::(?P<port>[0-9]+))?(?P<path>/.*)?$")


def _host_and_port(address):
    match = _ADDRESS.match(address.strip())
    if not match:
        raise ValueError(f"not a Caddy site address: {address!r}")
    port = match["port"] or ("80" if match["scheme"] == "http" else "443")
    return match["host"].lower(), port


def _listens_on(server, port):
    return any(str(listen).rsplit(":", 1)[-1] == port for listen in server.get("listen", []))


def _hosts(route):
    return {host.lower() for matcher in route.get("match") or [] for host in matcher.get("host", [])}


def caddy_site_blocks(config, address):
    """How many site blocks of an adapted Caddy config serve `address` (its host on its port).

    Caddy merges the site blocks of one host into one route and lets the first win; each block is one subroute
    handler of that route. A bare `:port` address is 1 when anything on that port answers without a host: Caddy
    refuses a second block of the same bare address itself ("ambiguous site definition"), and a bare site alone on
    its port is adapted into one route per `handle` block rather than one per site block."""
    if isinstance(config, str):
        config = json.loads(config) if config.strip() else {}
    host, port = _host_and_port(address)
    servers = (((config or {}).get("apps") or {}).get("http") or {}).get("servers") or {}
    count = 0
    for server in servers.values():
        if not _listens_on(server, port):
            continue
        for route in server.get("routes") or []:
            hosts = _hosts(route)
            if (host in hosts) if host else not hosts:
                count += sum(1 for handler in route.get("handle") or [] if handler.get("handler") == "subroute")
    return count if host else min(count, 1)


class FilterModule:
    def filters(self):
        return {"caddy_site_blocks": caddy_site_blocks}
