"""The devpi_server role's metrics plugin (files/hostnative-devpi-metrics): Prometheus metrics at /+metrics.

Its helpers in process, then a real devpi-server with the plugin loaded as the role installs it: the scrape parses
with prometheus_client's own parser, has the families and label sets docs/how-to/monitoring.md lists, counts the
requests made, serves the textfile directory's metrics, and is refused to a client outside the trusted networks
("outside" as Caddy presents it: a loopback peer with X-Real-IP naming another address).
"""

from __future__ import annotations

import base64
import os
import subprocess
import time
import urllib.error
import urllib.request

import hostnative_devpi_metrics as metrics
import pytest
from conftest import BIN, REPO, ROOT_PASSWORD, api, free_port, start_devpi, stop_devpi
from prometheus_client.parser import text_string_to_metric_families

OUTSIDE = "192.0.2.7"
TRUSTED = "198.51.100.0/24"
ARGON = ["--argon2-memory-cost", "8192", "--argon2-time-cost", "1", "--argon2-parallelism", "1"]  # as start_devpi
INSIDE = "198.51.100.9"


# ---- helpers, in process ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "label"), [("GET", "GET"), ("DELETE", "DELETE"), ("PROPFIND", "other")])
def test_method_labels_are_a_fixed_set(method, label):
    assert metrics.method_label(method) == label


@pytest.mark.parametrize(
    ("is_replica", "configured", "role"),
    [(True, "replica", "replica"), (False, "standalone", "standalone"), (False, "primary", "primary")],
)
def test_role_label(is_replica, configured, role):
    assert metrics.role_of(is_replica, configured) == role


def test_cgroup_v2_limits_are_read_from_the_process_cgroup(tmp_path):
    (tmp_path / "proc").write_text("0::/system.slice/devpi-server.service\n")
    unit = tmp_path / "sys" / "system.slice" / "devpi-server.service"
    unit.mkdir(parents=True)
    (unit / "memory.high").write_text("536870912\n")
    (unit / "memory.max").write_text("max\n")  # no limit: no metric
    assert metrics.cgroup_memory(str(tmp_path / "proc"), str(tmp_path / "sys")) == {"high": 536870912}
    assert metrics.cgroup_memory(str(tmp_path / "missing"), str(tmp_path / "sys")) == {}


@pytest.mark.parametrize(("limit", "expected"), [("1073741824", {"max": 1073741824}), ("9223372036854771712", {})])
def test_cgroup_v1_limit_is_read_from_the_memory_hierarchy(tmp_path, limit, expected):
    (tmp_path / "proc").write_text(
        "4:memory:/system.slice/devpi-server.service\n1:cpu,cpuacct:/system.slice/devpi-server.service\n0::/\n"
    )
    unit = tmp_path / "sys" / "memory" / "system.slice" / "devpi-server.service"
    unit.mkdir(parents=True)
    (unit / "memory.limit_in_bytes").write_text(limit + "\n")  # v1's "no limit" is a huge number
    assert metrics.cgroup_memory(str(tmp_path / "proc"), str(tmp_path / "sys")) == expected


def test_disk_usage_is_walked_at_most_once_per_interval(tmp_path):
    (tmp_path / "+files" / "a").mkdir(parents=True)
    (tmp_path / "+files" / "a" / "x.whl").write_bytes(b"1" * 100)
    (tmp_path / ".sqlite").write_bytes(b"2" * 10)
    now = [0.0]
    usage = metrics.DiskUsage(str(tmp_path), interval=60, clock=lambda: now[0])
    assert usage.used_bytes() == 110
    (tmp_path / "+files" / "a" / "y.whl").write_bytes(b"3" * 1000)
    now[0] = 59
    assert usage.used_bytes() == 110  # cached
    now[0] = 60
    assert usage.used_bytes() == 1110


def test_textfile_families_skip_and_report_a_broken_file(tmp_path):
    (tmp_path / "good.prom").write_text("# TYPE devpi_backup_last_run_success gauge\ndevpi_backup_last_run_success 1\n")
    (tmp_path / "bad.prom").write_text("this is { not prometheus\n")
    (tmp_path / "ignored.txt").write_text("x 1\n")
    families, errors = metrics.textfile_families(str(tmp_path))
    assert [family.name for family in families] == ["devpi_backup_last_run_success"]
    assert {sample.labels["file"]: sample.value for sample in errors.samples} == {"bad.prom": 1, "good.prom": 0}


# ---- a real devpi-server with the plugin -----------------------------------------------------------------------------


def scrape(url, real_ip=None):
    headers = {"X-Real-IP": real_ip} if real_ip else {}
    request = urllib.request.Request(url + "/+metrics", headers=headers)  # noqa: S310 - loopback URL
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback URL
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def families_of(text):
    return {family.name: family for family in text_string_to_metric_families(text)}


@pytest.fixture(scope="module")
def secret_file(tmp_path_factory):
    """The server secret the primary and its replica share."""
    secret = tmp_path_factory.mktemp("secret") / "secret"
    secret.write_bytes(base64.b64encode(os.urandom(32)))
    secret.chmod(0o600)
    return secret


@pytest.fixture(scope="module")
def devpi_with_metrics(tmp_path_factory, secret_file):
    base = tmp_path_factory.mktemp("metrics")
    textfiles = base / "textfiles"
    textfiles.mkdir()
    (textfiles / "devpi_backup.prom").write_text(
        "# HELP devpi_backup_last_success_timestamp_seconds When the last backup succeeded\n"
        "# TYPE devpi_backup_last_success_timestamp_seconds gauge\n"
        "devpi_backup_last_success_timestamp_seconds 1.7e+09\n"
    )
    args = ["--metrics", "on", "--metrics-trusted-networks", TRUSTED, "--metrics-textfile-dir", str(textfiles)]
    args += ["--secretfile", str(secret_file), "--role", "primary"]
    url, proc = start_devpi(base / "server", ROOT_PASSWORD, extra_args=args)
    yield url
    stop_devpi(proc)


def test_the_scrape_has_the_documented_families_with_sane_values(devpi_with_metrics):
    url = devpi_with_metrics
    assert api(url + "/root/dev", "PUT", {"type": "stage", "bases": []}, auth=("root", ROOT_PASSWORD))[0] == 200
    for _request in range(3):
        assert api(url + "/+api")[0] == 200
    assert api(url + "/nobody")[0] == 404
    status, content_type, text = scrape(url)
    assert status == 200
    assert content_type == "text/plain; version=0.0.4; charset=utf-8"
    families = families_of(text)
    documented = (REPO / "docs/how-to/monitoring.md").read_text()
    for name, family in families.items():
        # devpi's own metrics (devpiserver_metrics hook) are documented as the devpi_server_* group.
        if name.startswith("devpi_") and (name == "devpi_server_info" or not name.startswith("devpi_server_")):
            served = name + "_total" if family.type == "counter" else name
            assert f"`{served}`" in documented, f"{served} is served but docs/how-to/monitoring.md does not list it"
        assert not name.endswith("_created")
    assert families["devpi_server_storage_cache_lookups"].type == "counter"
    (info,) = families["devpi_server_info"].samples
    assert info.name == "devpi_server_info"
    assert info.labels == {"version": "6.20.3", "web_version": "", "role": "primary"}
    assert families["devpi_serial"].samples[0].value >= 1  # root/dev was created
    assert families["devpi_serverdir_filesystem_free_bytes"].samples[0].value > 0
    assert families["devpi_serverdir_used_bytes"].samples[0].value > 0
    assert families["devpi_database_size_bytes"].samples[0].value > 0
    assert families["devpi_process_max_resident_memory_bytes"].samples[0].value > 10 * 2**20
    assert families["process_resident_memory_bytes"].samples[0].value > 10 * 2**20
    requests = {
        (sample.labels["method"], sample.labels["code"]): sample.value
        for sample in families["devpi_http_requests"].samples
        if sample.name == "devpi_http_requests_total"
    }
    assert requests[("GET", "200")] >= 3
    assert requests[("GET", "404")] >= 1
    assert requests[("PUT", "200")] == 1
    assert families["devpi_http_requests"].type == "counter"
    buckets = [s for s in families["devpi_http_request_duration_seconds"].samples if s.name.endswith("_bucket")]
    assert {sample.labels["method"] for sample in buckets} >= {"GET", "PUT"}
    # devpi's own counters get the conventional _total suffix.
    assert any(
        s.name == "devpi_server_storage_cache_lookups_total"
        for s in families["devpi_server_storage_cache_lookups"].samples
    )
    assert families["devpi_backup_last_success_timestamp_seconds"].samples[0].value == 1.7e9
    assert {s.labels["file"]: s.value for s in families["devpi_metrics_textfile_error"].samples} == {
        "devpi_backup.prom": 0
    }
    # Nothing secret: no label value names a user or holds a hash.
    assert "root" not in {value for family in families.values() for s in family.samples for value in s.labels.values()}


def test_metrics_only_to_loopback_and_the_trusted_networks(devpi_with_metrics):
    assert scrape(devpi_with_metrics, real_ip=INSIDE)[0] == 200
    status, _content_type, body = scrape(devpi_with_metrics, real_ip=OUTSIDE)
    assert status == 403
    assert "devpi_serial" not in body


def test_without_the_option_there_are_no_metrics(tmp_path):
    url, proc = start_devpi(tmp_path / "server", ROOT_PASSWORD)
    try:
        status, _content_type, body = scrape(url)
    finally:
        stop_devpi(proc)
    assert status == 404
    assert "devpi_serial" not in body


def test_a_replica_reports_its_lag_and_errors(devpi_with_metrics, secret_file, tmp_path):
    """A real replica of the module's primary, with the plugin on: its role, the primary's serial, lag and errors.
    (Same secret and argon2 settings as the primary: devpi derives the replication key from both.)"""
    serverdir = tmp_path / "replica"
    env = {**os.environ, "DEVPISERVER_SERVERDIR": str(serverdir)}
    replica = ["--role", "replica", "--primary-url", devpi_with_metrics]
    subprocess.run([BIN / "devpi-init", *replica], env=env, check=True, capture_output=True)  # noqa: S603 - the venv's devpi-init
    port = free_port()
    log = (tmp_path / "replica.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - the venv's devpi-server
        [
            BIN / "devpi-server",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *replica,
            "--secretfile",
            str(secret_file),
            "--metrics",
            "on",
            *ARGON,
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        primary_serial = families_of(scrape(devpi_with_metrics)[2])["devpi_serial"].samples[0].value
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                families = families_of(scrape(url)[2])
                in_sync = families.get("devpi_replica_in_sync_timestamp_seconds")
                serial = families["devpi_serial"].samples[0].value
                if in_sync and in_sync.samples[0].value > 0 and serial >= primary_serial:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise AssertionError("the replica did not catch up: " + (tmp_path / "replica.log").read_text()[-2000:])
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert families["devpi_server_info"].samples[0].labels["role"] == "replica"
    assert families["devpi_replica_primary_serial"].samples[0].value >= primary_serial
    assert families["devpi_replica_lag_serials"].samples[0].value == 0
    assert families["devpi_replica_lag_seconds"].samples[0].value == 0
    assert families["devpi_replica_in_sync_timestamp_seconds"].samples[0].value > 0
    assert families["devpi_replica_primary_contacted_timestamp_seconds"].samples[0].value > 0
    assert families["devpi_replication_errors"].samples[0].value == 0


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"serial": 10, "primary-serial": 10, "replica-in-sync-at": 900.0}, {"lag_serials": 0, "lag_seconds": 0}),
        ({"serial": 7, "primary-serial": 10, "replica-in-sync-at": 900.0}, {"lag_serials": 3, "lag_seconds": 100.0}),
        # Never in sync yet: counted from the replica's start.
        (
            {"serial": 0, "primary-serial": 10, "replica-in-sync-at": None, "replica-started-at": 950.0},
            {"lag_serials": 10, "lag_seconds": 50.0},
        ),
        # The primary not heard from yet: no serials known to be missing, but not in sync either.
        (
            {"serial": 0, "primary-serial": None, "replica-in-sync-at": None, "replica-started-at": 990.0},
            {"lag_serials": 0, "lag_seconds": 10.0},
        ),
    ],
)
def test_replica_lag_from_status(status, expected):
    assert metrics.replica_lag(status, now=1000.0) == expected
