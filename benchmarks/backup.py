"""Backup benchmark for the devpi_backup role on a container host (not a test: it prints figures and ratios).

Deploys devpi_server + devpi_backup (restic from Debian's package) into its own container, uploads N small wheels
(random bytes, ~16 KiB each) to a stage index, then measures in the same run:
  1. for N = 100 and N = 1000 (each into a repository of its own): the time of the first backup and of a second one
     with nothing new, and what each added to the repository (the second is deduplication at work: goal - the
     database copy only, well under 1 MiB)
  2. the `snapshot` method's pause of serving: a client polls /+api every 50 ms (bounded: at most 600 polls)
     during a backup, against the same client polling while no backup runs (goal: no failed poll, p95 latency
     within 2x of the baseline)
  3. the `export` method's outage: the same client during an export backup (devpi stopped for devpi-export, started
     again after): how long /+api did not answer

All traffic stays inside the container (loopback). Usage (after `make venv images collection-link`, as
`make benchmark` does): python benchmarks/backup.py. It removes its container at the end.
"""

from __future__ import annotations

import itertools
import json
import os
import secrets
import subprocess
import tempfile
from pathlib import Path

import converge
from converge import playbook, sh

NAME = f"{converge.NAME}-backup"
DIRECT = "http://127.0.0.1:3141"
STATE = "/var/lib/devpi/backup"
SCRIPT = f"{STATE}/hostnative-devpi-backup.py"
PYTHON = "/opt/devpi/venv/bin/python"
WHEEL_BYTES = 16384
# Polls /+api every 50 ms while the given shell command runs and until devpi answers after it (at most 600 polls =
# about 30 s plus the latencies);
# prints JSON: each poll's start time (s) and latency in ms (None: failed), and the command's exit status.
POLL = r"""
import json, subprocess, sys, time, urllib.request
command = subprocess.Popen(["sh", "-c", sys.argv[1]]) if sys.argv[1] else None
samples = []
for _ in range(600):
    start = time.perf_counter()
    try:
        urllib.request.urlopen("http://127.0.0.1:3141/+api", timeout=5).read()
        samples.append((start, (time.perf_counter() - start) * 1000))
    except OSError:
        samples.append((start, None))
    # After the command: until devpi answers again (an export starts it again at the end).
    if command is not None and command.poll() is not None and len(samples) >= 20 and samples[-1][1] is not None:
        break
    if command is None and len(samples) >= 200:
        break
    time.sleep(0.05)
rc = command.wait() if command is not None else 0
print(json.dumps({"samples": samples, "rc": rc}))
"""
UPLOAD = r"""
import base64, io, os, sys, urllib.request, uuid
auth = base64.b64encode(("root:" + os.environ["ROOT_PASSWORD"]).encode()).decode()
for i in range(int(sys.argv[1]), int(sys.argv[2])):
    name, boundary = f"bench{i}", uuid.uuid4().hex
    parts = [(":action", b"file_upload"), ("name", name.encode()), ("version", b"1.0")]
    body = io.BytesIO()
    for key, value in parts:
        body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode() + value + b"\r\n")
    header = f'Content-Disposition: form-data; name="content"; filename="{name}-1.0-py3-none-any.whl"'
    body.write(f"--{boundary}\r\n{header}\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
               + os.urandom(int(sys.argv[3])) + b"\r\n")
    body.write(f"--{boundary}--\r\n".encode())
    request = urllib.request.Request("http://127.0.0.1:3141/root/bench/", data=body.getvalue(), method="POST",
        headers={"Authorization": "Basic " + auth, "Content-Type": "multipart/form-data; boundary=" + boundary})
    urllib.request.urlopen(request, timeout=30).read()
"""


def in_container(script, check=True):
    return converge.in_container(script, check=check, name=NAME)


def deploy(workdir, root_password):
    inventory = converge.write_inventory(workdir, NAME)
    variables = workdir / "vars.yml"
    variables.write_text(
        json.dumps(
            {
                "devpi_server_root_password": root_password,
                "devpi_server_ca_bundle": "/etc/ssl/certs/ca-certificates.crt",
                "devpi_backup_password": secrets.token_urlsafe(18),
                "devpi_backup_keep_last": 100,
                "devpi_backup_check": False,
            }
        )
    )
    variables.chmod(0o600)
    site = workdir / "backup.yml"
    site.write_text(
        "- hosts: all\n  gather_facts: true\n"
        "  roles:\n    - hostnative.devpi.devpi_server\n    - hostnative.devpi.devpi_backup\n"
    )
    playbook(str(site), variables, str(inventory), host=NAME)


def upload(root_password, start, stop):
    """Wheels bench<start>..bench<stop - 1> uploaded as root (the password reaches the container's environment from
    podman's, not from a command line)."""
    env = {**os.environ, "ROOT_PASSWORD": root_password}
    argv = ["podman", "exec", "-e", "ROOT_PASSWORD", NAME, "python3", "-c", UPLOAD]
    argv += [str(start), str(stop), str(WHEEL_BYTES)]
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)  # noqa: S603 - argv built here
    if done.returncode != 0:
        raise SystemExit(f"upload failed: {done.stderr[-2000:]}")


def config_for(repository, method="snapshot"):
    """The role's backup config with another repository (and method), initialised; returns its path."""
    path = f"{STATE}/bench-{Path(repository).name}.json"
    in_container(
        f'{PYTHON} -c \'import json,sys; c=json.load(open("{STATE}/backup.json")); '
        f'c.update(repository="{repository}", method="{method}", check=False, stop=[], start=[]); '
        f'json.dump(c, open("{path}", "w"))\' && chown devpi: {path} && '
        f"mkdir -p {repository} && chown devpi: {repository} && "
        f"(runuser -u devpi -- restic -r {repository} --password-file {STATE}/restic-password cat config "
        f">/dev/null 2>&1 || runuser -u devpi -- restic -r {repository} --password-file {STATE}/restic-password "
        "init >/dev/null)"
    )
    return path


def run_backup(config):
    """One backup as the unit runs it (devpi's account, the role's script); its state file."""
    in_container(f"runuser -u devpi -- {PYTHON} {SCRIPT} {config} >/dev/null")
    return json.loads(in_container(f"cat {STATE}/last-backup.json").stdout)


def poll_during(command):
    out = json.loads(sh("podman", "exec", NAME, "python3", "-c", POLL, command).stdout)
    samples = out["samples"]
    answered = sorted(sample[1] for sample in samples if sample[1] is not None)
    failed = sum(1 for sample in samples if sample[1] is None)
    # Unanswered time: from each failed poll to the next poll (the first answer after an outage ends it).
    outage = sum(nxt[0] - cur[0] for cur, nxt in itertools.pairwise(samples) if cur[1] is None)
    return {
        "polls": len(samples),
        "failed": failed,
        "outage_s": round(outage, 2),
        "p50_ms": round(answered[len(answered) // 2], 2) if answered else None,
        "p95_ms": round(answered[int(len(answered) * 0.95)], 2) if answered else None,
        "max_ms": round(answered[-1], 2) if answered else None,
        "rc": out["rc"],
    }


def main():
    root_password = secrets.token_urlsafe(18)
    converge.start_container(NAME, with_uv=False)
    results = {}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            deploy(Path(tmp), root_password)
        auth = f"root:{root_password}"
        in_container(
            f"curl -fsS -u '{auth}' -X PUT -H 'Content-Type: application/json' "
            f'-d \'{{"bases": [], "volatile": true}}\' {DIRECT}/root/bench >/dev/null'
        )
        uploaded = 0
        for count in (100, 1000):
            upload(root_password, uploaded, count)
            uploaded = count
            config = config_for(f"/var/backups/bench-{count}")
            first, second = run_backup(config), run_backup(config)
            results[f"n{count}"] = {
                "first_s": first["duration_seconds"],
                "first_added_mb": round(first["data_added_bytes"] / 2**20, 2),
                "second_s": second["duration_seconds"],
                "second_added_kb": round(second["data_added_bytes"] / 1024, 1),
            }
        snapshot = config_for("/var/backups/bench-poll")
        results["baseline"] = poll_during("")
        results["snapshot"] = poll_during(f"runuser -u devpi -- {PYTHON} {SCRIPT} {snapshot} >/dev/null")
        export = config_for("/var/backups/bench-export", method="export")
        # As the unit does it for the export method: stop devpi, export, start devpi.
        results["export"] = poll_during(
            f"systemctl stop devpi-server && runuser -u devpi -- {PYTHON} {SCRIPT} {export} >/dev/null; "
            "systemctl start devpi-server"
        )
    finally:
        sh("podman", "rm", "-f", NAME, check=False)

    print(json.dumps(results, indent=2))
    for count in (100, 1000):
        r = results[f"n{count}"]
        print(
            f"N={count:<5} first backup {r['first_s']:.1f} s (+{r['first_added_mb']:.1f} MiB), second with nothing new "
            f"{r['second_s']:.1f} s (+{r['second_added_kb']:.0f} KiB = "
            f"{r['second_added_kb'] / 1024 / r['first_added_mb']:.4f}x the first's growth)"
        )
    base, snap, export = results["baseline"], results["snapshot"], results["export"]
    print(
        f"snapshot while polling /+api every 50 ms: {snap['failed']} of {snap['polls']} polls failed, p95 "
        f"{snap['p95_ms']} ms vs {base['p95_ms']} ms without a backup = {snap['p95_ms'] / base['p95_ms']:.2f}x "
        "(goal: 0 failed, <= 2x)\n"
        f"export: devpi did not answer for about {export['outage_s']:.1f} s ({export['failed']} of "
        f"{export['polls']} polls)"
    )


if __name__ == "__main__":
    main()
