"""After an in-place upgrade from devpi-server 6.20.2 / devpi-web 5.1.0: new versions run, nothing was lost. Then the
server directory was adopted as a copy another install left (side_effect.yml): devpi serves that copy now."""

from __future__ import annotations

import json

import pytest
from devpi_testinfra import ROOT_PASSWORD, URL

VENV = "/opt/devpi/venv"


def test_new_versions_are_installed_and_running(host, api):
    assert host.check_output(f"{VENV}/bin/devpi-server --version").strip().endswith("6.20.3")
    listing = host.check_output(f"ls {VENV}/lib/python3.11/site-packages")
    assert "devpi_server-6.20.3.dist-info" in listing
    assert "devpi_web-5.1.1.dist-info" in listing
    assert "devpi_server-6.20.2.dist-info" not in listing
    status, body = api.call("GET", "/+status")
    assert status == 200
    assert body["result"]["versioninfo"]["devpi-server"] == "6.20.3"


ADOPTED = "/srv/devpi-adopted"


@pytest.mark.parametrize("serverdir", ["/var/lib/devpi/server", ADOPTED])
def test_same_server_directory_not_reinitialised(host, serverdir):
    before = json.loads(host.file("/root/nodeinfo-before-upgrade").content_string)
    after = json.loads(host.file(f"{serverdir}/.nodeinfo").content_string)
    assert after["uuid"] == before["uuid"]


def test_devpi_serves_the_adopted_directory(host):
    assert f'serverdir: "{ADOPTED}"' in host.file("/etc/devpi/devpi-server.yml").content_string
    pid = host.check_output("systemctl show -p MainPID --value devpi-server").strip()
    assert host.check_output(f"readlink /proc/{pid}/cwd").strip() == ADOPTED  # WorkingDirectory= is the serverdir


def test_the_adopted_directory_belongs_to_the_service_account(host):
    foreign = host.check_output(f"find {ADOPTED} ! -user devpi -print -o ! -group devpi -print | head -5")
    assert foreign == ""
    for name in (".sqlite", ".nodeinfo", ".hostnative-devpi"):
        assert host.file(f"{ADOPTED}/{name}").mode == 0o600, name


def test_user_index_and_package_survived(host, api):
    status, body = api.call("GET", "/alice")
    assert status == 200
    assert "dev" in body["result"]["indexes"]
    status, body = api.call("GET", "/alice/dev")
    assert (status, body["result"]["volatile"], body["result"]["bases"]) == (200, False, ["root/pypi"])
    venv = "/tmp/after-upgrade"
    host.check_output(f"/opt/devpi/bin/uv venv -q --python /usr/bin/python3 {venv}")
    install = host.run(
        f"/opt/devpi/bin/uv pip install --no-cache --python {venv}/bin/python "
        f"--index-url {URL}/alice/dev/+simple/ keepme==1.0"
    )
    assert install.rc == 0, install.stderr
    assert host.run(f"{venv}/bin/python -c 'import keepme'").rc == 0


def test_service_restarted_and_healthy(host):
    assert host.service("devpi-server").is_running
    journal = host.check_output("journalctl -u devpi-server --no-pager -o cat")
    assert "Incompatible state" not in journal


def test_root_password_restored_after_it_was_blanked(api):
    """side_effect.yml blanked root's password before upgrading; the role must have set it again."""
    assert api.call("POST", "/+login", {"user": "root", "password": ""})[0] == 401
    assert api.call("POST", "/+login", {"user": "root", "password": ROOT_PASSWORD})[0] == 200
