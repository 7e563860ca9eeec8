"""testinfra setup for the stack scenario: the shared hook and fixtures (molecule/shared/devpi_testinfra.py), and
what test_stack.py and test_security.py share - the site, the TLS environment, clients, a built project, curl."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(next(p / "shared" for p in Path(__file__).parents if (p / "shared").is_dir())))

import devpi_testinfra
from devpi_testinfra import build_project, install_clients, trust_caddy

# pytest looks for its hook and fixtures in conftest.py itself.
pytest_generate_tests = devpi_testinfra.pytest_generate_tests
api = devpi_testinfra.api

SITE = "devpi.stack.test"
BASE = f"https://{SITE}"
SIMPLE = f"{BASE}/root/pypi/+simple/"
UV = "/opt/devpi/bin/uv"
UPLOADER = ("uploader", "molecule-Uploader-Pass-2718")
BUNDLE = "/tmp/stack-ca.pem"


@pytest.fixture(scope="module")
def tls(host):
    """The system bundle plus Caddy's internal root; the environment that makes every client use it."""
    return trust_caddy(host, BUNDLE)


@pytest.fixture(scope="module")
def clients(host, tls):
    """twine and devpi-client installed over HTTPS through Caddy and the mirror."""
    return install_clients(host, "/opt/stack-clients", f"{tls} {UV}", SIMPLE)


@pytest.fixture(scope="module")
def dist(host, tls):
    return build_project(host, "stackpkg", f"{tls} {UV}", SIMPLE)


def curl(host, url, *args, body=False):
    """(status, headers[, body]) of a request with the internal CA trusted."""
    out = host.check_output(
        f"curl -sS --cacert {BUNDLE} -D - {'' if body else '-o /dev/null'} {' '.join(args)} {url}"
    ).replace("\r", "")
    head, _blank, text = out.partition("\n\n")
    lines = head.splitlines()
    headers = {
        key.strip().lower(): value.strip()
        for key, _colon, value in (line.partition(":") for line in lines[1:] if ":" in line)
    }
    status = int(lines[0].split()[1])
    return (status, headers, text) if body else (status, headers)


def container_ip(host):
    return host.check_output("hostname -I").split()[0]
