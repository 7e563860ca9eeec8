"""Verify a converged devpi_server host with real clients: systemd, devpi-server, pip, uv, HTTP API.

Runs inside the scenario's container (``podman://``); nothing here is faked.
"""

from __future__ import annotations

import re
import time
import uuid

from devpi_testinfra import ROOT_PASSWORD, URL

SERVICE = "devpi-server.service"
SERVERDIR = "/var/lib/devpi/server"
SIMPLE = f"{URL}/root/pypi/+simple/"
UV = "/opt/devpi/bin/uv"


def main_pid(host):
    return int(host.check_output(f"systemctl show -p MainPID --value {SERVICE}"))


def journal(host):
    return host.check_output(f"journalctl -u {SERVICE} --no-pager -n 60")


def test_service_active_and_enabled(host):
    service = host.service("devpi-server")
    assert service.is_running, journal(host)
    assert service.is_enabled


def test_runs_as_dedicated_user(host):
    pid = main_pid(host)
    assert pid > 0
    assert host.check_output(f"ps -o user= -p {pid}").strip() == "devpi"
    user = host.user("devpi")
    assert user.shell == "/usr/sbin/nologin"
    assert user.uid < 1000  # a system account


def test_listens_on_loopback_3141_only(host):
    pid = main_pid(host)
    sockets = host.check_output(f"ss -Hltnp | grep 'pid={pid},' | awk '{{print $4}}'").split()
    assert sockets == ["127.0.0.1:3141"]


def test_api_answers(api):
    status, body = api.call("GET", "/+api")
    assert status == 200
    assert body["result"]["login"].endswith("/+login")


def test_root_logs_in_with_configured_password_only(api):
    assert api.call("POST", "/+login", {"user": "root", "password": ROOT_PASSWORD})[0] == 200
    assert api.call("POST", "/+login", {"user": "root", "password": ""})[0] == 401
    assert api.call("POST", "/+login", {"user": "root", "password": ROOT_PASSWORD + "x"})[0] == 401


def test_root_pypi_is_a_mirror_without_project_list(api):
    status, body = api.call("GET", "/root/pypi")
    assert status == 200
    assert body["result"]["type"] == "mirror"
    assert body["result"]["mirror_no_project_list"] is True
    assert body["result"]["mirror_url"] == "https://pypi.org/simple/"


def test_anonymous_cannot_create_users(api):
    status = api.call("PUT", "/mallory", {"password": "x" * 12})[0]
    assert status == 403


def assert_installs_through_mirror(host, venv, install, module):
    """Run a real installer into venv, import the module, and find its wheel in devpi's server directory."""
    out = host.run(install)
    assert out.rc == 0, out.stderr
    assert host.run(f"{venv}/bin/python -c 'import {module}'").rc == 0
    # devpi fetched the wheel from upstream and stored it: the install really went through the mirror.
    assert host.check_output(f"find {SERVERDIR}/+files/root/pypi -name '{module}-*.whl'").strip()


def test_pip_installs_through_root_pypi(host):
    venv = f"/tmp/pip-{uuid.uuid4().hex[:8]}"
    # `uv venv --seed` fetches pip itself through the mirror too.
    host.check_output(f"UV_INDEX_URL={SIMPLE} {UV} venv -q --seed --python /usr/bin/python3 {venv}")
    assert_installs_through_mirror(
        host, venv, f"{venv}/bin/pip install --no-cache-dir --index-url {SIMPLE} requests", "requests"
    )


def test_uv_installs_through_root_pypi(host):
    venv = f"/tmp/uv-{uuid.uuid4().hex[:8]}"
    host.check_output(f"{UV} venv -q --python /usr/bin/python3 {venv}")
    assert_installs_through_mirror(
        host, venv, f"{UV} pip install --no-cache --python {venv}/bin/python --index-url {SIMPLE} idna", "idna"
    )


def test_upload_and_install_from_user_index(host, api):
    """A real upload (uv publish) into a user index, then an install from it: devpi works fully in its sandbox."""
    name = f"u{uuid.uuid4().hex[:8]}"
    password = uuid.uuid4().hex
    root = ("root", ROOT_PASSWORD)
    assert api.call("PUT", f"/{name}", {"password": password, "email": f"{name}@example.org"}, auth=root)[0] == 201
    assert api.call("PUT", f"/{name}/dev", {"type": "stage", "bases": ["root/pypi"]}, auth=root)[0] == 200
    project = f"/tmp/{name}-proj"
    host.check_output(
        f"mkdir -p {project}/src/{name}pkg && touch {project}/src/{name}pkg/__init__.py && "
        f'printf \'[project]\\nname = "{name}pkg"\\nversion = "1.0"\\n'
        f'[build-system]\\nrequires = ["hatchling"]\\nbuild-backend = "hatchling.build"\\n\' '
        f"> {project}/pyproject.toml"
    )
    build = host.run(f"cd {project} && UV_INDEX_URL={SIMPLE} {UV} build -q --wheel --out-dir dist")
    assert build.rc == 0, build.stderr
    publish = host.run(
        f"cd {project} && UV_PUBLISH_USERNAME={name} UV_PUBLISH_PASSWORD={password} "
        f"{UV} publish -q --publish-url {URL}/{name}/dev/ dist/*"
    )
    assert publish.rc == 0, publish.stderr
    venv = f"/tmp/{name}-venv"
    host.check_output(f"{UV} venv -q --python /usr/bin/python3 {venv}")
    install = host.run(
        f"{UV} pip install --no-cache --python {venv}/bin/python --index-url {URL}/{name}/dev/+simple/ {name}pkg==1.0"
    )
    assert install.rc == 0, install.stderr
    # devpi-web serves the project page of the uploaded package.
    assert host.run(f"curl -fsS -o /dev/null {URL}/{name}/dev/{name}pkg").rc == 0


def test_secret_never_leaks(host):
    assert ROOT_PASSWORD not in host.check_output("ps -eww -o args")
    for path in ["/etc/systemd/system/devpi-server.service", "/etc/devpi/devpi-server.yml"]:
        assert ROOT_PASSWORD not in host.file(path).content_string
    # No file anywhere we write holds it (devpi-init's one-off config with the hash is gone too).
    hits = host.run(f"grep -rlsF -e {ROOT_PASSWORD!r} /etc /opt/devpi /var/lib/devpi /var/log /root")
    assert hits.stdout.strip() == "", hits.stdout
    assert ROOT_PASSWORD not in host.check_output("journalctl --no-pager -o cat")
    assert not host.file("/etc/devpi/.devpi-init.yml").exists


def test_files_and_permissions(host):
    assert host.file(SERVERDIR).mode == 0o700
    assert host.file(SERVERDIR).user == "devpi"
    secret = host.file("/var/lib/devpi/secret")
    assert (secret.user, secret.mode, secret.size) == ("devpi", 0o600, 44)
    config = host.file("/etc/devpi/devpi-server.yml")
    assert (config.user, config.group, config.mode) == ("root", "devpi", 0o640)
    assert host.file(f"{SERVERDIR}/.nodeinfo").user == "devpi"


def test_unit_verifies_and_is_sandboxed(host):
    assert host.run(f"systemd-analyze verify {SERVICE}").rc == 0
    report = host.check_output(f"systemd-analyze security {SERVICE} --no-pager")
    exposure = float(re.search(r"Overall exposure level for \S+: (\d+\.\d+)", report).group(1))
    assert exposure <= 2.0, report


def test_recovers_from_kill_9(host, api):
    before = main_pid(host)
    host.check_output(f"kill -9 {before}")
    deadline = time.monotonic() + 15
    status = 0
    while time.monotonic() < deadline:
        if main_pid(host) not in (0, before) and host.run(f"curl -fsS -o /dev/null {URL}/+api").rc == 0:
            status = 200
            break
        time.sleep(0.5)
    assert status == 200, journal(host)
    assert main_pid(host) != before
