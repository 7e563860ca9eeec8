"""testinfra setup for the replication scenario: the shared hook and fixtures (molecule/shared/devpi_testinfra.py)
and the topology after side_effect.yml's failover - devpi-replica-1 the primary, devpi-replica-2 its replica, the
old primary (devpi-primary) fenced, Caddy on devpi-primary the front."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import testinfra

sys.path.insert(0, str(next(p / "shared" for p in Path(__file__).parents if (p / "shared").is_dir())))

import devpi_testinfra
from devpi_testinfra import URL, build_project, install_clients

# pytest looks for its hook and fixtures in conftest.py itself.
pytest_generate_tests = devpi_testinfra.pytest_generate_tests

UV = "/opt/devpi/bin/uv"
MIRROR = f"{URL}/root/pypi/+simple/"
DEV = f"{URL}/uploader/dev/"
FRONT = "http://devpi.replication.test"
UPLOADER = ("uploader", "molecule-Uploader-Pass-1618")
PRIMARY, REPLICA, OLD_PRIMARY = "devpi-replica-1", "devpi-replica-2", "devpi-primary"


def get(name):
    return testinfra.get_host(f"podman://{name}")


def clients_on(node):
    """twine and devpi-client on `node`, installed through that node's own devpi mirror."""
    return install_clients(node, "/opt/replication-clients", UV, MIRROR)


def upload(node, clients, dist, index=DEV):
    """twine uploads the built `dist` to `index` (by default the devpi on `node`'s loopback)."""
    user, password = UPLOADER
    done = node.run(
        f"TWINE_USERNAME={user} TWINE_PASSWORD={password} {clients}/twine upload --non-interactive "
        f"--repository-url {index} {dist}/*"
    )
    assert done.rc == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def uploaded():
    """A project built on the new primary and uploaded to it: (name, sha256 of its wheel, wheel file name)."""
    primary = get(PRIMARY)
    clients = clients_on(primary)
    name, dist = build_project(primary, "replpkg", UV, MIRROR)
    upload(primary, clients, dist)
    wheel = primary.check_output(f"ls {dist}/*.whl")
    sha = primary.check_output(f"sha256sum {wheel}").split()[0]
    return name, sha, wheel.rsplit("/", 1)[-1]
