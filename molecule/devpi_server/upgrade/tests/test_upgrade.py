"""After an in-place upgrade from devpi-server 6.20.2 / devpi-web 5.1.0: new versions run, nothing was lost."""

from __future__ import annotations

import json

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


def test_same_server_directory_not_reinitialised(host):
    before = json.loads(host.file("/root/nodeinfo-before-upgrade").content_string)
    after = json.loads(host.file("/var/lib/devpi/server/.nodeinfo").content_string)
    assert after["uuid"] == before["uuid"]


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
