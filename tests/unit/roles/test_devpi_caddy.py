"""devpi_caddy: bad input fails in preflight naming the variable; every TLS mode and the lockdown render a snippet
that the REAL Caddy (Debian's package on this machine) accepts and adapts into the routes we mean.
"""

from __future__ import annotations

import datetime
import json
import re

import jinja2
import pytest
import yaml
from conftest import REPO, ansible_playbook, assert_failed_in_preflight, caddy_adapt, role_playbook
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROLE = REPO / "roles" / "devpi_caddy"
PREFLIGHT_TASKS = re.compile(r"^(Check |Validating arguments)")


@pytest.fixture(scope="module")
def run_role(tmp_path_factory):
    base = tmp_path_factory.mktemp("caddy-preflight")
    playbook = role_playbook(base, "devpi_caddy")
    good = {
        "devpi_caddy_install": False,
        "devpi_caddy_platform": "Linux",
        "devpi_caddy_files_group": "",
        "devpi_caddy_site_address": "pypi.example.org",
        "devpi_caddy_caddyfile": str(base / "etc" / "Caddyfile"),
        "devpi_caddy_access_log": str(base / "log" / "access.log"),
        "devpi_caddy_serverdir": "/var/lib/devpi/server",
    }

    def run(overrides):
        vars_file = base / "vars.yml"
        vars_file.write_text(yaml.safe_dump({**good, **overrides}))
        return ansible_playbook(playbook, vars_file, check=True)

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
    ({"devpi_caddy_serverdir": "relative/dir"}, "devpi_caddy_serverdir=relative/dir"),
    ({"devpi_caddy_trusted_networks": ["10.0.0.0"]}, 'devpi_caddy_trusted_networks: "10.0.0.0" is not a CIDR'),
    ({"devpi_caddy_max_request_body_size": 0}, "devpi_caddy_max_request_body_size=0 (> 0)"),
    ({"devpi_caddy_outside_url": "pypi.example.org"}, "devpi_caddy_outside_url=pypi.example.org"),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES, ids=[f"bad-{i}" for i in range(len(CASES))])
def test_bad_input_fails_in_preflight(run_role, overrides, expected):
    rc, output = run_role(overrides)
    assert_failed_in_preflight(rc, output, expected, PREFLIGHT_TASKS)


def test_good_input_passes_in_check_mode(run_role):
    rc, output = run_role({})
    assert rc == 0, output
    assert "Write the devpi site snippet" in output


def render(**overrides):
    variables = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    variables.update(
        {
            "ansible_managed": "Ansible managed",
            "devpi_caddy_site_address": "pypi.example.org",
            "devpi_caddy_upstream": "127.0.0.1:3141",
            "devpi_caddy_serverdir": "/var/lib/devpi/server",
            "devpi_caddy_max_request_body_size": 1073741824,
            "devpi_caddy_access_log": "/tmp/devpi-caddy-unit.log",  # noqa: S108 - a path inside the rendered config
            **overrides,
        }
    )
    # The template module's defaults: trim_blocks on, lstrip_blocks off.
    environment = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, autoescape=False)  # noqa: S701 - renders a Caddyfile, not HTML
    return environment.from_string((ROLE / "templates" / "devpi.caddy.j2").read_text()).render(**variables)


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
    text = json.dumps(config)
    assert '"root": "/var/lib/devpi/server/+files"' in text
    assert '"X-Outside-Url": ["{http.request.scheme}://{http.request.hostport}"]' in text
    assert '"X-Real-Ip": ["{http.request.remote.host}"]' in text
    assert '"dial": "127.0.0.1:3141"' in text
    assert '"max_size": 1073741824' in text
    assert "application/vnd.pypi.simple.v1+json*" in text
    if policy:
        issuers = config["apps"]["tls"]["automation"]["policies"][0]["issuers"]
        assert issuers[0]["module"] == policy
    assert "not allowed from this network" not in text


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


def test_lockdown_renders_the_three_rules(tmp_path):
    text = json.dumps(adapt(tmp_path, render(devpi_caddy_lockdown=True, devpi_caddy_trusted_networks=["10.0.0.0/8"])))
    assert text.count("not allowed from this network") == 3
    assert '"ranges": ["10.0.0.0/8"]' in text
    assert '"method": ["PUT", "PATCH", "DELETE"]' in text
    closed = json.dumps(adapt(tmp_path, render(devpi_caddy_lockdown=True, devpi_caddy_lockdown_allow_uploads=False)))
    assert '"method": ["PUT", "PATCH", "DELETE", "POST"]' in closed


def test_an_outside_url_is_sent_as_is(tmp_path):
    text = json.dumps(adapt(tmp_path, render(devpi_caddy_outside_url="https://pypi.example.org")))
    assert '"X-Outside-Url": ["https://pypi.example.org"]' in text
