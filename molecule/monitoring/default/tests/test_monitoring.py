"""Prometheus (Debian's package) scraping the deployed devpi and Caddy, asked through its HTTP API from inside the
container (it listens on loopback only); devpi stopped and started under it to see DevpiDown fire and resolve.
All loops are bounded in count and time and talk only to this test container."""

from __future__ import annotations

import json
import re
import time
import urllib.parse
from pathlib import Path

import pytest

REPO = next(p for p in Path(__file__).parents if (p / "galaxy.yml").is_file())
PROMETHEUS = "http://127.0.0.1:9090"
ROOT_PASSWORD = "molecule-root-Secret-4711"
BACKUP_PASSWORD = "molecule-Restic-Pass-3141"
UPLOADER_PASSWORD = "molecule-Uploader-Pass-1618"
# Served only by a replica (this scenario has none), and the memory limit only where systemd enforces one (see
# test_devpi_metrics_have_sane_values).
NOT_HERE = {
    "devpi_replica_lag_serials",
    "devpi_replica_lag_seconds",
    "devpi_replication_errors",
    "devpi_memory_max_bytes",
}


def prometheus(host, path, **params):
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    out = host.check_output(f"curl -sS --max-time 10 '{PROMETHEUS}{path}{query}'")
    answer = json.loads(out)
    assert answer["status"] == "success", answer
    return answer["data"]


def value(host, expr):
    """The single value of an instant query (None when it has no result)."""
    result = prometheus(host, "/api/v1/query", query=expr)["result"]
    assert len(result) <= 1, result
    return float(result[0]["value"][1]) if result else None


def wait_for(condition, seconds=90, step=1.0):
    deadline = time.monotonic() + seconds
    while True:
        found = condition()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(step)


def test_every_target_is_scraped_and_up(host):
    def all_up():
        targets = prometheus(host, "/api/v1/targets")["activeTargets"]
        jobs = {t["labels"]["job"]: t["health"] for t in targets}
        return jobs if jobs == {"devpi": "up", "devpi-caddy": "up", "prometheus": "up"} else None

    assert wait_for(all_up, 60), prometheus(host, "/api/v1/targets")["activeTargets"]


def test_devpi_metrics_have_sane_values(host):
    assert value(host, 'devpi_server_info{job="devpi",version="6.20.3",role="standalone"}') == 1
    # Seeded (a user, an index) and an upload through Caddy.
    assert value(host, 'devpi_serial{job="devpi"}') > 0
    assert value(host, 'devpi_serverdir_filesystem_free_bytes{job="devpi"}') > 0
    assert value(host, 'devpi_serverdir_used_bytes{job="devpi"}') > 0
    assert value(host, 'sum(devpi_http_requests_total{job="devpi",method="POST",code="200"})') >= 1  # the upload
    assert value(host, 'process_resident_memory_bytes{job="devpi"}') > 20 * 2**20
    # The unit's MemoryMax (devpi_server_memory_max: 1G) as devpi's cgroup enforces it - where the container's
    # systemd can enforce one at all (a cgroup v1 host without delegation cannot; then there is no metric).
    assert value(host, 'devpi_memory_max_bytes{job="devpi"}') == enforced_memory_max(host)
    assert value(host, "devpi_metrics_textfile_error") == 0


def enforced_memory_max(host):
    """The memory limit devpi-server's cgroup has, read here independently of the plugin (None: none)."""
    out = host.check_output(
        "cat /sys/fs/cgroup/system.slice/devpi-server.service/memory.max "
        "/sys/fs/cgroup/memory/system.slice/devpi-server.service/memory.limit_in_bytes 2>/dev/null || true"
    ).split()
    return float(out[0]) if out and out[0].isdigit() else None


def test_the_last_backup_is_a_metric(host):
    assert value(host, 'devpi_backup_last_run_success{job="devpi"}') == 1
    assert value(host, "time() - devpi_backup_last_success_timestamp_seconds") < 3600
    assert value(host, "devpi_backup_last_size_bytes") > 0


def test_caddy_counts_requests_per_status_and_upstream_health(host):
    assert value(host, 'sum(caddy_http_request_duration_seconds_count{job="devpi-caddy",code="200"})') > 0
    assert value(host, 'caddy_reverse_proxy_upstreams_healthy{upstream="127.0.0.1:3141"}') == 1


def test_the_dashboard_uses_only_metrics_prometheus_has(host):
    have = set(prometheus(host, "/api/v1/label/__name__/values"))
    dashboard = json.loads((REPO / "roles/devpi_monitoring/files/grafana/devpi.json").read_text())
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel.get("targets", [])]
    used = {name for expr in exprs for name in re.findall(r"\b(?:devpi|caddy|process)_[a-z0-9_]+\b", expr)}
    assert sorted(used - have - NOT_HERE) == []


def test_the_rules_are_loaded_and_quiet_while_healthy(host):
    groups = prometheus(host, "/api/v1/rules")["groups"]
    alerts = {rule["name"]: rule["state"] for group in groups for rule in group["rules"]}
    assert len(alerts) == 11
    # The index is empty of failures: nothing fires (inactive, or pending at most for a scrape in flight).
    assert {name for name, state in alerts.items() if state == "firing"} == set()


def test_metrics_are_not_served_to_other_networks(host):
    address = host.check_output("hostname -I").split()[0]
    # devpi through Caddy from the container's own address: Caddy says who the client was, devpi refuses it.
    status = host.check_output(f"curl -s -o /dev/null -w '%{{http_code}}' http://{address}:8080/+metrics")
    assert status == "403"
    # Caddy's and Prometheus's metrics listen on loopback only.
    for port in (9180, 9090):
        assert host.run(f"curl -sS --max-time 5 http://{address}:{port}/metrics").rc != 0


def test_no_secret_in_any_metric(host):
    text = host.check_output("curl -sS http://127.0.0.1:3141/+metrics") + host.check_output(
        "curl -sS http://127.0.0.1:9180/metrics"
    )
    for secret in (ROOT_PASSWORD, BACKUP_PASSWORD, UPLOADER_PASSWORD, "uploader"):
        assert secret not in text


def test_the_rules_and_configuration_pass_promtool(host):
    assert host.run("promtool check config /etc/prometheus/prometheus.yml").rc == 0
    rules = host.file("/etc/prometheus/hostnative-devpi/devpi.rules.yml")
    assert rules.user == "root"
    assert rules.mode == 0o644


@pytest.fixture
def devpi_stopped(host):
    """devpi-server stopped for the test, started again (and answering) after it, whatever happened."""
    host.check_output("systemctl stop devpi-server")
    try:
        yield
    finally:
        host.check_output("systemctl start devpi-server")
        assert wait_for(lambda: host.run("curl -sf http://127.0.0.1:3141/+api").rc == 0, 120)


def alert_state(host, name):
    return {
        alert["state"] for alert in prometheus(host, "/api/v1/alerts")["alerts"] if alert["labels"]["alertname"] == name
    }


def test_devpi_down_fires_when_devpi_stops_and_resolves_when_it_starts(host, devpi_stopped):
    assert wait_for(lambda: "firing" in alert_state(host, "DevpiDown"), 60), prometheus(host, "/api/v1/alerts")
    (firing,) = [a for a in prometheus(host, "/api/v1/alerts")["alerts"] if a["labels"]["alertname"] == "DevpiDown"]
    assert firing["labels"]["instance"] == "127.0.0.1:3141"
    host.check_output("systemctl start devpi-server")
    assert wait_for(lambda: not alert_state(host, "DevpiDown"), 60), prometheus(host, "/api/v1/alerts")
