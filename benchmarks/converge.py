"""Benchmarks for the devpi_server role on a container host (not a test: it prints figures and ratios).

Every figure comes with a baseline measured in the same run, because machines are noisy:
  1. cold install of the pinned devpi-server + devpi-web into a new venv: uv vs pip   (goal: uv >= 4x faster)
  2. no-op re-converge of devpi_server (changed=0) vs a floor run on the same connection
     (gather facts + one ping)                                                         (goal: <= 3x the floor)
  3. devpi start-up: time from `systemctl restart` to /+api answering, and RSS (peak, and idle 60 s after start),
     with the role's argon2 settings vs devpi's own defaults                          (goal: idle RSS <= 120 MB)

Usage (after `make venv images collection-link`, as `make benchmark` does): python benchmarks/converge.py [--runs N]
It starts its own container (podman, the Debian 12 test image) and removes it at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
IMAGE = "localhost/hostnative-devpi-debian:12"
NAME = "devpi-bench"
PINS = ["devpi-server==6.20.3", "devpi-web==5.1.1"]


def sh(*argv, check=True, capture=True, stdin=None):
    return subprocess.run(argv, check=check, capture_output=capture, text=True, input=stdin)  # noqa: S603 - argv built here


def in_container(script, check=True, name=NAME):
    return sh("podman", "exec", name, "sh", "-c", script, check=check)


def timed(fn, runs, setup=None):
    samples = []
    for _sample in range(runs):
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples), samples


def start_container(name=NAME, with_uv=True):
    """A fresh container of the test image with systemd up and the host's CA bundle (and uv, for the install bench)."""
    sh("podman", "rm", "-f", name, check=False)
    sh("podman", "run", "-d", "--name", name, "--systemd=always", IMAGE, "/sbin/init")
    for _second in range(60):
        state = in_container("systemctl is-system-running", check=False, name=name).stdout.strip()
        if state in ("running", "degraded"):
            break
        time.sleep(1)
    sh("podman", "cp", "/etc/ssl/certs/ca-certificates.crt", f"{name}:/etc/ssl/certs/ca-certificates.crt")
    if with_uv:
        sh("podman", "cp", str(ROOT / ".venv" / "bin" / "uv"), f"{name}:/usr/local/bin/uv")


def bench_install(runs):
    """Each run: a fresh venv (untimed), then the timed install of the pins with an empty cache."""
    env = (
        "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt "
        "UV_PYTHON_DOWNLOADS=never UV_NO_CONFIG=1"
    )
    pins = " ".join(PINS)

    def fresh_venv():
        # --seed puts pip into the venv (the image has no python3-venv); uv does not use it.
        in_container(f"rm -rf /tmp/b /tmp/uvc && {env} uv venv -q --seed --python /usr/bin/python3 /tmp/b")

    def with_uv():
        in_container(f"{env} UV_CACHE_DIR=/tmp/uvc uv pip install -q --python /tmp/b/bin/python {pins}")

    def with_pip():
        in_container(f"{env} /tmp/b/bin/pip install -q --no-cache-dir --disable-pip-version-check {pins}")

    uv_time, uv_samples = timed(with_uv, runs, setup=fresh_venv)
    pip_time, pip_samples = timed(with_pip, runs, setup=fresh_venv)
    return {
        "uv_s": uv_time,
        "pip_s": pip_time,
        "ratio": pip_time / uv_time,
        "uv_samples": uv_samples,
        "pip_samples": pip_samples,
    }


def playbook(path, extra_vars_file, inventory, host=NAME):
    env = {
        **os.environ,
        "ANSIBLE_STDOUT_CALLBACK": "ansible.builtin.json",
        "ANSIBLE_COLLECTIONS_PATH": str(ROOT / ".cache" / "collections"),
    }
    out = subprocess.run(  # noqa: S603 - the project's own ansible-playbook
        [str(ROOT / ".venv" / "bin" / "ansible-playbook"), "-i", inventory, "-e", f"@{extra_vars_file}", path],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    if out.returncode != 0:
        sys.exit(f"ansible-playbook {path} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    stats = json.loads(out.stdout)["stats"][host]
    return stats


def write_inventory(workdir, name=NAME):
    """An inventory of the one container, reached with podman."""
    inventory = workdir / "inventory.yml"
    inventory.write_text(
        f"all:\n  hosts:\n    {name}:\n      ansible_connection: containers.podman.podman\n"
        "      ansible_python_interpreter: /usr/bin/python3\n"
    )
    return inventory


def bench_converge(runs, workdir):
    inventory = write_inventory(workdir)
    secrets_file = workdir / "secrets.yml"
    secrets_file.write_text(
        f"devpi_server_root_password: {secrets.token_urlsafe(16)}\n"
        "devpi_server_ca_bundle: /etc/ssl/certs/ca-certificates.crt\n"
        "devpi_server_uv_executable: /usr/local/bin/uv\n"
    )
    secrets_file.chmod(0o600)
    converge = workdir / "converge.yml"
    converge.write_text("- hosts: all\n  gather_facts: true\n  roles:\n    - hostnative.devpi.devpi_server\n")
    floor = workdir / "floor.yml"
    floor.write_text("- hosts: all\n  gather_facts: true\n  tasks:\n    - ansible.builtin.ping:\n")
    first = playbook(str(converge), secrets_file, str(inventory))
    changes = []

    def noop():
        changes.append(playbook(str(converge), secrets_file, str(inventory))["changed"])

    noop_time, noop_samples = timed(noop, runs)
    floor_time, floor_samples = timed(lambda: playbook(str(floor), secrets_file, str(inventory)), runs)
    return {
        "first_changed": first["changed"],
        "noop_changed": changes,
        "noop_s": noop_time,
        "floor_s": floor_time,
        "ratio": noop_time / floor_time,
        "noop_samples": noop_samples,
        "floor_samples": floor_samples,
    }


_START = r"""
import json, subprocess, sys, time, urllib.request
def rss(pid, key):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(key):
            return int(line.split()[1]) // 1024
start = time.monotonic()
argv = sys.argv[1:]
if argv[0] == "service":
    subprocess.run(["systemctl", "restart", "devpi-server"], check=True)
    pid = lambda: int(subprocess.check_output(["systemctl", "show", "-p", "MainPID", "--value", "devpi-server"]))
else:
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    # setpriv execs the server in place, so proc.pid is devpi-server itself (runuser would fork).
    drop = ["setpriv", "--reuid=devpi", "--regid=devpi", "--init-groups"]
    proc = subprocess.Popen([*drop, *argv], **quiet)
    pid = lambda: proc.pid
peak = 0
while True:
    try:
        peak = max(peak, rss(pid(), "VmHWM:") or 0)
        if urllib.request.urlopen("http://127.0.0.1:3141/+api", timeout=1).status == 200:
            break
    except Exception:
        time.sleep(0.05)
ready = time.monotonic() - start
idle = None
if argv[0] == "service":
    time.sleep(60)
    idle = rss(pid(), "VmRSS:")
peak = max(peak, rss(pid(), "VmHWM:"))
if argv[0] != "service":
    proc.terminate(); proc.wait()
print(json.dumps({"ready_s": ready, "peak_mb": peak, "idle_mb": idle}))
"""


def start_probe(*argv):
    out = sh("podman", "exec", NAME, "python3", "-c", _START, *argv).stdout
    return json.loads(out)


def bench_startup():
    role = start_probe("service")
    in_container("systemctl stop devpi-server")
    baseline = start_probe(
        "/opt/devpi/venv/bin/devpi-server",
        "--configfile",
        "/etc/devpi/devpi-server.yml",
        *("--argon2-memory-cost", "524288", "--argon2-time-cost", "16", "--argon2-parallelism", "8"),
    )
    in_container("systemctl start devpi-server")
    return {"role": role, "devpi_defaults": baseline, "ready_ratio": baseline["ready_s"] / role["ready_s"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5, help="samples per measurement (median is reported)")
    args = parser.parse_args()
    start_container()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            install = bench_install(args.runs)
            print(
                f"1. cold install {' '.join(PINS)}: uv {install['uv_s']:.1f} s, pip {install['pip_s']:.1f} s "
                f"-> uv is {install['ratio']:.1f}x faster (goal >= 4x)"
            )
            converge = bench_converge(args.runs, Path(tmp))
            print(
                f"2. no-op converge {converge['noop_s']:.1f} s (changed={converge['noop_changed']}) vs floor "
                f"(facts + ping) {converge['floor_s']:.1f} s -> {converge['ratio']:.2f}x the floor (goal <= 3x)"
            )
            startup = bench_startup()
            role, base = startup["role"], startup["devpi_defaults"]
            print(
                f"3. start to /+api: role {role['ready_s']:.1f} s (peak RSS {role['peak_mb']} MB), devpi's argon2 "
                f"defaults {base['ready_s']:.1f} s (peak RSS {base['peak_mb']} MB) -> {startup['ready_ratio']:.1f}x "
                f"faster; idle RSS 60 s after start {role['idle_mb']} MB (goal <= 120 MB)"
            )
            print(json.dumps({"install": install, "converge": converge, "startup": startup}, indent=2))
    finally:
        sh("podman", "rm", "-f", NAME, check=False)


if __name__ == "__main__":
    main()
