"""Verify the launchd path, run on Linux containers whose facts say Darwin.

Stand-ins (molecule/devpi_server/launchd/files): launchctl (records calls, parses the plist and supervises
ProgramArguments as launchd would), plutil (plistlib) and brew. devpi-server, the venv, uv and the HTTP checks
are real. The recorded calls cover the whole scenario: check, converge, idempotence, and a side effect that
changed one devpi option.
"""

from __future__ import annotations

import json
import plistlib

import pytest
import testinfra
import yaml
from devpi_testinfra import ROOT_PASSWORD

AGENT = "podman://devpi-launchd-agent"
DAEMON = "podman://devpi-launchd-daemon"
testinfra_hosts = [AGENT, DAEMON]

EXPECTED = {
    "devpi-launchd-agent": {
        "plist": "/root/Library/LaunchAgents/mcquack.eblume.devpi.plist",
        "domain": "gui/0",
        "label": "mcquack.eblume.devpi",
        "venv": "/root/devpi/venv",
        "config": "/root/devpi/devpi-server.yml",
        "serverdir": "/root/devpi/server-dir",
        "stdout": "/root/Library/Logs/mcquack.devpi.out.log",
        "stderr": "/root/Library/Logs/mcquack.devpi.err.log",
        "user": "root",
    },
    "devpi-launchd-daemon": {
        "plist": "/Library/LaunchDaemons/org.devpi.server.plist",
        "domain": "system",
        "label": "org.devpi.server",
        "venv": "/usr/local/var/devpi/venv",
        "config": "/usr/local/var/devpi/devpi-server.yml",
        "serverdir": "/usr/local/var/devpi/server-dir",
        "stdout": "/Library/Logs/org.devpi.server.out.log",
        "stderr": "/Library/Logs/org.devpi.server.err.log",
        "user": "_devpi",
    },
}


@pytest.fixture
def expected(host):
    return EXPECTED[host.backend.get_hostname()]


def read_plist(host, path):
    return plistlib.loads(host.file(path).content)


def launchctl_calls(host):
    return [json.loads(line) for line in host.file("/var/log/launchctl-calls.log").content_string.splitlines()]


def test_plist_has_the_right_keys(host, expected):
    plist = read_plist(host, expected["plist"])
    assert plist["Label"] == expected["label"]
    assert plist["ProgramArguments"] == [f"{expected['venv']}/bin/devpi-server", "--configfile", expected["config"]]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] is True
    assert plist["StandardOutPath"] == expected["stdout"]
    assert plist["StandardErrorPath"] == expected["stderr"]
    assert plist["WorkingDirectory"] == expected["serverdir"]
    assert plist["EnvironmentVariables"]["MALLOC_ARENA_MAX"] == "2"
    assert plist["EnvironmentVariables"]["SSL_CERT_FILE"] == "/etc/ssl/certs/ca-certificates.crt"
    if expected["domain"] == "system":
        assert (plist["UserName"], plist["GroupName"]) == ("_devpi", "_devpi")
    else:
        assert "UserName" not in plist
    assert host.file(expected["plist"]).mode == 0o644


def test_no_secret_in_plist_config_or_process_list(host, expected):
    assert ROOT_PASSWORD not in host.file(expected["plist"]).content_string
    assert ROOT_PASSWORD not in host.file(expected["config"]).content_string
    assert ROOT_PASSWORD not in host.check_output("ps -eww -o args")
    assert host.file(expected["config"]).mode == 0o600


def test_launchctl_calls_are_the_right_ones(host, expected):
    """Loaded once (converge); the idempotence run only looked; the changed option restarted it with kickstart -k.
    (Calls about other jobs - the backup's - are left out.)"""
    target = f"{expected['domain']}/{expected['label']}"
    ours = [call for call in launchctl_calls(host) if call[-1] in (target, expected["plist"])]
    changes = [call for call in ours if call[0] != "print"]
    assert changes == [["bootstrap", expected["domain"], expected["plist"]], ["kickstart", "-k", target]]
    assert ["print", target] in launchctl_calls(host)


def test_side_effect_reached_the_running_server(host, expected):
    # the role writes JSON, which devpi reads as YAML
    assert yaml.safe_load(host.file(expected["config"]).content_string)["devpi-server"]["threads"] == "20"
    out = host.check_output(f"launchctl print {expected['domain']}/{expected['label']}")
    assert "state = running" in out


def test_devpi_runs_as_the_right_user_and_serves(host, api, expected):
    pid = host.check_output(f"pgrep -f '{expected['venv']}/bin/devpi-server'").split()[0]
    assert host.check_output(f"ps -o user= -p {pid}").strip() == expected["user"]
    assert api.call("GET", "/+api")[0] == 200
    assert api.call("POST", "/+login", {"user": "root", "password": ROOT_PASSWORD})[0] == 200
    assert api.call("POST", "/+login", {"user": "root", "password": ""})[0] == 401
    status, body = api.call("GET", "/root/pypi")
    assert (status, body["result"]["mirror_no_project_list"]) == (200, True)


def test_devpi_logs_to_a_file_it_rotates_itself(host, expected):
    """devpi's own log goes to the file its logging configuration names (a RotatingFileHandler: launchd keeps the
    plist's stdout open, so it cannot be rotated from outside); the plist's files exist for start-up output."""
    base = expected["config"].rsplit("/", 1)[0]
    log_dir = expected["stdout"].rsplit("/", 1)[0]
    log = (
        f"{log_dir}/{expected['label']}/devpi-server.log"
        if expected["domain"] == "system"
        else (f"{log_dir}/{expected['label']}.log")
    )
    assert f'logger-cfg: "{base}/logging.json"' in host.file(expected["config"]).content_string
    handler = json.loads(host.file(f"{base}/logging.json").content_string)["handlers"]["file"]
    assert handler == {
        "class": "logging.handlers.RotatingFileHandler",
        "filename": log,
        "maxBytes": 10 * 1048576,
        "backupCount": 5,
        "encoding": "utf-8",
        "formatter": "devpi",
    }
    assert "GET /+api" in host.file(log).content_string
    assert host.file(log).user == expected["user"]
    assert host.file(expected["stderr"]).exists


def test_uv_came_from_homebrew(host):
    calls = host.file("/var/log/brew-calls.log").content_string.splitlines()
    assert [call for call in calls if call.endswith(" uv")] == ["install uv"]  # once; the agent also got restic
    assert host.run("/opt/homebrew/bin/uv --version").stdout.startswith("uv ")


BACKUP_PASSWORD = "molecule-Launchd-Restic-1729"


def test_the_backup_is_a_calendar_job_of_the_login_user():
    """The devpi_backup role on the agent: a launchd job (loaded, not started: no RunAtLoad) running the backup
    script with devpi's venv Python on Sundays at 02:30; the password only in its 0600 file."""
    host = testinfra.get_host(AGENT)
    path = "/root/Library/LaunchAgents/org.devpi.backup.plist"
    plist = read_plist(host, path)
    assert plist["Label"] == "org.devpi.backup"
    assert plist["ProgramArguments"] == [
        "/root/devpi/venv/bin/python",
        "/root/devpi/backup/hostnative-devpi-backup.py",
        "/root/devpi/backup/backup.json",
    ]
    assert plist["StartCalendarInterval"] == [{"Hour": 2, "Minute": 30, "Weekday": 0}]
    assert "RunAtLoad" not in plist
    assert "KeepAlive" not in plist
    assert plist["StandardOutPath"] == plist["StandardErrorPath"] == "/root/Library/Logs/org.devpi.backup.log"
    assert ["bootstrap", "gui/0", path] in launchctl_calls(host)
    assert "install restic" in host.file("/var/log/brew-calls.log").content_string.splitlines()
    config = json.loads(host.file("/root/devpi/backup/backup.json").content_string)
    assert config["restic"] == "/opt/homebrew/bin/restic"
    assert config["repository"] == "/root/Backups/devpi/restic"
    for text in (host.file(path).content_string, json.dumps(config), host.check_output("ps -eww -o args")):
        assert BACKUP_PASSWORD not in text
    secret = host.file("/root/devpi/backup/restic-password")
    assert (secret.mode, secret.content_string) == (0o600, BACKUP_PASSWORD)


def test_the_backup_ran_with_the_real_restic():
    host = testinfra.get_host(AGENT)
    state = json.loads(host.file("/root/devpi/backup/last-backup.json").content_string)
    assert state["status"] == "ok"
    assert state["method"] == "snapshot"
    assert state["serial"] >= 0
    snapshots = json.loads(
        host.check_output(
            "/opt/homebrew/bin/restic -r /root/Backups/devpi/restic --password-file /root/devpi/backup/restic-password "
            "snapshots --json"
        )
    )
    assert [s["short_id"] for s in snapshots] == [state["snapshot_id"][:8]]
