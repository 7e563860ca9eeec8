"""devpi_passwd: rotate a password on a REAL devpi-server directory without knowing the old one.

The server is a real devpi-server process; the service manager is a stand-in (no systemd/launchd in the unit
environment): a `systemctl`/`launchctl` script on PATH that stops and starts that process and records its calls.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest
from conftest import BIN, api, free_port

OLD = "old-Root-Pass-1"
NEW = "new-Root-Pass-2 with spaces & 'quotes'"

SERVICE = textwrap.dedent(
    """\
    #!{python}
    import os, signal, subprocess, sys, time
    state = os.environ["FAKE_SERVICE_DIR"]
    with open(os.path.join(state, "calls.log"), "a") as log:
        log.write(" ".join([os.path.basename(sys.argv[0]), *sys.argv[1:]]) + "\\n")
    action = sys.argv[1]
    pidfile = os.path.join(state, "pid")
    if action in ("stop", "bootout"):
        pid = int(open(pidfile).read())
        os.kill(pid, signal.SIGTERM)
        for _ in range(300):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        os.unlink(pidfile)
    elif action in ("start", "bootstrap"):
        out = open(os.path.join(state, "server.log"), "ab")
        proc = subprocess.Popen([os.environ["FAKE_DEVPI_SERVER"], "-c", os.environ["FAKE_DEVPI_CONFIG"]],
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        open(pidfile, "w").write(str(proc.pid))
    else:
        sys.exit(64)
    """
)


@pytest.fixture
def service(tmp_path):
    """A real devpi-server (root's password OLD) run by the stand-in service manager."""
    serverdir = tmp_path / "server"
    port = free_port()
    config = tmp_path / "devpi-server.yml"
    config.write_text(
        f"devpi-server:\n  serverdir: '{serverdir}'\n  host: '127.0.0.1'\n  port: {port}\n"
        "  argon2-memory-cost: 8192\n  argon2-time-cost: 1\n  argon2-parallelism: 1\n"
    )
    subprocess.run(  # noqa: S603 - the venv's own devpi-init
        [BIN / "devpi-init", "-c", str(config), "--no-root-pypi", "--root-passwd", OLD],
        check=True,
        capture_output=True,
    )
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name in ("systemctl", "launchctl"):
        script = bindir / name
        script.write_text(SERVICE.format(python=sys.executable))
        script.chmod(0o755)
    env = {
        "PATH": f"{bindir}:{os.environ['PATH']}",
        "FAKE_SERVICE_DIR": str(tmp_path),
        "FAKE_DEVPI_SERVER": str(BIN / "devpi-server"),
        "FAKE_DEVPI_CONFIG": str(config),
    }
    subprocess.run([bindir / "systemctl", "start", "devpi"], env={**os.environ, **env}, check=True)  # noqa: S603 - the stand-in
    url = f"http://127.0.0.1:{port}"
    args = {
        "url": url,
        "password": NEW,
        "devpi_passwd": str(BIN / "devpi-passwd"),
        "config_file": str(config),
        "service_manager": "systemd",
        "service": "devpi-server.service",
        "start_timeout": 60,
    }
    state = {"url": url, "args": args, "env": env, "calls": tmp_path / "calls.log", "tmp": tmp_path}
    yield state
    subprocess.run([bindir / "systemctl", "stop", "devpi"], env={**os.environ, **env}, check=False)  # noqa: S603 - the stand-in


def login(url, password):
    return api(url + "/+login", "POST", {"user": "root", "password": password})[0]


def calls(service):
    return service["calls"].read_text().splitlines()[1:]  # after the fixture's own start


def wait_up(url, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if api(url + "/+api")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError("devpi did not start")


def test_rotates_without_the_old_password_and_is_then_a_no_op(run_module, service):
    wait_up(service["url"])
    result = run_module("devpi_passwd", service["args"], env=service["env"])
    assert result["changed"] is True, result
    assert calls(service) == ["systemctl stop devpi-server.service", "systemctl start devpi-server.service"]
    assert login(service["url"], NEW) == 200
    assert login(service["url"], OLD) == 401
    assert NEW not in str(result)
    again = run_module("devpi_passwd", service["args"], env=service["env"])
    assert again["changed"] is False
    assert len(calls(service)) == 2  # nothing was stopped the second time


def test_check_mode_reports_and_touches_nothing(run_module, service):
    wait_up(service["url"])
    result = run_module("devpi_passwd", service["args"], env=service["env"], check_mode=True)
    assert result["changed"] is True
    assert calls(service) == []
    assert login(service["url"], OLD) == 200


def test_launchd_boots_the_job_out_and_in(run_module, service):
    wait_up(service["url"])
    args = {
        **service["args"],
        "service_manager": "launchd",
        "service": "gui/501/org.devpi.server",
        "launchd_plist": "/Users/me/Library/LaunchAgents/org.devpi.server.plist",
    }
    result = run_module("devpi_passwd", args, env=service["env"])
    assert result["changed"] is True, result
    assert calls(service) == [
        "launchctl bootout gui/501/org.devpi.server",
        "launchctl bootstrap gui/501 /Users/me/Library/LaunchAgents/org.devpi.server.plist",
    ]
    assert login(service["url"], NEW) == 200


@pytest.mark.skipif(os.getuid() != 0, reason="running devpi-passwd as another account needs root")
def test_a_failing_devpi_passwd_still_starts_the_service(run_module, service):
    """nobody cannot write root's server dir: the error is reported and devpi serves again, password unchanged."""
    wait_up(service["url"])
    result = run_module("devpi_passwd", {**service["args"], "run_as": "nobody"}, env=service["env"])
    assert result.get("failed") is True
    assert result["msg"].startswith("devpi-passwd ")  # could not run / failed: nobody cannot even read the venv
    assert NEW not in result["msg"]
    assert calls(service) == ["systemctl stop devpi-server.service", "systemctl start devpi-server.service"]
    wait_up(service["url"])
    assert login(service["url"], OLD) == 200


def test_unknown_account_and_unreachable_server(run_module, service):
    wait_up(service["url"])
    unknown = run_module("devpi_passwd", {**service["args"], "run_as": "no-such-user-x"}, env=service["env"])
    assert unknown["msg"] == "run_as: account 'no-such-user-x' does not exist"
    assert calls(service) == []
    down = run_module("devpi_passwd", {**service["args"], "url": f"http://127.0.0.1:{free_port()}"}, env=service["env"])
    assert "cannot tell whether root's password is current" in down["msg"]
    assert calls(service) == []
