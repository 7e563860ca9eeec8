"""Helpers shared by the Molecule verify suites; each tests/conftest.py imports the hook and fixture from here.

Hosts are reached as ``podman://<name>`` (a plain ``podman exec``, about ten times faster than going through
Ansible); the names come from the inventory Molecule wrote for the scenario.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import uuid

import pytest
import yaml

# The same value the shared Molecule base config gives devpi_server_root_password.
ROOT_PASSWORD = os.environ.get("DEVPI_TEST_ROOT_PASSWORD", "molecule-root-Secret-4711")
URL = "http://127.0.0.1:3141"


def _hosts(node):
    found = list((node or {}).get("hosts", {}) or {})
    for child in ((node or {}).get("children", {}) or {}).values():
        found.extend(_hosts(child))
    return found


def molecule_hosts():
    with open(os.environ["MOLECULE_INVENTORY_FILE"], encoding="utf-8") as handle:
        inventory = yaml.safe_load(handle)
    return sorted({f"podman://{name}" for name in _hosts(inventory.get("all", {}))})


def pytest_generate_tests(metafunc):
    """Test modules without their own testinfra_hosts run on every host of the scenario."""
    if "host" in metafunc.fixturenames and not getattr(metafunc.module, "testinfra_hosts", None):
        metafunc.module.testinfra_hosts = molecule_hosts()


_API_CLIENT = r"""
import base64, json, sys, urllib.error, urllib.request
req = json.loads(base64.b64decode(sys.argv[1]))
headers = {"Accept": "application/json"}
data = None
if req.get("body") is not None:
    data = json.dumps(req["body"]).encode()
    headers["Content-Type"] = "application/json"
if req.get("auth"):
    headers["Authorization"] = "Basic " + base64.b64encode(":".join(req["auth"]).encode()).decode()
r = urllib.request.Request(req["url"], data=data, headers=headers, method=req["method"])
try:
    with urllib.request.urlopen(r, timeout=60) as resp:
        status, body = resp.status, resp.read()
except urllib.error.HTTPError as exc:
    status, body = exc.code, exc.read()
try:
    body = json.loads(body)
except ValueError:
    body = body.decode("utf-8", "replace")
print(json.dumps({"status": status, "body": body}))
"""


class Api:
    """devpi's JSON API, called from inside the container (devpi listens on the container's loopback only)."""

    def __init__(self, host):
        self.host = host

    def call(self, method, path, body=None, auth=None):
        request = {"method": method, "url": URL + path, "body": body, "auth": list(auth) if auth else None}
        encoded = base64.b64encode(json.dumps(request).encode()).decode()
        out = json.loads(self.host.check_output(f"python3 -c {shlex.quote(_API_CLIENT)} {encoded}"))
        return out["status"], out["body"]


@pytest.fixture
def api(host):
    return Api(host)


def install_clients(host, venv, uv, index):
    """twine and devpi-client in a venv of their own, installed with `uv` (a command prefix that may set the
    environment) from `index` - the deployed mirror, so this exercises it too. Returns the venv's bin directory."""
    if not host.file(f"{venv}/bin/devpi").exists:
        host.check_output(f"UV_INDEX_URL={index} {uv} venv -q --seed --python /usr/bin/python3 {venv}")
        host.check_output(f"{uv} pip install -q --python {venv}/bin/python --index-url {index} twine devpi-client")
    return f"{venv}/bin"


def build_project(host, prefix, uv, index):
    """A new project `<prefix><random>` 1.0 (hatchling, fetched from `index`) built into a wheel and an sdist.

    Returns (name, dist directory)."""
    name = f"{prefix}{uuid.uuid4().hex[:8]}"
    project = f"/tmp/{name}"
    host.check_output(
        f"mkdir -p {project}/src/{name} && touch {project}/src/{name}/__init__.py && "
        f'printf \'[project]\\nname = "{name}"\\nversion = "1.0"\\n'
        f'[build-system]\\nrequires = ["hatchling"]\\nbuild-backend = "hatchling.build"\\n\' > {project}/pyproject.toml'
    )
    host.check_output(f"cd {project} && UV_INDEX_URL={index} {uv} build -q --out-dir {project}/dist")
    return name, f"{project}/dist"


CADDY_ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt"


def trust_caddy(host, bundle):
    """Write the system bundle plus Caddy's internal root to `bundle`; returns the environment (a command prefix)
    that makes pip, uv, requests and Python's ssl use it."""
    host.check_output(f"cat /etc/ssl/certs/ca-certificates.crt {CADDY_ROOT} > {bundle}")
    return f"SSL_CERT_FILE={bundle} REQUESTS_CA_BUNDLE={bundle} PIP_CERT={bundle}"


def pip_install(host, env, uv, index, project):
    """pip, in a new venv (seeded by `uv` from `index`), installs `project` from `index` with the environment `env`.
    Returns pip's output and the exit status of importing the project in that venv."""
    venv = f"/tmp/pip-{uuid.uuid4().hex[:6]}"
    host.check_output(f"{env} UV_INDEX_URL={index} {uv} venv -q --seed --python /usr/bin/python3 {venv}")
    out = host.check_output(f"{env} {venv}/bin/pip install --no-cache-dir --index-url {index} {project} 2>&1")
    return out, host.run(f"{venv}/bin/python -c 'import {project}'").rc
