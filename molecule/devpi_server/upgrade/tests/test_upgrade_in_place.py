"""devpi-upgrade-5: devpi-server 5.5.1 upgraded in place by playbooks/upgrade.yml after a backup, root's blanked
password given back; then its server directory adopted as a copy another install left (side_effect.yml)."""

from __future__ import annotations

import json

import pytest
from devpi_testinfra import ROOT_PASSWORD

testinfra_hosts = ["podman://devpi-upgrade-5"]

ADOPTED = "/srv/devpi-adopted"


def test_the_old_database_was_copied_aside_first_without_the_release_files(host):
    rollback = host.file("/var/lib/devpi/upgrade/rollback")
    assert rollback.is_directory
    assert rollback.mode == 0o700
    assert (host.file("/var/lib/devpi/upgrade").user, host.file("/var/lib/devpi/upgrade").mode) == ("devpi", 0o700)
    assert host.file("/var/lib/devpi/upgrade/rollback/.sqlite").user == "devpi"  # copied as it was
    assert host.file("/var/lib/devpi/upgrade/rollback/.sqlite").exists
    assert host.file("/var/lib/devpi/upgrade/rollback/.serverversion").content_string.strip() == "4"
    assert not host.file("/var/lib/devpi/upgrade/rollback/+files").exists  # immutable, never copied
    assert host.check_output("ls -d /var/lib/devpi/server.* 2>/dev/null || true") == ""


def test_the_backup_before_the_upgrade_is_recorded(host):
    state = json.loads(host.file("/var/lib/devpi/backup/last-backup.json").content_string)
    assert state["status"] == "ok"
    assert state["serial"] > 0
    assert state["snapshot_id"]


@pytest.mark.parametrize("serverdir", ["/var/lib/devpi/server", ADOPTED])
def test_same_server_directory_not_reinitialised(host, serverdir):
    """The uuid devpi-upgrade-5 had at 5.5.1 (kept in the rollback copy's node info) is the one it has now."""
    before = json.loads(host.file("/var/lib/devpi/upgrade/rollback/.nodeinfo").content_string)
    after = json.loads(host.file(f"{serverdir}/.nodeinfo").content_string)
    assert after["uuid"] == before["uuid"]


def test_root_password_restored_after_it_was_blanked(api):
    """side_effect.yml blanked root's password before upgrading; the role must have set it again."""
    assert api.call("POST", "/+login", {"user": "root", "password": ""})[0] == 401
    assert api.call("POST", "/+login", {"user": "root", "password": ROOT_PASSWORD})[0] == 200


def test_devpi_serves_the_adopted_directory(host):
    assert f'serverdir: "{ADOPTED}"' in host.file("/etc/devpi/devpi-server.yml").content_string
    pid = host.check_output("systemctl show -p MainPID --value devpi-server").strip()
    assert host.check_output(f"readlink /proc/{pid}/cwd").strip() == ADOPTED  # WorkingDirectory= is the serverdir


def test_the_adopted_directory_belongs_to_the_service_account(host):
    foreign = host.check_output(f"find {ADOPTED} ! -user devpi -print -o ! -group devpi -print | head -5")
    assert foreign == ""
    for name in (".sqlite", ".nodeinfo", ".hostnative-devpi"):
        assert host.file(f"{ADOPTED}/{name}").mode == 0o600, name
