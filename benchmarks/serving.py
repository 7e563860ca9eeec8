"""Serving benchmark for the devpi_caddy role on a container host (not a test: it prints figures and ratios).

Deploys devpi_server + devpi_caddy (plain HTTP site on :8080, so both paths are compared without TLS) into its own
container, uploads a ~1 KB and a ~5 MiB wheel, then measures in the same run, with `ab` inside the container
(loopback only, bounded: at most 20000 requests or 8 s per measurement, concurrency 10):
  1. requests/s for each wheel through Caddy (served from disk) vs devpi directly   (goals: small >= 6x, 5 MiB >= 1.5x)
  2. latency p50/p95 of a /+simple/<project>/ page through Caddy vs directly, one client at a time (and, for
     reference, with 10)                                                             (goal: p50 via Caddy <= 1.3x)
  3. devpi's peak RSS while all that load runs                                       (goal: <= 300 MB)

Usage (after `make venv images collection-link`, as `make benchmark` does): python benchmarks/serving.py
It removes its container at the end.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import sys
import tempfile
import threading
import time
from pathlib import Path

import converge
from converge import playbook, sh

NAME = f"{converge.NAME}-serving"
DIRECT = "http://127.0.0.1:3141"
CADDY = "http://127.0.0.1:8080"
AB = "ab -q -k -c 10 -t 8 -n 20000"
# Latency: one client, one kept-alive connection, 1000 sequential requests timed with perf_counter (ab only reports
# whole milliseconds), so the figure is the path's own cost, not queueing behind other requests.
LATENCY = r"""
import http.client, statistics, sys, time, urllib.parse
url = urllib.parse.urlsplit(sys.argv[1])
conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
samples = []
for i in range(1100):
    start = time.perf_counter()
    conn.request("GET", url.path, headers={"Accept": "text/html"})
    response = conn.getresponse()
    response.read()
    assert response.status == 200, response.status
    if i >= 100:  # the first 100 warm up
        samples.append((time.perf_counter() - start) * 1000)
samples.sort()
print(samples[len(samples) // 2], samples[int(len(samples) * 0.95)])
"""


def in_container(script, check=True):
    return converge.in_container(script, check=check, name=NAME)


def deploy(workdir, root_password):
    inventory = converge.write_inventory(workdir, NAME)
    secrets_file = workdir / "secrets.yml"
    secrets_file.write_text(json.dumps({"devpi_server_root_password": root_password}))
    secrets_file.chmod(0o600)
    site = workdir / "stack.yml"
    site.write_text(
        "- hosts: all\n  gather_facts: true\n  vars:\n"
        "    devpi_server_ca_bundle: /etc/ssl/certs/ca-certificates.crt\n"
        "    devpi_server_files_group_read: true\n"
        "    devpi_caddy_site_address: 'http://:8080'\n    devpi_caddy_tls: 'off'\n"
        "  roles:\n    - hostnative.devpi.devpi_server\n    - hostnative.devpi.devpi_caddy\n"
    )
    playbook(str(site), secrets_file, str(inventory), host=NAME)
    in_container("apt-get install -y -q apache2-utils >/dev/null")


def upload_wheels(root_password):
    """A ~1 KB and a ~5 MiB wheel uploaded to root/bench (a stage index); their file paths."""
    auth = base64.b64encode(f"root:{root_password}".encode()).decode()
    in_container(
        f"curl -fsS -X PUT -H 'Authorization: Basic {auth}' -H 'Content-Type: application/json' "
        f'-d \'{{"bases": [], "volatile": true}}\' {DIRECT}/root/bench >/dev/null'
    )
    paths = {}
    for label, size in (("small", 1024), ("large", 5 * 1024 * 1024)):
        project = f"bench{label}"
        wheel = f"/root/{project}-1.0-py3-none-any.whl"  # inside the container
        in_container(f"head -c {size} /dev/urandom > {wheel}")
        in_container(
            f"curl -fsS -H 'Authorization: Basic {auth}' -F ':action=file_upload' -F name={project} "
            f"-F version=1.0 -F content=@{wheel} {DIRECT}/root/bench/ >/dev/null"
        )
        links = json.loads(
            in_container(f"curl -fsS -H 'Accept: application/json' {DIRECT}/root/bench/{project}/1.0").stdout
        )["result"]["+links"]
        url = next(link["href"] for link in links if link["rel"] == "releasefile")
        paths[label] = re.sub(r"^https?://[^/]+", "", url)
    return paths


def latency(url):
    p50, p95 = (float(x) for x in sh("podman", "exec", NAME, "python3", "-c", LATENCY, url).stdout.split())
    return {"p50_ms": p50, "p95_ms": p95}


def ab(url, command=AB):
    out = in_container(f"{command} {url}").stdout
    rps = float(re.search(r"Requests per second:\s+([\d.]+)", out).group(1))
    failed = int(re.search(r"Failed requests:\s+(\d+)", out).group(1))
    p50 = float(re.search(r"^\s+50%\s+(\d+)", out, re.MULTILINE).group(1))
    p95 = float(re.search(r"^\s+95%\s+(\d+)", out, re.MULTILINE).group(1))
    return {"rps": rps, "failed": failed, "p50_ms": p50, "p95_ms": p95}


def devpi_rss_sampler(stop, peak):
    pid = in_container("systemctl show -p MainPID --value devpi-server").stdout.strip()
    while not stop.is_set():
        out = in_container(f"grep VmRSS /proc/{pid}/status", check=False).stdout
        if out:
            peak[0] = max(peak[0], int(out.split()[1]) / 1024)
        time.sleep(0.5)


def main():
    root_password = secrets.token_urlsafe(18)
    converge.start_container(NAME, with_uv=False)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            deploy(Path(tmp), root_password)
        paths = upload_wheels(root_password)
        for label in paths:  # warm both paths once (Caddy's first request for a file goes to devpi anyway)
            in_container(
                f"curl -fsS -o /dev/null {CADDY}{paths[label]} && curl -fsS -o /dev/null {DIRECT}{paths[label]}"
            )
        served = in_container(f"curl -fsS -D - -o /dev/null {CADDY}{paths['small']}").stdout
        if "X-Devpi-Served-By: caddy" not in served:
            sys.exit("Caddy does not serve the file from disk; no point measuring")
        stop, peak = threading.Event(), [0.0]
        sampler = threading.Thread(target=devpi_rss_sampler, args=(stop, peak), daemon=True)
        sampler.start()
        results = {}
        for label, path in paths.items():
            results[label] = {"caddy": ab(CADDY + path), "direct": ab(DIRECT + path)}
        simple = "/root/bench/+simple/benchsmall/"
        results["simple"] = {"caddy": latency(CADDY + simple), "direct": latency(DIRECT + simple)}
        results["simple_c10"] = {"caddy": ab(CADDY + simple), "direct": ab(DIRECT + simple)}
        stop.set()
        sampler.join()
    finally:
        sh("podman", "rm", "-f", NAME, check=False)

    small = results["small"]["caddy"]["rps"] / results["small"]["direct"]["rps"]
    large = results["large"]["caddy"]["rps"] / results["large"]["direct"]["rps"]
    simple_caddy, simple_direct = results["simple"]["caddy"], results["simple"]["direct"]
    p50 = simple_caddy["p50_ms"] / simple_direct["p50_ms"]
    print(json.dumps(results, indent=2))
    print(
        f"1 KB wheel:   {results['small']['caddy']['rps']:.0f} req/s via Caddy vs "
        f"{results['small']['direct']['rps']:.0f} direct = {small:.1f}x (goal >= 6x)\n"
        f"5 MiB wheel:  {results['large']['caddy']['rps']:.0f} req/s via Caddy vs "
        f"{results['large']['direct']['rps']:.0f} direct = {large:.1f}x (goal >= 1.5x)\n"
        f"simple page:  p50 {simple_caddy['p50_ms']:.2f} ms / p95 {simple_caddy['p95_ms']:.2f} ms via Caddy vs "
        f"p50 {simple_direct['p50_ms']:.2f} ms / p95 {simple_direct['p95_ms']:.2f} ms direct = {p50:.2f}x p50 "
        "(goal <= 1.3x; one client)\n"
        f"simple page, 10 clients: p50 {results['simple_c10']['caddy']['p50_ms']:.0f} ms via Caddy vs "
        f"{results['simple_c10']['direct']['p50_ms']:.0f} ms direct (queueing on 2 shared cores)\n"
        f"devpi RSS:    peak {peak[0]:.0f} MB during the load (goal <= 300 MB)"
    )


if __name__ == "__main__":
    main()
