"""playbooks/site.yml resolves only the secrets of the roles --tags selects: a secret store that cannot answer
(the file backend pointed at a file that does not exist) stops a run that needs it, naming the variables, and not one
that does not (--tags devpi_caddy resolves none, --tags devpi_server only root's password)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import yaml
from conftest import BIN, REPO, playbook_on_localhost, server_in

FAILED = "Resolving devpi_server_root_password / devpi_seed_users / devpi_backup_password failed"


@pytest.fixture
def site(tmp_path, collections_root):
    inventory = tmp_path / "hosts.yml"
    host = {
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "ansible_become": False,
        "devpi_server_root_password": "{{ lookup('hostnative.devpi.secret', 'op://vault/devpi/root password') }}",
        "devpi_seed_users": [
            {"name": "ci", "password": "{{ lookup('hostnative.devpi.secret', 'op://vault/devpi-ci/password') }}"}
        ],
    }
    inventory.write_text(yaml.safe_dump({"devpi_servers": {"hosts": {"localhost": host}}}))
    env = {
        **os.environ,
        "ANSIBLE_COLLECTIONS_PATH": str(collections_root),
        "ANSIBLE_NOCOLOR": "1",
        "DEVPI_SECRET_BACKEND": "file",
        "DEVPI_SECRET_FILE": str(tmp_path / "no-such-secrets.yml"),
    }

    def run(*args):
        argv = [BIN / "ansible-playbook", "-i", str(inventory), str(REPO / "playbooks" / "site.yml"), "--check", *args]
        done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=300)  # noqa: S603 - the venv's ansible-playbook
        return done.returncode, done.stdout + done.stderr

    return run


def test_a_run_of_caddy_alone_resolves_no_secret(site):
    rc, output = site("--tags", "devpi_caddy")
    assert rc == 0, output
    assert FAILED not in output
    assert "Resolve root's password" not in output


@pytest.mark.parametrize("tags", [["--tags", "devpi_server"], ["--tags", "devpi_seed"], []])
def test_a_run_that_needs_a_secret_stops_naming_it(site, tags):
    rc, output = site(*tags)
    assert rc != 0
    assert FAILED in output
    assert "cannot read" in output  # the file backend's own cause
    if tags == ["--tags", "devpi_server"]:
        assert "Resolve the seed users' passwords" not in output


def test_a_read_lockdown_without_caddy_is_refused_before_any_change(tmp_path):
    """devpi-lockdown is enforced by the proxy that asks it: site.yml refuses it on a host without devpi_caddy, in the
    preflight play (the devpi_server role's own preflight has passed by then; nothing is installed)."""
    host = {
        **server_in(tmp_path, "Lockdown-Root-Pass-1", "devpi-lockdown-test"),
        "devpi_server_read_lockdown": True,
    }
    rc, output = playbook_on_localhost(tmp_path, "hostnative.devpi.site", host, {})
    flat = " ".join(output.split())
    assert rc != 0, output
    assert (
        "devpi_server_read_lockdown=true on localhost without devpi_caddy (devpi_caddy_site_address is empty)" in flat
    )
    assert "Install devpi-server" not in output
    assert "Lockdown-Root-Pass-1" not in output
