"""The security promises of docs/security.md, checked on the deployed stack with real clients.

Threat model: another local account on the host (`nobody`, and Caddy's own account), the LAN (requests sent to the
container's own non-loopback address: outside the trusted networks), and a log that leaks. Every request goes to
this container only. The side effects (side_effect.yml) already proved the port-clash preflight and the rollback
of a configuration devpi cannot start with; this module checks what stays true after them.
"""

from __future__ import annotations

import base64
import json
import os
import shlex
import subprocess
import uuid

from conftest import BASE, SITE, UPLOADER, container_ip, curl
from devpi_testinfra import ROOT_PASSWORD

SCAN_SKIP = ("/proc", "/sys", "/dev", "/run/udev")
# A bounded scan of every regular file: read in chunks (a whole-file grep of a large sqlite or wheel runs out of
# memory here), overlapping by the longest needle. Prints the paths holding any needle.
_SCAN = r"""
import os, sys
needles = [n.encode() for n in sys.argv[1].split("\n") if n]
skip = tuple(sys.argv[2].split(":"))
overlap = max(map(len, needles))
for root, dirs, files in os.walk("/", topdown=True):
    if root.startswith(skip):
        dirs[:] = []
        continue
    dirs[:] = [d for d in dirs if not os.path.join(root, d).startswith(skip)]
    for name in files:
        path = os.path.join(root, name)
        try:
            if os.path.islink(path) or not os.path.isfile(path) or os.path.getsize(path) > 256 << 20:
                continue
            with open(path, "rb") as handle:
                tail = b""
                while chunk := handle.read(1 << 20):
                    block = tail + chunk
                    if any(n in block for n in needles):
                        print(path)
                        break
                    tail = block[-overlap:]
        except OSError:
            pass
"""


def b64(text):
    return base64.b64encode(text.encode()).decode()


def scan_files(host, needles, skip=SCAN_SKIP):
    found = host.check_output(f"python3 -c {shlex.quote(_SCAN)} {shlex.quote(chr(10).join(needles))} {':'.join(skip)}")
    return found.split()


def devpi_token(host, clientdir):
    """The login token devpi-client keeps on the client side (auth.json: {"auth": {<server>: [[user, token]]}})."""
    stored = json.loads(host.file(f"{clientdir}/auth.json").content_string)
    (logins,) = stored["auth"].values()
    user, token = logins[-1]
    return user, token


def test_credentials_and_tokens_never_reach_a_log(host, tls, clients, dist):
    """devpi-client (login + upload, X-Devpi-Auth), twine (Basic) and pip (credentials in the URL) through Caddy,
    plus a request Caddy cannot forward (devpi stopped: Caddy logs the error with the request); then no password,
    token or header value is in any log file or the journal, while the access log did record those requests."""
    name, directory = dist
    user, password = UPLOADER
    clientdir = f"/tmp/sec-devpi-{uuid.uuid4().hex[:6]}"
    host.check_output(f"{tls} {clients}/devpi use --clientdir {clientdir} {BASE}/uploader/dev")
    host.check_output(f"{tls} {clients}/devpi login --clientdir {clientdir} {user} --password {password}")
    upload = host.run(f"{tls} {clients}/devpi upload --clientdir {clientdir} --from-dir {directory}")
    assert upload.rc == 0, upload.stdout + upload.stderr
    _user, token = devpi_token(host, clientdir)
    twine = host.run(
        f"{tls} TWINE_USERNAME={user} TWINE_PASSWORD={password} {clients}/twine upload --non-interactive "
        f"--disable-progress-bar --repository-url {BASE}/uploader/dev/ {directory}/*"
    )
    assert twine.rc == 0, twine.stdout + twine.stderr
    with_credentials = f"https://{user}:{password}@{SITE}/uploader/dev/+simple/"
    pip = host.run(f"{tls} {clients}/pip download --no-deps -d /tmp/sec-pip --index-url {with_credentials} {name}")
    assert pip.rc == 0, pip.stdout + pip.stderr
    # Caddy's own (error) log carries the request when the upstream is down: it must not carry the token either.
    host.check_output("systemctl stop devpi-server")
    try:
        status, _headers = curl(host, f"{BASE}/+api", f"-H 'X-Devpi-Auth: {b64(f'{user}:{token}')}'")
        assert status == 502
    finally:
        host.check_output("systemctl start devpi-server")
        host.check_output(
            "for i in $(seq 60); do curl -fsS -o /dev/null http://127.0.0.1:3141/+api && exit 0; sleep 1; done; exit 1"
        )

    needles = [password, ROOT_PASSWORD, token, b64(f"{user}:{token}"), b64(f"{user}:{password}")]
    logs = host.check_output("cat /var/log/caddy/*.log") + host.check_output("journalctl --no-pager -o cat")
    for needle in needles:
        assert needle not in logs
    # Not vacuous: the uploads are in the access log, with their headers minus the credentials.
    entries = [json.loads(line) for line in host.file("/var/log/caddy/devpi-access.log").content_string.splitlines()]
    uploads = [e for e in entries if e["request"]["method"] == "POST" and e["request"]["uri"] == "/uploader/dev/"]
    assert uploads
    for entry in uploads:
        headers = {key.lower() for key in entry["request"]["headers"]}
        assert "user-agent" in headers
        assert not headers & {"authorization", "x-devpi-auth", "cookie", "proxy-authorization"}


def test_no_secret_in_any_file_or_process(host):
    """Every file on the container (bar the test's own client scratch dirs) and every command line."""
    user, password = UPLOADER
    needles = [ROOT_PASSWORD, password, b64(f"root:{ROOT_PASSWORD}"), b64(f"{user}:{password}")]
    found = scan_files(host, needles, (*SCAN_SKIP, "/tmp/sec-devpi-", "/tmp/devpi-"))
    assert found == []
    processes = host.check_output("ps -eo args")
    assert not [needle for needle in needles if needle in processes]


def test_no_secret_in_the_playbook_output_at_vvv():
    """converge.yml again from the controller at -vvv (Molecule's inventory and Ansible settings): it changes nothing
    and its output - module arguments and results included - holds no password."""
    scenario = os.environ["MOLECULE_SCENARIO_DIRECTORY"]
    argv = ["ansible-playbook", "-vvv", "-i", os.environ["MOLECULE_INVENTORY_FILE"], f"{scenario}/converge.yml"]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)  # noqa: S603 - fixed argv
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-3000:]
    assert "changed=0" in output
    assert '"module_args"' in output  # really -vvv: every module's arguments are shown
    user, password = UPLOADER
    for needle in (ROOT_PASSWORD, password, b64(f"root:{ROOT_PASSWORD}"), b64(f"{user}:{password}")):
        assert needle not in output


def test_other_local_users_cannot_reach_caddys_admin_api(host):
    nobody = "runuser -u nobody -- "
    assert host.run("curl -sS -m 5 http://127.0.0.1:2019/config/").rc != 0  # no TCP admin port, even for root
    assert host.run(f"{nobody}curl -sS -m 5 http://127.0.0.1:2019/config/").rc != 0
    # (Caddy's admin API on a unix socket wants an empty Host header: curl sends one for "Host;".)
    socket = "--unix-socket /run/caddy/admin.sock -H 'Host;'"
    change = "-X POST -H 'Content-Type: application/json' -d '{}'"
    tried = host.run(f"{nobody}curl -fsS -m 5 {change} {socket} http://caddy/load")
    assert tried.rc == 7, tried.stderr  # curl: could not connect (the socket's directory is closed to it)
    assert host.run(f"{nobody}ls /run/caddy").rc != 0
    # The API is there, for Caddy's account and root (reloads go through it), and still serves devpi's site.
    admin = json.loads(host.check_output(f"curl -fsS {socket} http://caddy/config/admin"))
    assert admin == {"listen": "unix//run/caddy/admin.sock"}
    assert curl(host, f"{BASE}/+api")[0] == 200


def test_caddy_reads_release_files_and_nothing_else_of_devpis(host, tls):
    caddy = "runuser -u caddy -- "
    for path in (
        "/var/lib/devpi/server/.sqlite",
        "/var/lib/devpi/server/.nodeinfo",
        "/var/lib/devpi/secret",
        "/etc/devpi/devpi-server.yml",
    ):
        assert host.run(f"{caddy}cat {path}").rc != 0, path
        assert host.run(f"cat {path} > /dev/null").rc == 0, path  # it is there: the refusal is the permission
    release = host.check_output("find /var/lib/devpi/server/+files -type f -name '*.whl' | head -n 1").strip()
    assert release
    assert host.run(f"{caddy}cat {release} > /dev/null").rc == 0
    status, headers = curl(host, BASE + release.removeprefix("/var/lib/devpi/server/+files"))
    assert (status, headers.get("x-devpi-served-by")) == (200, "caddy")


def test_caddy_service_is_sandboxed(host):
    report = host.check_output("systemd-analyze security --no-pager caddy.service")
    exposure = float(report.rsplit("Overall exposure level for caddy.service:", 1)[1].split()[0])
    assert exposure <= 3.0, report


def test_validation_left_no_caddy_state_behind(host):
    """caddy validate ran as root with storage of its own; nothing under root's home, no backups in the sites dir."""
    assert not host.file("/root/.local/share/caddy").exists
    assert not host.file("/root/.config/caddy").exists
    assert host.check_output("ls -A /etc/caddy/sites").split() == ["devpi.caddy"]


def outside(host):
    return f"--resolve {SITE}:443:{container_ip(host)}"


def api_user(host, *args):
    """(status, the user devpi authenticated or the refusal) of GET /+api with the given curl arguments."""
    status, _headers, text = curl(host, f"{BASE}/+api", "-H 'Accept: application/json'", *args, body=True)
    body = json.loads(text)
    return status, body["result"]["authstatus"][1] if status == 200 else body["message"]


def test_every_spelling_of_root_devpi_accepts_is_refused_from_outside(host, tls):
    status, _headers, text = curl(
        host,
        f"{BASE}/+login",
        "-X POST -H 'Content-Type: application/json' -H 'Accept: application/json'",
        "-d " + shlex.quote(json.dumps({"user": "root", "password": ROOT_PASSWORD})),
        body=True,
    )
    assert status == 200  # from the trusted loopback
    token = json.loads(text)["result"]["password"]
    basic, devpi = b64(f"root:{ROOT_PASSWORD}"), b64(f"root:{token}")
    variants = {
        "basic": f"Authorization: Basic {basic}",
        "basic lower": f"authorization: basic {basic}",
        "basic two spaces": f"Authorization: Basic  {basic}",
        "basic star": f"Authorization: *Basic {basic}",
        "basic dot": f"Authorization: Basic {basic[:4]}.{basic[4:]}",
        "basic unpadded": f"Authorization: Basic {basic.rstrip('=')}",
        "token": f"X-Devpi-Auth: {devpi}",
        "token lower": f"x-devpi-auth: {devpi}",
        "token star": f"X-Devpi-Auth: *{devpi}",
        "token dot": f"X-Devpi-Auth: {devpi[:4]}.{devpi[4:]}",
        "token space": f"X-Devpi-Auth: {devpi[:4]} {devpi[4:]}",
        "cookie": f"Cookie: X-Devpi-Auth={devpi}",
    }
    as_root = []
    for name, header in variants.items():
        if api_user(host, f"-H {shlex.quote(header)}") != (200, "root"):
            continue  # devpi itself does not take this spelling as root: nothing to refuse
        as_root.append(name)
        assert api_user(host, f"-H {shlex.quote(header)}", outside(host)) == (
            403,
            "root is not allowed from this network",
        ), name
    assert {"basic", "basic lower", "token", "token lower"} <= set(as_root), as_root
    # Logging in as root from outside gets no token; the uploader still logs in and is itself from there.
    for who, secret, expected in (("root", ROOT_PASSWORD, 403), (UPLOADER[0], UPLOADER[1], 200)):
        status, _headers = curl(
            host,
            f"{BASE}/+login",
            outside(host),
            "-X POST -H 'Content-Type: application/json' -H 'Accept: application/json'",
            "-d " + shlex.quote(json.dumps({"user": who, "password": secret})),
        )
        assert status == expected, who
    assert api_user(host, f"-u {UPLOADER[0]}:{UPLOADER[1]}", outside(host)) == (200, UPLOADER[0])
