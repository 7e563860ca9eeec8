"""devpi beside a Caddy another role manages, deployed from the owner's repo on the controller container over SSH:
that role's Caddyfile stays byte for byte what it wrote, both sites answer through the one Caddy, and real clients
(pip, curl) reach devpi through its snippet in the other role's conf.d. Clients trust Caddy's internal root
(appended to a copy of the system bundle). Every check runs on the devpi host."""

from __future__ import annotations

import json
from urllib.parse import urljoin, urlsplit

import pytest
from devpi_testinfra import pip_install, trust_caddy

testinfra_hosts = ["podman://devpi-elsewhere"]

SITE = "devpi.elsewhere.test"
OTHER = "other.elsewhere.test"
SIMPLE = f"https://{SITE}/root/pypi/+simple/"
UV = "/opt/devpi/bin/uv"
BUNDLE = "/tmp/elsewhere-ca.pem"


@pytest.fixture(scope="module")
def tls(host):
    return trust_caddy(host, BUNDLE)


def curl(host, url, *args):
    """(status, lowercased headers, body) of a request with Caddy's internal CA trusted."""
    out = host.check_output(f"curl -sS --cacert {BUNDLE} -D - {' '.join(args)} {url}").replace("\r", "")
    head, _blank, body = out.partition("\n\n")
    lines = head.splitlines()
    headers = {k.strip().lower(): v.strip() for k, _c, v in (line.partition(":") for line in lines[1:] if ":" in line)}
    return int(lines[0].split()[1]), headers, body


def test_it_was_deployed_over_ssh_from_the_controller(host):
    """The controller's key logged in (sshd's journal), and its ansible-playbook ran the modules here."""
    journal = host.check_output("journalctl -u ssh --no-pager -o cat")
    assert "Accepted publickey for root" in journal


def test_the_other_roles_caddyfile_is_byte_identical(host):
    assert host.file("/etc/caddy/Caddyfile").content == host.file("/root/Caddyfile.other-role").content


def test_only_the_snippet_was_added_to_the_other_roles_caddy(host):
    conf_d = host.file("/etc/caddy/conf.d")
    assert (conf_d.mode, conf_d.user, conf_d.group) == (0o750, "root", "caddy")  # its owner's mode, kept
    assert conf_d.listdir() == ["devpi.caddy"]
    snippet = host.file("/etc/caddy/conf.d/devpi.caddy").content_string
    assert snippet.count(f"{SITE} {{") == 1
    assert not host.file("/etc/systemd/system/caddy.service.d/hostnative-devpi.conf").exists
    assert not host.file("/etc/caddy/sites").exists


def test_the_running_caddy_serves_devpi_through_the_snippet_alone(host):
    adapted = json.loads(host.check_output("caddy adapt --adapter caddyfile --config /etc/caddy/Caddyfile 2>/dev/null"))
    servers = adapted["apps"]["http"]["servers"]
    hosts = [h for server in servers.values() for r in server["routes"] for m in r.get("match", []) for h in m["host"]]
    assert sorted(hosts) == sorted([SITE, OTHER])
    assert "admin" not in adapted  # no global options added: the other role's (default) admin endpoint


def test_both_sites_answer(host, tls):
    status, _headers, body = curl(host, f"https://{OTHER}/")
    assert (status, body) == (200, "the other role's site")
    status, _headers, body = curl(host, f"https://{SITE}/+api", "-H 'Accept: application/json'")
    assert status == 200
    assert json.loads(body)["result"]["login"] == f"https://{SITE}/+login"


def test_pip_installs_through_the_site(host, tls):
    out, imported = pip_install(host, tls, UV, SIMPLE, "idna")
    assert "Successfully installed idna" in out
    assert imported == 0


def test_a_stored_release_file_comes_from_disk(host, tls):
    """The wheel pip fetched through devpi is on disk now; Caddy (in devpi's files group) serves it from there."""
    status, _headers, body = curl(host, f"{SIMPLE}idna/", "-H 'Accept: application/vnd.pypi.simple.v1+json'")
    assert status == 200
    wheels = [f for f in json.loads(body)["files"] if f["filename"].endswith(".whl")]
    stored = [
        url
        for url in (urljoin(f"{SIMPLE}idna/", f["url"]).split("#", 1)[0] for f in wheels)
        if host.file("/var/lib/devpi/server/+files" + urlsplit(url).path).exists
    ]
    assert stored, "pip's download was not stored by devpi"
    status, headers, _body = curl(host, stored[0], "-o /dev/null")
    assert status == 200
    assert headers["x-devpi-served-by"] == "caddy"
