"""Replication benchmark (not a test: it prints figures and ratios measured in the same run).

Deploys playbooks/site.yml onto three containers of its own on a podman network of its own - a primary (with the
front: Caddy on :8080, plain HTTP) and two replicas that copy its secret - then measures, with all traffic between
those containers and bounded in count and time:
  1. upload-to-installable: an upload to the primary (from replica-1's host) until replica-1's own devpi lists the
     file and serves it, 20 uploads, p50 / p95                                  (goal: p95 <= 2 s)
  2. requests/s of a /+simple/<project>/ page through the front with one replica behind it vs two (ab, 10 clients,
     at most 8 s or 20000 requests each; the primary is left out of the read pool for both)   (ratio printed)
  3. a replica's idle RSS 30 s after those                                      (goal: <= 120 MB, like the primary)

Usage (after `make venv images collection-link`, as `make benchmark` does): python benchmarks/replication.py
It removes its containers and network at the end.
"""

from __future__ import annotations

import json
import re
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import converge
from converge import IMAGE, sh

NETWORK = "devpi-bench-replication"
PRIMARY, REPLICA_1, REPLICA_2 = (f"{converge.NAME}-{suffix}" for suffix in ("primary", "replica-1", "replica-2"))
HOSTS = (PRIMARY, REPLICA_1, REPLICA_2)
UPLOADS = 20
# Inside replica-1's container: upload a fresh tiny wheel to the primary, then poll the replica's own devpi until
# the simple page lists it and the file downloads; print the seconds each took.
LAG = r"""
import base64, io, json, sys, time, urllib.error, urllib.request, uuid, zipfile
primary, count = sys.argv[1], int(sys.argv[2])
password = sys.stdin.read()
auth = "Basic " + base64.b64encode(f"root:{password}".encode()).decode()
samples, errors = [], {}
for _i in range(count):
    name = "lag" + uuid.uuid4().hex[:10]
    wheel = f"{name}-1.0-py3-none-any.whl"
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as archive:
        archive.writestr(f"{name}/__init__.py", "")
    boundary = uuid.uuid4().hex
    parts = [(":action", "file_upload"), ("name", name), ("version", "1.0")]
    field = '--{}\r\nContent-Disposition: form-data; name="{}"\r\n\r\n{}\r\n'
    body = b"".join(field.format(boundary, key, value).encode() for key, value in parts) + (
        f'--{boundary}\r\nContent-Disposition: form-data; name="content"; filename="{wheel}"\r\n\r\n'.encode()
        + data.getvalue() + f"\r\n--{boundary}--\r\n".encode()
    )
    request = urllib.request.Request(f"{primary}/root/bench/", data=body, method="POST", headers={
        "Authorization": auth, "Content-Type": f"multipart/form-data; boundary={boundary}"})
    urllib.request.urlopen(request, timeout=30).read()
    start = time.perf_counter()
    deadline = start + 30
    while time.perf_counter() < deadline:
        try:
            simple = f"http://127.0.0.1:3141/root/bench/+simple/{name}/"
            page = urllib.request.urlopen(simple, timeout=5).read().decode()
        except OSError:
            page = ""
        link = next((part.split('"')[0] for part in page.split('href="')[1:] if wheel in part), None)
        if link:
            try:
                if urllib.request.urlopen(urllib.request.urljoin(simple, link), timeout=5).read():
                    break
            except urllib.error.HTTPError as exc:  # listed, but the file not served yet: counted, tried again
                errors[exc.code] = errors.get(exc.code, 0) + 1
        time.sleep(0.02)
    else:
        sys.exit(f"{wheel} not installable from the replica within 30 s")
    samples.append(time.perf_counter() - start)
print(json.dumps({"samples": samples, "errors": errors, "last": name}))
"""


def in_container(name, script, check=True):
    return converge.in_container(script, check=check, name=name)


def ip_of(name):
    return in_container(name, "hostname -I").stdout.split()[0]


def start_hosts():
    sh("podman", "network", "rm", "-f", NETWORK, check=False)
    sh("podman", "network", "create", NETWORK)
    for name in HOSTS:
        sh("podman", "rm", "-f", name, check=False)
        sh("podman", "run", "-d", "--name", name, "--network", NETWORK, "--systemd=always", IMAGE, "/sbin/init")
    for name in HOSTS:
        for _second in range(60):
            state = in_container(name, "systemctl is-system-running", check=False).stdout.strip()
            if state in ("running", "degraded"):
                break
            time.sleep(1)
        sh("podman", "cp", "/etc/ssl/certs/ca-certificates.crt", f"{name}:/etc/ssl/certs/ca-certificates.crt")


def write_inventory(workdir, root_password, read_pool):
    primary_ip = ip_of(PRIMARY)
    inventory = {
        "devpi_servers": {
            "hosts": {
                PRIMARY: {"devpi_server_role": "primary"},
                REPLICA_1: {"devpi_server_role": "replica"},
                REPLICA_2: {"devpi_server_role": "replica"},
            },
            "vars": {
                "ansible_connection": "containers.podman.podman",
                "ansible_python_interpreter": "/usr/bin/python3",
                "devpi_server_root_password": root_password,
                "devpi_server_ca_bundle": "/etc/ssl/certs/ca-certificates.crt",
                "devpi_server_listen_host": "0.0.0.0",  # noqa: S104 - the benchmark's own containers' network
                "devpi_server_allow_insecure": True,
                "devpi_server_primary_host": PRIMARY,
                "devpi_server_primary_url": f"http://{primary_ip}:3141",
            },
        }
    }
    inventory["devpi_servers"]["hosts"][PRIMARY].update(
        {
            "devpi_server_primary_url": "",
            "devpi_server_primary_host": "",
            "devpi_server_files_group_read": True,
            "devpi_caddy_site_address": "http://:8080",
            "devpi_caddy_tls": "off",
            "devpi_caddy_upstream": "127.0.0.1:3141",
            "devpi_caddy_upstreams": [f"{ip_of(name)}:3141" for name in read_pool],
        }
    )
    path = workdir / "inventory.yml"
    path.write_text(json.dumps(inventory))
    path.chmod(0o600)
    return path


def site(workdir, root_password, read_pool):
    inventory = write_inventory(workdir, root_password, read_pool)
    empty = workdir / "empty.yml"
    empty.write_text("{}\n")
    converge.playbook("hostnative.devpi.site", empty, str(inventory), host=PRIMARY)


def ab(url):
    out = in_container(PRIMARY, f"ab -q -k -c 10 -t 8 -n 20000 {url}").stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    return {"rps": rps, "failed": failed}


def main():
    root_password = secrets.token_urlsafe(18)
    start_hosts()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            workdir = Path(tmp)
            site(workdir, root_password, [PRIMARY, REPLICA_1, REPLICA_2])
            in_container(PRIMARY, "apt-get install -y -q apache2-utils >/dev/null")
            sh(  # curl reads root's credentials as its config from stdin, not from its command line
                "podman",
                "exec",
                "-i",
                PRIMARY,
                "curl",
                "-fsS",
                "-K",
                "-",
                "-X",
                "PUT",
                "-H",
                "Content-Type: application/json",
                "-d",
                '{"bases": [], "volatile": true}',
                "http://127.0.0.1:3141/root/bench",
                stdin=f'user = "root:{root_password}"\n',
            )
            primary_url = f"http://{ip_of(PRIMARY)}:3141"
            done = sh(  # root's password on stdin, not on a command line
                "podman",
                "exec",
                "-i",
                REPLICA_1,
                "python3",
                "-c",
                LAG,
                primary_url,
                str(UPLOADS),
                check=False,
                stdin=root_password,
            )
            if done.returncode != 0:
                sys.exit(f"the upload-to-replica measurement failed:\n{done.stderr[-2000:]}")
            measured = json.loads(done.stdout)
            lag, download_errors = measured["samples"], measured["errors"]
            print(f"upload to installable on a replica, seconds: {lag}; errors: {download_errors}", flush=True)
            name = measured["last"]
            page = f"http://127.0.0.1:8080/root/bench/+simple/{name}/"
            throughput = {}
            for label, pool in (("one replica", [REPLICA_1]), ("two replicas", [REPLICA_1, REPLICA_2])):
                site(workdir, root_password, pool)
                in_container(PRIMARY, f"curl -fsS -o /dev/null {page}")  # warm
                time.sleep(3)  # health checks see every instance
                throughput[label] = ab(page)
            time.sleep(30)
            pid = in_container(REPLICA_2, "systemctl show -p MainPID --value devpi-server").stdout.strip()
            rss = int(in_container(REPLICA_2, f"grep VmRSS /proc/{pid}/status").stdout.split()[1]) / 1024
    finally:
        for name in HOSTS:
            sh("podman", "rm", "-f", name, check=False)
        sh("podman", "network", "rm", "-f", NETWORK, check=False)

    lag.sort()
    p50, p95 = statistics.median(lag), lag[int(len(lag) * 0.95) - 1]
    one, two = throughput["one replica"]["rps"], throughput["two replicas"]["rps"]
    print(
        json.dumps(
            {"lag_s": lag, "download_errors": download_errors, "throughput": throughput, "replica_idle_rss_mb": rss},
            indent=2,
        )
    )
    print(
        f"upload to installable on a replica: p50 {p50:.2f} s, p95 {p95:.2f} s over {len(lag)} uploads "
        f"(goal p95 <= 2 s; answers other than 200 while the file was listed but not served yet: {download_errors})\n"
        f"simple page through the front: {two:.0f} req/s with two replicas vs {one:.0f} with one = {two / one:.2f}x "
        "(client, Caddy and both replicas share this machine's 2 cores)\n"
        f"replica idle RSS: {rss:.0f} MB (goal <= 120 MB)"
    )


if __name__ == "__main__":
    main()
