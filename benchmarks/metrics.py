"""Cost of devpi's metrics (devpi_server_metrics: the collection's plugin hostnative-devpi-metrics) - not a test: it
prints figures and ratios measured in the same run.

Two real devpi-servers from this checkout's venv (devpi-server 6.20.3 and the plugin as the role installs it), one
with `--metrics on`, one without, each on a loopback port, each with the same ~1 KB wheel uploaded. Measured
in turn (machines are noisy: what else runs falls on both), bounded in count and time, loopback only:
  1. latency p50/p95 of `/+simple/<project>/`, one client, 1000 requests per server in batches of 50 taken in turn
                                                                                  (goal: p50 with metrics <= 1.03x)
  2. requests/s for the 1 KB wheel from devpi itself, 10 client threads, one-second windows in turn (goal: >= 0.97x)
  3. one scrape of /+metrics: its time, and devpi's RSS with and without metrics   (the plugin runs in devpi's own
     process: no exporter process; goal for a separate one would be <= 30 MB)

Usage (after `make venv`): python benchmarks/metrics.py
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

BIN = Path(sys.executable).parent
PASSWORD = secrets.token_urlsafe(16)  # a throwaway server's, made up for this run
ARGON = ["--argon2-memory-cost", "8192", "--argon2-time-cost", "1", "--argon2-parallelism", "1"]
PROJECT = "benchpkg"
WINDOWS = 8


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wheel(directory):
    """A ~1 KB wheel of PROJECT 1.0."""
    path = directory / f"{PROJECT}-1.0-py3-none-any.whl"
    info = f"{PROJECT}-1.0.dist-info"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(f"{PROJECT}/__init__.py", "# " + "x" * 700 + "\n")
        archive.writestr(f"{info}/METADATA", f"Metadata-Version: 2.1\nName: {PROJECT}\nVersion: 1.0\n")
        archive.writestr(
            f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n"
        )
        archive.writestr(f"{info}/RECORD", "")
    return path


def start(base, metrics):
    serverdir = base / ("on" if metrics else "off")
    env = {**os.environ, "DEVPISERVER_SERVERDIR": str(serverdir)}
    subprocess.run(  # noqa: S603 - the venv's own devpi-init
        [BIN / "devpi-init", "--no-root-pypi", "--root-passwd", PASSWORD], env=env, check=True, capture_output=True
    )
    port = free_port()
    args = [BIN / "devpi-server", "--host", "127.0.0.1", "--port", str(port), *ARGON]
    args += ["--metrics", "on"] if metrics else []
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603 - the venv's own devpi-server
    url = f"http://127.0.0.1:{port}"
    for _attempt in range(300):
        try:
            urllib.request.urlopen(url + "/+api", timeout=5).read()  # noqa: S310 - loopback
            return url, proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("devpi did not start")


def put_index_and_upload(url, path):
    auth = "Basic " + base64.b64encode(f"root:{PASSWORD}".encode()).decode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url + "/root/dev",
        data=json.dumps({"type": "stage", "bases": [], "volatile": True}).encode(),
        headers={"Content-Type": "application/json", "Accept": "application/json", "Authorization": auth},
        method="PUT",
    )
    urllib.request.urlopen(request, timeout=30).read()  # noqa: S310 - loopback
    env = {**os.environ, "UV_PUBLISH_USERNAME": "root", "UV_PUBLISH_PASSWORD": PASSWORD}
    subprocess.run(  # noqa: S603 - the venv's uv
        [BIN / "uv", "publish", "-q", "--publish-url", url + "/root/dev/", str(path)], env=env, check=True
    )
    simple = urllib.request.urlopen(f"{url}/root/dev/+simple/{PROJECT}/", timeout=30).read().decode()  # noqa: S310 - loopback
    href = simple.split('href="', 1)[1].split('"', 1)[0].split("#", 1)[0]
    return f"/root/dev/+simple/{PROJECT}/", urllib.parse.urljoin(f"/root/dev/+simple/{PROJECT}/", href)


def connection(url):
    parts = urllib.parse.urlsplit(url)
    return http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)


def timed_gets(conn, path, count):
    samples = []
    for _request in range(count):
        began = time.perf_counter()
        conn.request("GET", path, headers={"Accept": "text/html"})
        response = conn.getresponse()
        response.read()
        samples.append((time.perf_counter() - began) * 1000)
    return samples


def latency(targets, batches=20, batch=50, warmup=100):
    """p50/p95 (ms) per server: one client each, `batches` batches taken in turn from each server, so that
    whatever else the machine does falls on both alike."""
    conns = {key: connection(url) for key, (url, path) in targets.items()}
    samples = {key: [] for key in targets}
    for key, (_url, path) in targets.items():
        timed_gets(conns[key], path, warmup)
    for _batch in range(batches):
        for key, (_url, path) in targets.items():
            samples[key] += timed_gets(conns[key], path, batch)
    for conn in conns.values():
        conn.close()
    return {key: (statistics.median(got), sorted(got)[int(len(got) * 0.95)]) for key, got in samples.items()}


def throughput(url, path, threads=10, seconds=1.0):
    counts = [0] * threads
    stop = time.monotonic() + seconds

    def client(slot):
        conn = connection(url)
        while time.monotonic() < stop:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            counts[slot] += 1
        conn.close()

    workers = [threading.Thread(target=client, args=(slot,)) for slot in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return sum(counts) / seconds


def rss_mb(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main():
    with tempfile.TemporaryDirectory(prefix="devpi-metrics-bench-") as tmp:
        base = Path(tmp)
        servers = {metrics: start(base, metrics) for metrics in (False, True)}
        try:
            path = wheel(base)
            pages = {metrics: put_index_and_upload(url, path) for metrics, (url, _proc) in servers.items()}
            simple = {metrics: (servers[metrics][0], pages[metrics][0]) for metrics in servers}
            latencies = latency(simple)
            rps = {False: [], True: []}
            for _window in range(WINDOWS):  # one-second windows taken in turn
                for metrics in (False, True):
                    rps[metrics].append(throughput(servers[metrics][0], pages[metrics][1]))
            url_on = servers[True][0]
            began = time.perf_counter()
            scrape = urllib.request.urlopen(url_on + "/+metrics", timeout=30).read()  # noqa: S310 - loopback
            scrape_ms = (time.perf_counter() - began) * 1000
            rss = {metrics: rss_mb(proc.pid) for metrics, (_url, proc) in servers.items()}
        finally:
            for _url, proc in servers.values():
                proc.terminate()
                proc.wait(timeout=30)

    (on50, on95), (off50, off95) = latencies[True], latencies[False]
    on_rps, off_rps = statistics.median(rps[True]), statistics.median(rps[False])
    print("| Measurement | With metrics | Without (same run) | Ratio | Goal |")
    print("| --- | --- | --- | --- | --- |")
    print(
        f"| `/+simple/<project>/` latency, one client, 1000 requests | p50 {on50:.2f} ms, p95 {on95:.2f} ms | "
        f"p50 {off50:.2f} ms, p95 {off95:.2f} ms | {on50 / off50:.3f}x p50 | <= 1.03x |"
    )
    print(
        f"| 1 KB wheel from devpi, 10 threads, {WINDOWS} one-second windows | {on_rps:.0f} req/s | "
        f"{off_rps:.0f} req/s | {on_rps / off_rps:.3f}x | >= 0.97x |"
    )
    print(
        f"| devpi RSS after the load | {rss[True]:.0f} MB | {rss[False]:.0f} MB | "
        f"{rss[True] - rss[False]:+.0f} MB in devpi's process (no exporter process) | <= 30 MB |"
    )
    print(f"| one scrape of /+metrics | {scrape_ms:.1f} ms, {len(scrape)} bytes | - | - | - |")
    print("(latency: 20 batches of 50 requests taken in turn from each server; throughput: median window)")


if __name__ == "__main__":
    main()
