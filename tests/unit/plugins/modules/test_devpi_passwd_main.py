"""devpi_passwd's main() in process: the service manager (the module's run_command), devpi-passwd (the process the
module starts) and devpi's login (its HTTP client) are recording stand-ins; the module with a real devpi-passwd and
devpi-server is in tests/integration/plugins/modules/test_devpi_passwd.py."""

from __future__ import annotations

import types

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.modules import devpi_passwd
from devpi_api_stub import Server, run_main

NEW = "new-Root-Pass-8"  # a test value
ARGS = {
    "url": "http://127.0.0.1:3141",
    "password": NEW,
    "devpi_passwd": "/opt/devpi/venv/bin/devpi-passwd",
    "config_file": "/etc/devpi/devpi-server.yml",
    "service_manager": "systemd",
    "service": "devpi-server.service",
    "start_timeout": 0,
}


class Host:
    """The service manager's and devpi-passwd's answers; every command in order."""

    def __init__(self, server, passwd_rc=0, stop_rc=0, start_rc=0, takes=True):
        self.server, self.passwd_rc, self.stop_rc, self.start_rc = server, passwd_rc, stop_rc, start_rc
        self.takes = takes  # whether devpi then has the password devpi-passwd was given
        self.commands = []
        self.stdin = []

    def run_command(self, argv, **_kwargs):
        self.commands.append(argv)
        rc = self.stop_rc if argv[1] in {"stop", "bootout"} else self.start_rc
        return rc, "", "" if rc == 0 else f"{argv[1]} refused"

    def passwd(self, argv, **kwargs):
        self.commands.append(argv)
        self.stdin.append(kwargs["input"])
        if self.passwd_rc == 0 and self.takes:
            self.server.passwords[argv[-1]] = kwargs["input"].split("\n", 1)[0]
        return types.SimpleNamespace(returncode=self.passwd_rc, stderr="no such user" if self.passwd_rc else "")


@pytest.fixture
def run(monkeypatch, capsys):
    def run(server, host=None, check_mode=False, **params):
        host = host or Host(server)
        monkeypatch.setattr(devpi_passwd, "DevpiClient", lambda _url, timeout: server)
        monkeypatch.setattr(AnsibleModule, "run_command", host.run_command)
        monkeypatch.setattr(devpi_passwd.subprocess, "run", host.passwd)
        args = {**ARGS, **params, "_ansible_check_mode": check_mode}
        result = run_main(devpi_passwd, capsys, args, secrets=[args["password"]])
        assert NEW not in str(result)
        assert all(NEW not in " ".join(command) for command in host.commands)  # never on a command line
        return result, host

    return run


def test_a_password_that_logs_in_changes_nothing(run):
    result, host = run(Server(passwords={"root": NEW}))
    assert (result["changed"], host.commands) == (False, [])


def test_check_mode_says_it_would_change_and_runs_nothing(run):
    result, host = run(Server(passwords={"root": "old"}), check_mode=True)
    assert (result["changed"], host.commands) == (True, [])


def test_stop_set_on_stdin_start_then_log_in(run):
    server = Server(passwords={"root": "old"})
    result, host = run(server)
    assert result["changed"] is True
    assert host.commands == [
        ["systemctl", "stop", "devpi-server.service"],
        ["/opt/devpi/venv/bin/devpi-passwd", "-c", "/etc/devpi/devpi-server.yml", "root"],
        ["systemctl", "start", "devpi-server.service"],
    ]
    assert host.stdin == [f"{NEW}\n{NEW}\n"]
    assert server.passwords["root"] == NEW


def test_launchd_boots_the_job_out_and_in_again(run):
    server = Server(passwords={"root": "old"})
    result, host = run(
        server,
        service_manager="launchd",
        service="gui/501/mcquack.eblume.devpi",
        launchd_plist="/Users/e/Library/LaunchAgents/mcquack.eblume.devpi.plist",
    )
    assert result["changed"] is True
    assert (host.commands[0], host.commands[-1]) == (
        ["launchctl", "bootout", "gui/501/mcquack.eblume.devpi"],
        ["launchctl", "bootstrap", "gui/501", "/Users/e/Library/LaunchAgents/mcquack.eblume.devpi.plist"],
    )


def test_a_failing_devpi_passwd_still_starts_the_service(run):
    server = Server(passwords={"root": "old"})
    result, host = run(server, host=Host(server, passwd_rc=1))
    assert result["msg"] == "devpi-passwd failed (rc 1): no such user"
    assert host.commands[-1] == ["systemctl", "start", "devpi-server.service"]


def test_a_service_that_does_not_stop_is_left_alone(run):
    server = Server(passwords={"root": "old"})
    result, host = run(server, host=Host(server, stop_rc=1))
    assert result["msg"] == "could not stop devpi-server.service: stop refused"
    assert len(host.commands) == 1


def test_a_service_that_does_not_start_again_is_reported(run):
    server = Server(passwords={"root": "old"})
    result, _host = run(server, host=Host(server, start_rc=1))
    assert result["msg"] == "password set, but devpi-server.service did not start: start refused"


def test_a_password_that_still_does_not_log_in_is_reported(run):
    server = Server(passwords={"root": "old"})
    result, _host = run(server, host=Host(server, takes=False), name="ghost")
    assert result["msg"] == (
        "devpi-passwd ran, but ghost cannot log in with the new password at http://127.0.0.1:3141 within 0s "
        "(does user 'ghost' exist?)"
    )


def test_an_unknown_account_to_run_as_is_named(run):
    result, host = run(Server(passwords={"root": "old"}), run_as="no-such-account-here")
    assert result["msg"] == "run_as: account 'no-such-account-here' does not exist"
    assert host.commands == []


def test_an_empty_password_is_refused(run):
    result, _host = run(Server(), password="")
    assert result["msg"] == "password must not be empty"
