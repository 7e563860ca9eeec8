"""devpi-upgrade-6: devpi-server 6.0.0 upgraded by playbooks/upgrade.yml through devpi-export -> devpi-import
(forced with devpi_server_upgrade_method=export), after a failed attempt that rolled back (side_effect.yml)."""

from __future__ import annotations

import json

testinfra_hosts = ["podman://devpi-upgrade-6"]

SERVERDIR = "/var/lib/devpi/server"


def test_the_old_server_directory_is_kept_aside_untouched(host):
    aside = host.check_output("ls -d /var/lib/devpi/server.pre-upgrade-6.0.0-*").split()
    assert len(aside) == 1
    old = json.loads(host.file(f"{aside[0]}/.nodeinfo").content_string)
    new = json.loads(host.file(f"{SERVERDIR}/.nodeinfo").content_string)
    assert old["uuid"] != new["uuid"]  # devpi-import makes a new server
    assert host.file(f"{aside[0]}/.serverversion").content_string.strip() == "4"
    assert host.file(f"{aside[0]}/.sqlite").user == "devpi"


def test_the_export_is_removed_and_the_failed_attempt_kept(host):
    assert not host.file("/var/lib/devpi/upgrade/export").exists
    failed = host.check_output("ls -d /var/lib/devpi/server.failed-upgrade-*").split()
    assert len(failed) == 1
    assert host.file(f"{failed[0]}/.nodeinfo").exists  # what the failed import made, for a look


def test_no_in_place_copy_was_made(host):
    assert not host.file("/var/lib/devpi/upgrade/rollback").exists


def test_fsck_passes_on_the_imported_directory(host):
    out = host.run(f"runuser -u devpi -- /opt/devpi/venv/bin/devpi-fsck --serverdir {SERVERDIR}")
    assert out.rc == 0, out.stderr
