"""devpi_caddy: bad input fails in preflight naming the variable; every TLS mode and the lockdown render a snippet
that the REAL Caddy (Debian's package on this machine) accepts and adapts into the routes we mean.
"""

from __future__ import annotations

import datetime
import ipaddress
import json
import os
import re
import socket
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

import jinja2
import pytest
import yaml
from ansible_collections.hostnative.devpi.plugins.filter.caddy_site_blocks import caddy_site_blocks
from conftest import (
    CADDY,
    REPO,
    ansible_playbook,
    assert_failed_in_preflight,
    batched,
    caddy_adapt,
    free_port,
    role_playbook,
    tasks_until_failure,
)
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from prometheus_client.parser import text_string_to_metric_families

ROLE = REPO / "roles" / "devpi_caddy"
PREFLIGHT_TASKS = re.compile(r"^(Check |Validating arguments)")


def good_vars(base):
    return {
        "devpi_caddy_install": False,
        "devpi_caddy_platform": "Linux",
        "devpi_caddy_files_group": "",
        "devpi_caddy_site_address": "pypi.example.org",
        "devpi_caddy_caddyfile": str(base / "etc" / "Caddyfile"),
        "devpi_caddy_access_log": str(base / "log" / "access.log"),
        "devpi_caddy_serverdir": "/var/lib/devpi/server",
    }


@pytest.fixture(scope="module")
def run_role(tmp_path_factory):
    base = tmp_path_factory.mktemp("caddy-preflight")
    playbook = role_playbook(base, "devpi_caddy")
    good = good_vars(base)

    def run(overrides, env=None):
        vars_file = base / "vars.yml"
        vars_file.write_text(yaml.safe_dump({**good, **overrides}))
        return ansible_playbook(playbook, vars_file, check=True, env=env)

    return run


CASES = [
    ({"devpi_caddy_site_address": ""}, 'devpi_caddy_site_address="" must be one Caddy site address'),
    ({"devpi_caddy_site_address": "a.example b.example"}, 'devpi_caddy_site_address="a.example b.example"'),
    ({"devpi_caddy_site_address": "pypi.example.org {"}, "devpi_caddy_site_address="),
    ({"devpi_caddy_tls": "files"}, "devpi_caddy_tls=files does not fit"),
    ({"devpi_caddy_tls": "off"}, "devpi_caddy_tls=off does not fit"),
    ({"devpi_caddy_site_address": "http://pypi.example.org"}, "devpi_caddy_tls=auto does not fit"),
    ({"devpi_caddy_tls": "letsencrypt"}, "devpi_caddy_tls"),
    ({"devpi_caddy_upstream": "localhost"}, "devpi_caddy_upstream=localhost (host:port)"),
    ({"devpi_caddy_upstreams": ["127.0.0.1:3141", "replica"]}, 'devpi_caddy_upstreams=["127.0.0.1:3141", "replica"]'),
    ({"devpi_caddy_upstreams": ["127.0.0.1:3141"] * 2}, "must be distinct host:port entries"),
    ({"devpi_caddy_lb_try_duration": "5 seconds"}, "devpi_caddy_lb_try_duration=5 seconds"),
    ({"devpi_caddy_lb_policy": "weighted"}, "devpi_caddy_lb_policy"),
    ({"devpi_caddy_serverdir": "relative/dir"}, "devpi_caddy_serverdir=relative/dir"),
    ({"devpi_caddy_trusted_networks": ["10.0.0.0"]}, 'not networks: ["10.0.0.0"]'),
    ({"devpi_caddy_trusted_networks": ["10.0.0.0/8", "10.0.0.0/33"]}, 'not networks: ["10.0.0.0/33"]'),
    ({"devpi_caddy_trusted_networks": "10.0.0.0/8"}, "devpi_caddy_trusted_networks must be a list"),
    ({"devpi_caddy_site_address": "https://"}, 'devpi_caddy_site_address="https://" names no host'),
    ({"devpi_caddy_site_address": ":443", "devpi_caddy_tls": "internal"}, 'devpi_caddy_site_address=":443" names no'),
    ({"devpi_caddy_site_address": "https://:8443"}, 'devpi_caddy_site_address="https://:8443" names no host'),
    ({"devpi_caddy_site_address": "http://", "devpi_caddy_tls": "off"}, 'devpi_caddy_site_address="http://" names'),
    (
        {"devpi_caddy_lockdown": True, "devpi_server_facts": {"root_lockdown": False}},
        "set devpi_server_root_lockdown=true as well",
    ),
    ({"devpi_caddy_admin_socket": "admin.sock"}, "devpi_caddy_admin_socket=admin.sock must be an absolute path"),
    ({"devpi_caddy_max_request_body_size": 0}, "devpi_caddy_max_request_body_size=0 (> 0)"),
    ({"devpi_caddy_outside_url": "pypi.example.org"}, "devpi_caddy_outside_url=pypi.example.org"),
    ({"devpi_caddy_tls": "dns"}, 'devpi_caddy_tls_dns="" with devpi_caddy_tls=dns'),
    ({"devpi_caddy_tls": "dns", "devpi_caddy_tls_dns": "Cloud flare"}, 'devpi_caddy_tls_dns="Cloud flare"'),
    (
        {"devpi_caddy_tls_dns": "cloudflare {env.T}"},
        'devpi_caddy_tls_dns="cloudflare {env.T}" with devpi_caddy_tls=auto',
    ),
    (
        {"devpi_caddy_tls": "dns", "devpi_caddy_tls_dns": "cloudflare {env.CF_API_TOKEN}"},
        "devpi_caddy_binary=/usr/bin/caddy does not exist, and devpi_caddy_tls=dns needs a Caddy built with",
    ),
    ({"devpi_caddy_managed_elsewhere": True, "devpi_caddy_standalone": True}, "devpi_caddy_standalone (write it"),
    ({"devpi_caddy_managed_elsewhere": True, "devpi_caddy_default_site": "remove"}, "cannot go with it"),
    (
        {"devpi_caddy_managed_elsewhere": True},
        "devpi_caddy_binary=/usr/bin/caddy does not exist, and devpi_caddy_managed_elsewhere=true leaves installing",
    ),
    ({"devpi_caddy_binary": "caddy"}, "devpi_caddy_binary=caddy (absolute paths)"),
    (
        {"devpi_caddy_metrics": True, "devpi_caddy_metrics_listen": "9180"},
        "devpi_caddy_metrics_listen must be host:port",
    ),
    (
        {"devpi_caddy_metrics": True, "devpi_caddy_metrics_listen": "0.0.0.0:9180"},
        "devpi_caddy_metrics_listen=0.0.0.0:9180 is not a loopback address: give the networks",
    ),
    (
        {
            "devpi_caddy_metrics": True,
            "devpi_caddy_metrics_listen": "[fd00::1]:9180",
            "devpi_caddy_metrics_trusted_networks": ["fd00::/64", "fd00::/129"],
        },
        'not networks: ["fd00::/129"]',
    ),
    ({"devpi_caddy_access_log_roll_keep": 0}, "devpi_caddy_access_log_roll_keep (0)"),
]


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every case of CASES in one run of the role (role_batch: a host each)."""
    return batched(tmp_path_factory, "devpi_caddy", good_vars, CASES)


@pytest.mark.xdist_group("devpi_caddy-bad-input")
@pytest.mark.parametrize("case", range(len(CASES)), ids=[f"bad-{i}" for i in range(len(CASES))])
def test_bad_input_fails_in_preflight(bad_runs, case):
    assert_failed_in_preflight(*bad_runs[case], CASES[case][1], PREFLIGHT_TASKS)


@pytest.mark.parametrize(
    "overrides",
    [
        {},
        {"devpi_caddy_tls": "off", "devpi_caddy_site_address": ":8080"},
        {"devpi_caddy_tls": "off", "devpi_caddy_site_address": "http://:8080"},
        {"devpi_caddy_lockdown": True, "devpi_server_facts": {"root_lockdown": True}},
    ],
    ids=["default", "plain-port", "plain-http-port", "lockdown"],
)
def test_good_input_passes_in_check_mode(run_role, overrides):
    rc, output = run_role(overrides)
    assert rc == 0, output
    assert "Write the devpi site snippet" in output


def test_a_dns_provider_caddy_lacks_is_refused(run_role):
    """The real Caddy (Debian's build has no DNS provider modules) lists its modules; the one named is missing."""
    rc, output = run_role(
        {"devpi_caddy_tls": "dns", "devpi_caddy_tls_dns": "cloudflare {env.T}", "devpi_caddy_binary": CADDY}
    )
    assert_failed_in_preflight(rc, output, "needs the Caddy module dns.providers.cloudflare, which", PREFLIGHT_TASKS)


def test_a_dns_provider_block_renders_into_the_site():
    text = render(devpi_caddy_tls="dns", devpi_caddy_tls_dns="cloudflare {env.CF_API_TOKEN}")
    assert "\ttls {\n\t\tdns cloudflare {env.CF_API_TOKEN}\n\t}\n" in text


def other_roles_caddyfile(directory, sites):
    """A main Caddyfile as another role writes it: its own site(s) and an import of a conf.d directory."""
    (directory / "conf.d").mkdir(exist_ok=True)
    caddyfile = directory / "Caddyfile"
    caddyfile.write_text(f"{sites}\nimport {directory}/conf.d/*.caddy\n")
    return caddyfile


@pytest.mark.parametrize(
    ("sites", "snippet", "expected"),
    [
        ('https://pypi.example.org {\n\trespond "other"\n}\n', None, "is already served by 1 site block(s)"),
        ('pypi.example.org:443 {\n\trespond "other"\n}\n', None, "is already served by 1 site block(s)"),
        (
            'https://pypi.example.org {\n\trespond "other"\n}\n',
            'pypi.example.org {\n\trespond "devpi"\n}\n',
            "is already served by 2 site block(s) of the config Caddy runs",
        ),
        ('pypi.example.org {\n\trespond "a"\n}\n', 'pypi.example.org {\n\trespond "b"\n}\n', "a site is defined twice"),
    ],
    ids=["other-spelling", "other-port-spelling", "beside-devpis-snippet", "same-key"],
)
def test_a_site_the_running_config_already_serves_is_refused(run_role, tmp_path, sites, snippet, expected):
    """The REAL Caddy adapts the config as it is; a second block for devpi's address would be merged by Caddy (the
    first one answering), so preflight refuses it - before anything is written."""
    caddyfile = other_roles_caddyfile(tmp_path, sites)
    if snippet:
        (tmp_path / "conf.d" / "devpi.caddy").write_text(snippet)
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    rc, output = run_role(
        {
            "devpi_caddy_binary": CADDY,
            "devpi_caddy_caddyfile": str(caddyfile),
            "devpi_caddy_snippets_dir": str(tmp_path / "conf.d"),
            "devpi_caddy_managed_elsewhere": True,
        }
    )
    assert_failed_in_preflight(rc, output, expected, PREFLIGHT_TASKS)
    assert {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()} == before


@pytest.mark.parametrize(
    ("sites", "snippet"),
    [
        ('other.example.org {\n\trespond "other"\n}\n', None),
        ('pypi.example.org:8443 {\n\trespond "other"\n}\n', 'pypi.example.org {\n\trespond "devpi"\n}\n'),
    ],
    ids=["other-site", "own-snippet-and-another-port"],
)
def test_other_sites_and_devpis_own_snippet_pass(run_role, tmp_path, sites, snippet):
    caddyfile = other_roles_caddyfile(tmp_path, sites)
    if snippet:
        (tmp_path / "conf.d" / "devpi.caddy").write_text(snippet)
    rc, output = run_role(
        {
            "devpi_caddy_binary": CADDY,
            "devpi_caddy_caddyfile": str(caddyfile),
            "devpi_caddy_snippets_dir": str(tmp_path / "conf.d"),
            "devpi_caddy_managed_elsewhere": True,
        },
        env={"ANSIBLE_DISPLAY_SKIPPED_HOSTS": "false"},  # a skipped task's name is not printed
    )
    assert rc == 0, output
    ran = tasks_until_failure(output)
    assert "Check the site is not defined elsewhere" in ran
    assert "Write the devpi site snippet (validated before it goes live)" in ran
    assert not {
        "Set Caddy's global options at the top of the main Caddyfile",
        "Import the snippets from the main Caddyfile",
        "Create the drop-in directory",
    } & set(ran)


def test_caddys_paths_on_macos_come_from_brew_prefix(run_role, tmp_path):
    """A stand-in `brew` (macOS cannot run here) answers `--prefix` as an Intel Mac's does: the binary the role
    looks for is under it."""
    brew = tmp_path / "bin" / "brew"
    brew.parent.mkdir()
    brew.write_text('#!/bin/sh\n[ "$1" = --prefix ] && echo /usr/local\n')
    brew.chmod(0o755)
    path = f"{brew.parent}:{os.environ['PATH']}"
    rc, output = run_role({"devpi_caddy_platform": "Darwin", "devpi_caddy_managed_elsewhere": True}, env={"PATH": path})
    assert_failed_in_preflight(rc, output, "devpi_caddy_binary=/usr/local/bin/caddy does not exist", PREFLIGHT_TASKS)
    rc, output = run_role({"devpi_caddy_platform": "Darwin"}, env={"PATH": "/usr/bin:/bin"})
    assert_failed_in_preflight(rc, output, "Homebrew's prefix is unknown: `brew --prefix` failed:", PREFLIGHT_TASKS)


def role_vars():
    """The role's defaults and the plain (template-free) values of its vars/main.yml."""
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    derived = yaml.safe_load((ROLE / "vars" / "main.yml").read_text())
    variables["_devpi_caddy_log_redacted"] = derived["_devpi_caddy_log_redacted"]
    return variables, derived


def render_text(text, variables):
    # The template module's defaults: trim_blocks on, lstrip_blocks off.
    environment = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, autoescape=False)  # noqa: S701 - renders a Caddyfile, not HTML
    return environment.from_string(text).render(**variables)


def render(**overrides):
    variables, _derived = role_vars()
    variables.update(
        {
            "ansible_managed": "Ansible managed",
            "devpi_caddy_site_address": "pypi.example.org",
            "devpi_caddy_upstream": "127.0.0.1:3141",
            "devpi_caddy_serverdir": "/var/lib/devpi/server",
            "devpi_caddy_max_request_body_size": 1073741824,
            "devpi_caddy_trusted_networks": ["127.0.0.1/32", "::1/128"],  # the default, from devpi_server's list
            "devpi_caddy_read_lockdown": False,  # the default, from devpi_server's facts
            "devpi_caddy_access_log": "/tmp/devpi-caddy-unit.log",  # noqa: S108 - a path inside the rendered config
            **overrides,
        }
    )
    return render_text((ROLE / "templates" / "devpi.caddy.j2").read_text(), variables)


def adapt(tmp_path, text):
    return caddy_adapt(tmp_path, text)


@pytest.mark.parametrize(
    ("overrides", "policy"),
    [
        ({}, None),
        ({"devpi_caddy_tls": "internal"}, "internal"),
        ({"devpi_caddy_tls": "off", "devpi_caddy_site_address": "http://:8080"}, None),
    ],
    ids=["auto", "internal", "off"],
)
def test_every_tls_mode_renders_a_config_caddy_accepts(tmp_path, overrides, policy):
    config = adapt(tmp_path, render(**overrides))
    (proxy,) = handlers(config, "reverse_proxy")
    assert proxy["upstreams"] == [{"dial": "127.0.0.1:3141"}]
    assert proxy["headers"]["request"]["set"] == {
        "X-Outside-Url": ["{http.request.scheme}://{http.request.hostport}"],
        "X-Real-Ip": ["{http.request.remote.host}"],
    }
    assert [handler["root"] for handler in handlers(config, "vars")] == ["/var/lib/devpi/server/+files"]
    assert [handler["max_size"] for handler in handlers(config, "request_body")] == [1073741824]
    (encode,) = handlers(config, "encode")
    assert set(encode["encodings"]) == {"gzip", "zstd"}
    assert "application/vnd.pypi.simple.v1+json*" in encode["match"]["headers"]["Content-Type"]
    if policy:
        issuers = config["apps"]["tls"]["automation"]["policies"][0]["issuers"]
        assert issuers[0]["module"] == policy
    assert [h for h in handlers(config, "static_response") if h.get("body") == REFUSAL] == []  # no lockdown


def test_several_upstreams_spread_reads_and_send_writes_to_the_primary(tmp_path):
    """A primary and two replicas behind one site: Caddy's adapted routes, not the text."""
    upstreams = ["127.0.0.1:3141", "10.89.0.3:3141", "[fd00::4]:3141"]
    config = adapt(tmp_path, render(devpi_caddy_upstreams=upstreams, devpi_caddy_lb_policy="least_conn"))
    server = next(iter(config["apps"]["http"]["servers"].values()))
    writes, reads = handlers(server["routes"], "reverse_proxy")
    assert writes["upstreams"] == [{"dial": "127.0.0.1:3141"}]
    assert "health_checks" not in writes
    assert reads["upstreams"] == [{"dial": upstream} for upstream in upstreams]
    assert reads["health_checks"]["active"] == {
        "uri": "/+api",
        "interval": 2_000_000_000,
        "timeout": 2_000_000_000,
        "expect_status": 200,
    }
    assert reads["health_checks"]["passive"] == {"fail_duration": 5_000_000_000, "max_fails": 1}
    assert reads["load_balancing"]["selection_policy"] == {"policy": "least_conn"}
    assert reads["load_balancing"]["retry_match"] == [{"method": ["GET", "HEAD"]}]
    assert reads["headers"]["request"]["set"] == writes["headers"]["request"]["set"]
    write_routes = [route for route in matched_routes(server["routes"]) if writes in handlers(route, "reverse_proxy")]
    assert write_routes[-1]["match"] == [{"method": ["POST", "PUT", "PATCH", "DELETE"]}]  # the innermost
    assert all(reads not in handlers(route, "reverse_proxy") for route in write_routes[1:])
    (refusal,) = handlers(server["errors"], "static_response")
    assert refusal["status_code"] == 503
    assert "primary (127.0.0.1:3141) does not answer" in refusal["body"]
    error_routes = [
        route for route in matched_routes(server["errors"]) if refusal in handlers(route, "static_response")
    ]
    error_route = error_routes[-1]  # the innermost
    assert error_route["match"][0]["method"] == ["POST", "PUT", "PATCH", "DELETE"]
    assert error_route["match"][0]["expression"] == "{http.error.status_code} == 502"


@pytest.mark.parametrize("upstreams", [[], ["127.0.0.1:3141", "10.89.0.3:3141"]], ids=["one", "several"])
def test_devpis_own_bare_site_counts_as_one_block_in_the_real_caddys_config(tmp_path, upstreams):
    """What preflight counts on a re-run (caddy_site_blocks on `caddy adapt`'s output): devpi's own snippet for a
    bare address is one site block however many handle blocks it has."""
    text = render(devpi_caddy_site_address="http://:8080", devpi_caddy_tls="off", devpi_caddy_upstreams=upstreams)
    config = adapt(tmp_path, text)
    assert caddy_site_blocks(config, "http://:8080") == 1
    assert caddy_site_blocks(config, "http://:9090") == 0


def test_one_upstream_renders_no_load_balancing(tmp_path):
    config = adapt(tmp_path, render())
    (proxy,) = handlers(config, "reverse_proxy")
    assert "health_checks" not in proxy
    assert "load_balancing" not in proxy
    assert "errors" not in next(iter(config["apps"]["http"]["servers"].values()))


def test_existing_certificate_files(tmp_path):
    """A throwaway self-signed certificate (cryptography, which ansible-core depends on)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pypi.example.org")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    cert, key_file = tmp_path / "site.crt", tmp_path / "site.key"
    cert.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    config = adapt(
        tmp_path, render(devpi_caddy_tls="files", devpi_caddy_tls_cert=str(cert), devpi_caddy_tls_key=str(key_file))
    )
    loaded = config["apps"]["tls"]["certificates"]["load_files"][0]
    assert (loaded["certificate"], loaded["key"]) == (str(cert), str(key_file))


def handlers(node, kind):
    """Every handler of that kind anywhere in an adapted config (routes nest in subroutes), in order."""
    found = []
    if isinstance(node, dict):
        if node.get("handler") == kind:
            found.append(node)
        for value in node.values():
            found += handlers(value, kind)
    elif isinstance(node, list):
        for value in node:
            found += handlers(value, kind)
    return found


REFUSAL = "management is not allowed from this network"


def matched_routes(node):
    """Every route with a matcher anywhere in an adapted config, innermost last."""
    found = []
    if isinstance(node, dict):
        if "match" in node and "handle" in node:
            found.append(node)
        for value in node.values():
            found += matched_routes(value)
    elif isinstance(node, list):
        for value in node:
            found += matched_routes(value)
    return found


def route_steps(route):
    return [step for handler in route["handle"] for inner in handler.get("routes", []) for step in inner["handle"]]


def routes(config):
    return config["apps"]["http"]["servers"]["srv0"]["routes"][0]["handle"][0]["routes"]


def test_lockdown_renders_the_management_rule_only(tmp_path):
    """Management methods from outside get Caddy's 403; no header pattern for root (devpi decides who is root)."""
    config = adapt(tmp_path, render(devpi_caddy_lockdown=True, devpi_caddy_trusted_networks=["10.0.0.0/8"]))
    refusals = [
        route
        for route in routes(config)
        for handler in route["handle"]
        for inner in handler.get("routes", [])
        for step in inner["handle"]
        if step.get("body") == REFUSAL
    ]
    assert len(refusals) == 1
    matcher = refusals[0]["match"][0]
    assert matcher["method"] == ["PUT", "PATCH", "DELETE"]
    assert matcher["not"] == [{"remote_ip": {"ranges": ["10.0.0.0/8"]}}]
    assert "header_regexp" not in json.dumps(config)  # no matcher of that kind anywhere
    closed = adapt(tmp_path, render(devpi_caddy_lockdown=True, devpi_caddy_lockdown_allow_uploads=False))
    refused = [h for h in handlers(closed, "static_response") if h.get("body") == REFUSAL]
    assert len(refused) == 1
    assert [route["match"][0]["method"] for route in routes(closed) if refused[0] in route_steps(route)] == [
        ["PUT", "PATCH", "DELETE", "POST"]
    ]


def test_the_access_log_deletes_every_credential_field(tmp_path):
    config = adapt(tmp_path, render())
    access = [log for name, log in config["logging"]["logs"].items() if name != "default"]
    assert len(access) == 1
    encoder = access[0]["encoder"]
    assert (encoder["format"], encoder["wrap"]["format"]) == ("filter", "json")
    assert encoder["fields"] == {
        "request>headers>Authorization": {"filter": "delete"},
        "request>headers>Proxy-Authorization": {"filter": "delete"},
        "request>headers>X-Devpi-Auth": {"filter": "delete"},
        "request>headers>Cookie": {"filter": "delete"},
        "resp_headers>Set-Cookie": {"filter": "delete"},
    }


def standalone(tmp_path, global_options=True):
    """The standalone Caddyfile with the role's global options, importing one rendered snippet."""
    variables, derived = role_vars()
    sites = tmp_path / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "devpi.caddy").write_text(render())
    variables.update(
        ansible_managed="Ansible managed",
        devpi_caddy_global_options=global_options,
        devpi_caddy_admin_socket="/run/caddy/admin.sock",
        _devpi_caddy_import=f"import {sites}/*.caddy",
    )
    variables["_devpi_caddy_global_block"] = render_text(derived["_devpi_caddy_global_block"], variables)
    return render_text((ROLE / "templates" / "Caddyfile.j2").read_text(), variables)


def test_global_options_close_the_admin_port_and_the_trust_store(tmp_path):
    config = adapt(tmp_path, standalone(tmp_path))
    assert config["admin"]["listen"] == "unix//run/caddy/admin.sock"
    assert config["apps"]["pki"]["certificate_authorities"]["local"]["install_trust"] is False
    default = config["logging"]["logs"]["default"]["encoder"]
    assert default["fields"]["request>headers>X-Devpi-Auth"] == {"filter": "delete"}
    # Without them Caddy keeps its TCP admin endpoint: the option is what closes it.
    assert "admin" not in adapt(tmp_path, standalone(tmp_path, global_options=False))


def test_validate_leaves_no_local_ca_behind(tmp_path):
    """The role's validate command on a TLS-internal site: Caddy's storage goes to a temporary dir that is removed."""
    _variables, derived = role_vars()
    home = tmp_path / "home"
    home.mkdir()
    site = tmp_path / "site.caddy"
    site.write_text(render(devpi_caddy_tls="internal"))
    script = derived["_devpi_caddy_validate_script"]
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "TMPDIR": str(tmp_path)}
    argv = ["sh", "-c", script, CADDY, str(site)]
    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603 - the role's script
    assert done.returncode == 0, done.stderr
    assert list(home.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "site.caddy"]  # its storage dir is gone too
    site.write_text("pypi.example.org {\n\tnot_a_directive\n}\n")
    rejected = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603 - the role's script
    assert rejected.returncode != 0
    assert "not_a_directive" in rejected.stderr


def test_an_outside_url_is_sent_as_is(tmp_path):
    (proxy,) = handlers(adapt(tmp_path, render(devpi_caddy_outside_url="https://pypi.example.org")), "reverse_proxy")
    assert proxy["headers"]["request"]["set"]["X-Outside-Url"] == ["https://pypi.example.org"]


def test_the_debian_default_site_is_removed_exactly_and_then_port_80_is_devpis(tmp_path):
    """devpi_caddy_default_site=remove: the role's block is the one Debian's caddy package ships (read from the
    package this suite unpacked), the task's pattern (regex_escape = re.escape) takes out only that block, and the
    REAL Caddy then accepts devpi's site on :80 - which it refuses beside the package's site."""
    _variables, derived = role_vars()
    block = derived["_devpi_caddy_debian_default_site"]
    packaged = (Path(CADDY).resolve().parents[2] / "etc" / "caddy" / "Caddyfile").read_text()
    assert block in packaged
    sites = tmp_path / "sites"
    sites.mkdir()
    (sites / "devpi.caddy").write_text(render(devpi_caddy_tls="off", devpi_caddy_site_address=":80"))
    imported = f"{packaged}\nimport {sites}/*.caddy\n"
    refused = subprocess.run(  # noqa: S603 - the pinned caddy
        [CADDY, "adapt", "--adapter", "caddyfile", "--config", "/dev/stdin"],
        input=imported,
        capture_output=True,
        text=True,
        check=False,
    )
    assert refused.returncode != 0
    assert "ambiguous site definition" in refused.stderr
    removed, count = re.subn(re.escape(block), "# removed\n", imported)
    assert count == 1
    assert removed.replace("# removed\n", block) == imported  # nothing else changed
    routes = adapt(tmp_path, removed)["apps"]["http"]["servers"]
    assert [server["listen"] for server in routes.values()] == [[":80"]]
    assert [h["root"] for h in handlers(routes, "vars")] == ["/var/lib/devpi/server/+files"]  # not the package's
    assert [h["upstreams"] for h in handlers(routes, "reverse_proxy")] == [[{"dial": "127.0.0.1:3141"}]]
    edited = imported.replace("root * /usr/share/caddy", "root * /srv/www")
    assert re.subn(re.escape(block), "", edited)[1] == 0  # an edited block is not the package's: left alone


def metrics_render(tmp_path, **overrides):
    """The standalone Caddyfile with Caddy's metrics on: the role's global options and one rendered snippet."""
    variables, derived = role_vars()
    metrics = {
        "devpi_caddy_metrics": True,
        "_devpi_caddy_metrics_host": "0.0.0.0",  # noqa: S104 - so a non-loopback client can be refused
        "_devpi_caddy_metrics_port": "9180",
        "devpi_caddy_metrics_trusted_networks": ["198.51.100.0/24"],
        **overrides,
    }
    sites = tmp_path / "sites"
    sites.mkdir(exist_ok=True)
    (sites / "devpi.caddy").write_text(render(**metrics))
    variables.update(
        ansible_managed="Ansible managed",
        devpi_caddy_global_options=True,
        devpi_caddy_admin_socket=str(tmp_path / "admin.sock"),
        _devpi_caddy_import=f"import {sites}/*.caddy",
        **metrics,
    )
    variables["_devpi_caddy_global_block"] = render_text(derived["_devpi_caddy_global_block"], variables)
    return render_text((ROLE / "templates" / "Caddyfile.j2").read_text(), variables)


def test_metrics_render_a_site_of_their_own_and_turn_on_request_metrics(tmp_path):
    config = adapt(tmp_path, metrics_render(tmp_path))
    servers = config["apps"]["http"]["servers"]
    (metrics_server,) = [s for s in servers.values() if s["listen"] == ["0.0.0.0:9180"]]
    assert [h["handler"] for h in handlers(metrics_server["routes"], "metrics")] == ["metrics"]
    refusals = [h for h in handlers(metrics_server["routes"], "static_response") if h.get("status_code") == 403]
    assert len(refusals) == 1
    # servers { metrics }: Caddy 2.6 counts requests only with it.
    assert all(server.get("metrics") == {} for server in servers.values())
    # The access log rolls as the variables say.
    (access,) = [log for name, log in config["logging"]["logs"].items() if name != "default"]
    assert (access["writer"]["roll_size_mb"], access["writer"]["roll_keep"], access["writer"]["roll_keep_days"]) == (
        100,
        10,
        90,
    )
    # Off (the default): no metrics site, no servers { metrics }.
    plain = adapt(tmp_path, metrics_render(tmp_path, devpi_caddy_metrics=False))
    assert all("metrics" not in server for server in plain["apps"]["http"]["servers"].values())
    assert all(s["listen"] != ["0.0.0.0:9180"] for s in plain["apps"]["http"]["servers"].values())


def fetch(url):
    """(status, body) of a GET."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a test server of this test
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def wait_for(url, seconds=30):
    deadline = time.monotonic() + seconds
    while True:
        try:
            fetch(url)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def own_address():
    """This machine's address on its default route (no packet is sent)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.connect(("203.0.113.1", 9))
        return probe.getsockname()[0]


def test_caddy_serves_its_metrics_to_loopback_and_refuses_other_networks(tmp_path, devpi_url):
    """The real Caddy with the role's config in front of a real devpi: requests are counted per status code, the
    upstream's health is reported, and a client from this machine's own non-loopback address gets 403."""
    site_port, metrics_port = free_port(), free_port()
    text = metrics_render(
        tmp_path,
        devpi_caddy_tls="off",
        devpi_caddy_site_address=f"http://127.0.0.1:{site_port}",
        devpi_caddy_upstream=devpi_url.removeprefix("http://"),
        devpi_caddy_access_log=str(tmp_path / "access.log"),
        _devpi_caddy_metrics_port=str(metrics_port),
    )
    (tmp_path / "Caddyfile").write_text(text)
    env = {**os.environ, "HOME": str(tmp_path), "XDG_DATA_HOME": str(tmp_path / "d"), "XDG_CONFIG_HOME": str(tmp_path)}
    caddy = subprocess.Popen(  # noqa: S603 - the pinned caddy
        [CADDY, "run", "--adapter", "caddyfile", "--config", str(tmp_path / "Caddyfile")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "caddy.log").open("wb"),
    )
    try:
        wait_for(f"http://127.0.0.1:{metrics_port}/metrics")
        for path in ("/+api", "/+api", "/nobody-here"):
            fetch(f"http://127.0.0.1:{site_port}{path}")
        status, text = fetch(f"http://127.0.0.1:{metrics_port}/metrics")
        address = own_address()
        assert ipaddress.ip_address(address) not in ipaddress.ip_network("198.51.100.0/24")
        refused, body = fetch(f"http://{address}:{metrics_port}/metrics")
    finally:
        caddy.terminate()
        caddy.wait(timeout=30)
    assert status == 200
    samples = [s for family in text_string_to_metric_families(text) for s in family.samples]
    codes = {s.labels["code"]: s.value for s in samples if s.name == "caddy_http_request_duration_seconds_count"}
    assert codes["200"] >= 2
    assert codes["404"] >= 1
    upstreams = {s.labels["upstream"]: s.value for s in samples if s.name == "caddy_reverse_proxy_upstreams_healthy"}
    assert upstreams == {devpi_url.removeprefix("http://"): 1}
    assert refused == 403
    assert "caddy_http" not in body


def test_read_lockdown_asks_devpi_first_for_everything(tmp_path):
    """With devpi's read lockdown the REAL Caddy adapts the snippet into a forward_auth before every other handler of
    the site: a GET to devpi's /+authcheck with the original URI, the client's address, its refusal passed on (a
    browser redirected to the login page); without it there is none."""
    config = adapt(tmp_path, render(devpi_caddy_read_lockdown=True))
    checks = [
        proxy for proxy in handlers(config, "reverse_proxy") if proxy.get("rewrite", {}).get("uri") == "/+authcheck"
    ]
    assert len(checks) == 1
    (check,) = checks
    assert check["rewrite"]["method"] == "GET"
    assert check["upstreams"] == [{"dial": "127.0.0.1:3141"}]
    assert check["headers"]["request"]["set"]["X-Original-Uri"] == ["{http.request.uri}"]
    assert check["headers"]["request"]["set"]["X-Real-Ip"] == ["{http.request.remote.host}"]
    refused = [response for response in check["handle_response"] if response["match"].get("status_code") == [401]]
    assert len(refused) == 1
    browser, others = refused[0]["routes"]
    assert browser["match"] == [{"header": {"Accept": ["*text/html*"]}}]
    assert browser["handle"][0]["headers"]["Location"] == ["/+login?goto_url={http.request.uri}"]
    assert others["handle"][0]["status_code"] == 401
    # It runs before the file server and the proxy to devpi: they come after it in the site's routes.
    text = json.dumps(config)
    assert text.index('"/+authcheck"') < text.index('"file_server"') < text.rindex('"reverse_proxy"')
    assert "/+authcheck" not in json.dumps(adapt(tmp_path, render()))
