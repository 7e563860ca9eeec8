"""The backup role's state on the primary after side_effect.yml (which restored the server twice, the last time
from an export, then moved it through playbooks/upgrade.yml's export): the schedule, the sandboxed unit, where the
secret is and is not, the result file, and a failed backup that is visible - with real systemd, restic and devpi in
the container."""

from __future__ import annotations

import json

import devpi_testinfra

PASSWORD = "molecule-Restic-Pass-3141"
STATE_DIR = "/var/lib/devpi/backup"
REPO = "/var/backups/devpi/restic"
# The primary, where the backups run; side_effect.yml checks the replica follows it after each restore.
testinfra_hosts = ["podman://devpi-backup"]


def test_the_timer_runs_the_backup_on_the_configured_days(host):
    timer = host.service("devpi-backup.timer")
    assert timer.is_enabled
    assert timer.is_running
    calendar = host.check_output("systemctl show devpi-backup.timer -p TimersCalendar --value")
    assert "OnCalendar=Mon,Thu *-*-* 04:05:00" in calendar


def test_the_unit_runs_as_devpi_in_a_sandbox(host):
    show = dict(
        line.split("=", 1)
        for line in host.check_output(
            "systemctl show devpi-backup.service -p User -p ProtectSystem -p ProtectHome -p NoNewPrivileges "
            "-p Type -p ReadWritePaths -p ExecStartPre -p ExecStopPost"
        ).splitlines()
    )
    assert show["User"] == "devpi"
    assert show["Type"] == "oneshot"
    assert show["ProtectSystem"] == "strict"
    assert show["ProtectHome"] == "yes"
    assert show["NoNewPrivileges"] == "yes"
    assert set(show["ReadWritePaths"].split()) == {STATE_DIR, REPO}
    # The export method (the last one configured) stops devpi around devpi-export.
    assert "systemctl stop devpi-server.service" in show["ExecStartPre"]
    assert "systemctl start devpi-server.service" in show["ExecStopPost"]


def test_the_password_is_only_in_its_0600_file(host):
    secret = host.file(f"{STATE_DIR}/restic-password")
    assert (secret.user, secret.group, secret.mode) == ("devpi", "devpi", 0o600)
    assert secret.content_string == PASSWORD
    assert host.file(STATE_DIR).mode == 0o700
    assert host.file(REPO).mode == 0o700
    for path in [
        "/etc/systemd/system/devpi-backup.service",
        "/etc/systemd/system/devpi-backup.timer",
        f"{STATE_DIR}/backup.json",
        f"{STATE_DIR}/last-backup.json",
    ]:
        assert PASSWORD not in host.file(path).content_string, path
    assert PASSWORD not in host.check_output("journalctl --no-pager -o cat")
    # No leftovers of the restores: the restore area's password file was removed after each fetch.
    assert not host.file("/var/lib/devpi-restore/.restic-password").exists


def test_the_last_result_is_recorded(host):
    state = json.loads(host.file(f"{STATE_DIR}/last-backup.json").content_string)
    assert state["status"] == "ok"
    assert state["method"] == "export"
    assert state["exit_code"] == 0
    assert len(state["snapshot_id"]) >= 8  # restic 0.14 reports the short id
    assert state["last_success_timestamp"] == state["finished_timestamp"]


def test_a_failed_backup_is_visible_and_devpi_keeps_serving(host, api):
    previous = json.loads(host.file(f"{STATE_DIR}/last-backup.json").content_string)
    host.check_output(f"chmod 000 {REPO}")
    try:
        run = host.run("systemctl start devpi-backup.service")
        assert run.rc != 0
        assert host.check_output("systemctl show devpi-backup.service -p Result --value") != "success"
        state = json.loads(host.file(f"{STATE_DIR}/last-backup.json").content_string)
        assert state["status"] == "failed"
        assert state["exit_code"] == 1
        assert "restic backup exited" in state["error"]
        # The last success is still known (monitoring alerts on its age).
        assert state["last_success_timestamp"] == previous["last_success_timestamp"]
        assert "devpi backup failed: restic backup exited" in host.check_output(
            "journalctl --no-pager -o cat -u devpi-backup.service"
        )
    finally:
        host.check_output(f"chmod 700 {REPO} && systemctl reset-failed devpi-backup.service")
    # ExecStopPost started devpi again although the backup failed (it answers within seconds).
    host.check_output(
        "for i in $(seq 60); do curl -fsS -o /dev/null http://127.0.0.1:3141/+api && exit 0; sleep 1; done; exit 1"
    )
    status = api.call("GET", "/+api")[0]
    assert status == 200


def test_the_restored_server_serves_the_restored_package(host):
    index = f"{devpi_testinfra.URL}/alice/stage/+simple/"
    venv = "/tmp/verify-env"
    seed = f"UV_INDEX_URL={devpi_testinfra.URL}/root/pypi/+simple/ /opt/devpi/bin/uv venv -q --seed"
    host.check_output(f"rm -rf {venv} && {seed} --python /usr/bin/python3 {venv}")
    host.check_output(f"{venv}/bin/pip install -q --no-cache-dir --index-url {index} backup-demo==1.0 backup-big==1.0")
    assert host.run(f"{venv}/bin/python -c 'import backup_demo, backup_big'").rc == 0
