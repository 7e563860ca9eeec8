"""caddy_site_blocks: site blocks serving an address in an adapted Caddy config, in process.

The config below is the shape `caddy adapt` printed for a Caddyfile with `other.test`, `https://pypi.test`,
`pypi.test:8443`, `http://plain.test:8080` and an imported `pypi.test` block (Caddy 2.6);
tests/integration/roles/test_devpi_caddy.py runs the filter on the real Caddy's output of devpi's own snippet."""

from __future__ import annotations

import json

import pytest
from ansible_collections.hostnative.devpi.plugins.filter.caddy_site_blocks import caddy_site_blocks


def site(*hosts, blocks=1):
    route = {"handle": [{"handler": "subroute", "routes": []} for _block in range(blocks)], "terminal": True}
    if hosts:
        route["match"] = [{"host": list(hosts)}]
    return route


CONFIG = {
    "apps": {
        "http": {
            "servers": {
                "srv0": {"listen": [":443"], "routes": [site("other.test"), site("pypi.test", blocks=2)]},
                "srv1": {"listen": [":8080"], "routes": [site("plain.test"), site()]},
                "srv2": {"listen": [":8443"], "routes": [site("pypi.test", "Both.test")]},
            }
        }
    }
}


@pytest.mark.parametrize(
    ("address", "count"),
    [
        ("pypi.test", 2),
        ("https://pypi.test", 2),
        ("PYPI.test", 2),
        ("pypi.test:8443", 1),
        ("both.test:8443", 1),
        ("other.test", 1),
        ("http://plain.test:8080", 1),
        (":8080", 1),
        ("http://:8080", 1),
        ("plain.test", 0),
        ("pypi.test:9443", 0),
        ("new.test", 0),
        ("http://pypi.test", 0),
    ],
)
def test_counts_the_blocks_on_the_addresss_host_and_port(address, count):
    assert caddy_site_blocks(CONFIG, address) == count


def test_a_bare_site_alone_on_its_port_is_one_block_however_many_handle_blocks_it_has():
    """`http://:8080 { handle /a* {...} handle {...} }` alone on its port: Caddy 2.6 adapts each handle block into a
    route of its own (no host, no wrapping site route)."""
    handle_routes = [
        {"group": "group2", "match": [{"path": ["/a*"]}], "handle": [{"handler": "subroute", "routes": []}]},
        {"group": "group2", "handle": [{"handler": "subroute", "routes": []}]},
        {"group": "group2", "handle": [{"handler": "subroute", "routes": []}]},
    ]
    config = {"apps": {"http": {"servers": {"srv0": {"listen": [":8080"], "routes": handle_routes}}}}}
    assert caddy_site_blocks(config, "http://:8080") == 1
    assert caddy_site_blocks(config, ":8080") == 1
    assert caddy_site_blocks(config, ":9090") == 0
    assert caddy_site_blocks(config, "http://plain.test:8080") == 0


def test_takes_the_json_text_caddy_prints():
    assert caddy_site_blocks(json.dumps(CONFIG), "pypi.test") == 2


@pytest.mark.parametrize("config", ["", " ", {}, {"apps": {}}, {"apps": {"http": {"servers": {}}}}, None])
def test_a_config_without_sites_counts_nothing(config):
    assert caddy_site_blocks(config, "pypi.test") == 0


def test_routes_that_are_not_site_blocks_do_not_count():
    config = {
        "apps": {
            "http": {
                "servers": {
                    "s": {
                        "listen": [":443"],
                        "routes": [{"match": [{"host": ["pypi.test"]}], "handle": [{"handler": "static_response"}]}],
                    }
                }
            }
        }
    }
    assert caddy_site_blocks(config, "pypi.test") == 0
