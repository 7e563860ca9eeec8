"""devpi_monitoring: the alert rules under the REAL promtool (Debian's prometheus package, unpacked - see the
Makefile), bad input refused in preflight naming the variable, and the Grafana dashboard's metric names.

`promtool test rules` runs every alert on crafted series: each fires on a series that breaks its threshold and stays
quiet on one at (or inside) it. The rules are the role's template rendered with its defaults; their annotations are
left out of the unit tests (promtool compares them verbatim) and checked by `promtool check rules` on the full file.
The live Prometheus, scraping real devpi and Caddy, is in molecule/monitoring/default.
"""

from __future__ import annotations

import json
import os
import re
import subprocess

import jinja2
import pytest
import yaml
from conftest import (
    REPO,
    ansible_playbook,
    assert_failed_in_preflight,
    batched,
    role_playbook,
    role_runner,
    tasks_until_failure,
)

ROLE = REPO / "roles" / "devpi_monitoring"
PROMTOOL = os.environ.get("PROMTOOL") or "promtool"
PREFLIGHT_TASKS = re.compile(r"^(Check |Validating arguments|Find Homebrew)")
DEFAULTS = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())


def render_rules(**overrides):
    environment = jinja2.Environment(trim_blocks=True, keep_trailing_newline=True, autoescape=False)  # noqa: S701 - YAML, not HTML
    environment.filters["comment"] = lambda text: "# " + text
    variables = {**DEFAULTS, "ansible_managed": "Ansible managed", **overrides}
    return environment.from_string((ROLE / "templates" / "devpi.rules.yml.j2").read_text()).render(**variables)


def promtool(*args, cwd):
    done = subprocess.run([PROMTOOL, *args], capture_output=True, text=True, cwd=cwd, check=False)  # noqa: S603 - the unpacked promtool
    return done.returncode, done.stdout + done.stderr


def alerts_of(rules_text):
    return [rule["alert"] for group in yaml.safe_load(rules_text)["groups"] for rule in group["rules"]]


def test_the_rendered_rules_pass_promtool_check(tmp_path):
    (tmp_path / "devpi.rules.yml").write_text(render_rules())
    rc, output = promtool("check", "rules", "devpi.rules.yml", cwd=tmp_path)
    assert rc == 0, output
    assert "SUCCESS: 11 rules found" in output


def series(name, value, **labels):
    text = ", ".join(f'{key}="{label}"' for key, label in sorted(labels.items()))
    return {"series": f"{name}{{{text}}}", "values": value}


# Each alert: input series that break its threshold and series that do not, and the labels of the alerts expected
# at 10 minutes (the default `for` is 5m). Values are promtool's expanding notation: 'AxN' is A N+1 times,
# 'A+BxN' grows by B each minute.
DEVPI = {"job": "devpi"}
CADDY = {"job": "devpi-caddy"}
CASES = {
    "DevpiDown": (
        [series("up", "0x15", instance="down:3141", **DEVPI), series("up", "1x15", instance="up:3141", **DEVPI)],
        [{"instance": "down:3141", **DEVPI}],
    ),
    "DevpiCaddyDown": (
        [series("up", "0x15", instance="c1:9180", **CADDY), series("up", "1x15", instance="c2:9180", **CADDY)],
        [{"instance": "c1:9180", **CADDY}],
    ),
    "DevpiCaddyUpstreamUnhealthy": (
        [
            series(
                "caddy_reverse_proxy_upstreams_healthy", "0x15", instance="c1:9180", upstream="10.0.0.2:3141", **CADDY
            ),
            series(
                "caddy_reverse_proxy_upstreams_healthy", "1x15", instance="c1:9180", upstream="10.0.0.3:3141", **CADDY
            ),
        ],
        [{"instance": "c1:9180", "upstream": "10.0.0.2:3141", **CADDY}],
    ),
    "DevpiReplicaLagging": (
        [
            series("devpi_replica_lag_serials", "101x15", instance="r1:3141", **DEVPI),
            series("devpi_replica_lag_seconds", "0x15", instance="r1:3141", **DEVPI),
            series("devpi_replica_lag_serials", "100x15", instance="r2:3141", **DEVPI),  # at the threshold
            series("devpi_replica_lag_seconds", "600x15", instance="r2:3141", **DEVPI),
            series("devpi_replica_lag_serials", "0x15", instance="r3:3141", **DEVPI),
            series("devpi_replica_lag_seconds", "601x15", instance="r3:3141", **DEVPI),
        ],
        [{"instance": "r1:3141", **DEVPI}, {"instance": "r3:3141", **DEVPI}],
    ),
    "DevpiReplicationErrors": (
        [
            series("devpi_replication_errors", "2x15", instance="r1:3141", **DEVPI),
            series("devpi_replication_errors", "0x15", instance="r2:3141", **DEVPI),
        ],
        [{"instance": "r1:3141", **DEVPI}],
    ),
    "DevpiDiskFreeLow": (
        [
            series("devpi_serverdir_filesystem_free_bytes", "9x15", instance="full:3141", **DEVPI),
            series("devpi_serverdir_filesystem_size_bytes", "100x15", instance="full:3141", **DEVPI),
            series("devpi_serverdir_filesystem_free_bytes", "10x15", instance="ok:3141", **DEVPI),
            series("devpi_serverdir_filesystem_size_bytes", "100x15", instance="ok:3141", **DEVPI),
        ],
        [{"instance": "full:3141", **DEVPI}],
    ),
    "DevpiMemoryNearLimit": (
        [
            series("process_resident_memory_bytes", "950x15", instance="big:3141", **DEVPI),
            series("devpi_memory_max_bytes", "1000x15", instance="big:3141", **DEVPI),
            series("process_resident_memory_bytes", "900x15", instance="ok:3141", **DEVPI),
            series("devpi_memory_max_bytes", "1000x15", instance="ok:3141", **DEVPI),
            # Caddy's own process is not devpi's.
            series("process_resident_memory_bytes", "5000x15", instance="c1:9180", **CADDY),
        ],
        [{"instance": "big:3141", **DEVPI}],
    ),
    "DevpiBackupFailed": (
        [
            series("devpi_backup_last_run_success", "0x15", instance="d1:3141", **DEVPI),
            series("devpi_backup_last_run_success", "1x15", instance="d2:3141", **DEVPI),
        ],
        [{"instance": "d1:3141", **DEVPI}],
    ),
    "DevpiHighErrorRatio": (
        [
            series("devpi_http_requests_total", "0+10x15", instance="bad:3141", code="500", method="GET", **DEVPI),
            series("devpi_http_requests_total", "0+10x15", instance="bad:3141", code="200", method="GET", **DEVPI),
            series("devpi_http_requests_total", "0+1x15", instance="ok:3141", code="502", method="GET", **DEVPI),
            series("devpi_http_requests_total", "0+99x15", instance="ok:3141", code="200", method="GET", **DEVPI),
        ],
        [{"instance": "bad:3141"}],
    ),
    "DevpiCaddyHighErrorRatio": (
        [
            series("caddy_http_request_duration_seconds_count", "0+10x15", instance="c1:9180", code="502", **CADDY),
            series("caddy_http_request_duration_seconds_count", "0+10x15", instance="c1:9180", code="200", **CADDY),
            series("caddy_http_request_duration_seconds_count", "0+100x15", instance="c2:9180", code="200", **CADDY),
        ],
        [{"instance": "c1:9180"}],
    ),
}
SEVERITY = {"DevpiDown": "critical", "DevpiCaddyDown": "critical"}


def rules_without_annotations(text):
    rules = yaml.safe_load(text)
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    return yaml.safe_dump(rules)


def run_rule_tests(tmp_path, tests, **overrides):
    (tmp_path / "devpi.rules.yml").write_text(rules_without_annotations(render_rules(**overrides)))
    (tmp_path / "test.yml").write_text(
        yaml.safe_dump({"rule_files": ["devpi.rules.yml"], "evaluation_interval": "1m", "tests": tests})
    )
    return promtool("test", "rules", "test.yml", cwd=tmp_path)


def expected(alert, labels):
    return [{"exp_labels": {**item, "severity": SEVERITY.get(alert, "warning")}} for item in labels]


def test_every_alert_is_tested_here():
    assert sorted(alerts_of(render_rules())) == sorted([*CASES, "DevpiBackupTooOld"])


@pytest.mark.parametrize("alert", sorted(CASES))
def test_each_alert_fires_past_its_threshold_and_only_there(tmp_path, alert):
    inputs, firing = CASES[alert]
    tests = [
        {
            "interval": "1m",
            "input_series": inputs,
            "alert_rule_test": [
                # Not yet: the condition has held for less than `for`.
                {"eval_time": "3m", "alertname": alert, "exp_alerts": []},
                {"eval_time": "10m", "alertname": alert, "exp_alerts": expected(alert, firing)},
            ],
        }
    ]
    rc, output = run_rule_tests(tmp_path, tests)
    assert rc == 0, output


def test_a_backup_older_than_the_threshold_alerts(tmp_path):
    # At 27 h: one host's last success was at 0 s (27 h ago), the other's at 2 h (25 h ago); the threshold is 26 h.
    inputs = [
        series("devpi_backup_last_success_timestamp_seconds", "0x1700", instance="old:3141", **DEVPI),
        series("devpi_backup_last_success_timestamp_seconds", "7200x1700", instance="new:3141", **DEVPI),
    ]
    test = {
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [
            {
                "eval_time": "27h",
                "alertname": "DevpiBackupTooOld",
                "exp_alerts": expected("", [{"instance": "old:3141", **DEVPI}]),
            }
        ],
    }
    rc, output = run_rule_tests(tmp_path, [test])
    assert rc == 0, output


def test_thresholds_and_for_come_from_the_variables(tmp_path):
    inputs, _firing = CASES["DevpiDiskFreeLow"]
    # 20% free wanted: both hosts are under it; `for: 1m` fires at 2 minutes already.
    test = {
        "interval": "1m",
        "input_series": inputs,
        "alert_rule_test": [
            {
                "eval_time": "2m",
                "alertname": "DevpiDiskFreeLow",
                "exp_alerts": expected("", [{"instance": "full:3141", **DEVPI}, {"instance": "ok:3141", **DEVPI}]),
            }
        ],
    }
    rc, output = run_rule_tests(
        tmp_path, [test], devpi_monitoring_disk_free_min_ratio=0.2, devpi_monitoring_alert_for="1m"
    )
    assert rc == 0, output


# ---- preflight -------------------------------------------------------------------------------------------------------


def good_vars(base):
    return {
        "devpi_monitoring_devpi_targets": ["http://127.0.0.1:3141/+metrics"],
        "devpi_monitoring_dir": str(base / "dir"),
    }


@pytest.fixture(scope="module")
def run_role(tmp_path_factory):
    base = tmp_path_factory.mktemp("monitoring-preflight")
    return role_runner(base, "devpi_monitoring", good_vars(base))


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every case of BAD in one run of the role (role_batch: a host each)."""
    return batched(tmp_path_factory, "devpi_monitoring", good_vars, BAD)


BAD = [
    (
        {"devpi_monitoring_scrape_interval": "30 seconds"},
        'devpi_monitoring_scrape_interval="30 seconds" is not a Prometheus duration',
    ),
    ({"devpi_monitoring_alert_for": "5"}, 'devpi_monitoring_alert_for="5" is not a Prometheus duration'),
    (
        {"devpi_monitoring_disk_free_min_ratio": 10},
        "devpi_monitoring_disk_free_min_ratio=10 must be a fraction between 0 and 1",
    ),
    ({"devpi_monitoring_memory_max_ratio": 0}, "devpi_monitoring_memory_max_ratio=0 must be a fraction"),
    (
        {"devpi_monitoring_replica_max_lag_serials": 0},
        "devpi_monitoring_replica_max_lag_serials=0 must be a whole number",
    ),
    ({"devpi_monitoring_backup_max_age_hours": -1}, "devpi_monitoring_backup_max_age_hours=-1 must be a whole number"),
    ({"devpi_monitoring_devpi_targets": ["127.0.0.1:3141"]}, 'not such URLs: ["127.0.0.1:3141"]'),
    (
        {"devpi_monitoring_caddy_targets": ["http://127.0.0.1/metrics"]},
        "devpi_monitoring_caddy_targets must be a list of URLs",
    ),
    ({"devpi_monitoring_devpi_targets": []}, "devpi_monitoring_devpi_targets is empty"),
    ({"devpi_monitoring_listen": "0.0.0.0:9090"}, "devpi_monitoring_listen=0.0.0.0:9090 must be host:port on loopback"),
    ({"devpi_monitoring_listen": "9090"}, "devpi_monitoring_listen=9090 must be host:port"),
    ({"devpi_monitoring_dir": "prometheus"}, 'devpi_monitoring_dir ("prometheus") and devpi_monitoring_promtool'),
    ({"devpi_monitoring_prometheus": "docker"}, "devpi_monitoring_prometheus"),
]


@pytest.mark.xdist_group("devpi_monitoring-bad-input")
@pytest.mark.parametrize("case", range(len(BAD)), ids=[f"bad-{i}" for i in range(len(BAD))])
def test_bad_input_fails_in_preflight(bad_runs, case):
    assert_failed_in_preflight(*bad_runs[case], BAD[case][1], PREFLIGHT_TASKS)


def test_good_input_gets_past_preflight(run_role):
    """A public address asked for on purpose: every check passes (the run goes on to the install, which check mode
    on this machine cannot finish - no prometheus unit here - so only where it stops is asserted)."""
    _rc, output = run_role({"devpi_monitoring_listen": "0.0.0.0:9090", "devpi_monitoring_listen_public": True})
    tasks = tasks_until_failure(output)
    assert "Find Prometheus" in tasks, output
    assert not any(PREFLIGHT_TASKS.match(task) for task in tasks[tasks.index("Find Prometheus") :]), output


# ---- the Grafana dashboard -------------------------------------------------------------------------------------------

METRIC = re.compile(r"\b(?:devpi|caddy|process)_[a-z0-9_]+\b")


def dashboard_metric_names():
    dashboard = json.loads((ROLE / "files" / "grafana" / "devpi.json").read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]
    assert exprs, "the dashboard has no queries"
    return {name for expr in exprs for name in METRIC.findall(expr)}


def test_the_dashboard_loads_and_uses_only_documented_metrics():
    documented = (REPO / "docs" / "how-to" / "monitoring.md").read_text()
    names = dashboard_metric_names()
    assert {"devpi_serial", "devpi_http_requests_total", "caddy_http_request_duration_seconds_bucket"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in documented)
    assert missing == [], f"the dashboard queries metrics docs/how-to/monitoring.md does not list: {missing}"


# ---- existing: only the directory's files, for a Prometheus that is there already ----------------------------------


def test_existing_mode_writes_checked_rules_and_targets_only(tmp_path):
    """The role for real on localhost with devpi_monitoring_prometheus=existing: the directory gets the rules (passed
    through the real promtool by the template's validate) and the file_sd target files; nothing else is touched
    (no package, no service, no prometheus.yml). A second run changes nothing."""
    directory = tmp_path / "prometheus" / "hostnative-devpi"
    variables = {
        "devpi_monitoring_prometheus": "existing",
        "devpi_monitoring_dir": str(directory),
        "devpi_monitoring_promtool": PROMTOOL,
        "devpi_monitoring_devpi_targets": ["http://127.0.0.1:3141/+metrics", "https://pypi.example.org:443/+metrics"],
        "devpi_monitoring_caddy_targets": ["http://127.0.0.1:9180/metrics"],
    }
    vars_file = tmp_path / "vars.yml"
    vars_file.write_text(yaml.safe_dump(variables))
    playbook = role_playbook(tmp_path, "devpi_monitoring")
    rc, output = ansible_playbook(playbook, vars_file)
    assert rc == 0, output
    assert sorted(p.name for p in directory.iterdir()) == [
        "caddy.targets.json",
        "devpi.rules.yml",
        "devpi.targets.json",
    ]
    assert sorted(p.name for p in (tmp_path / "prometheus").iterdir()) == ["hostnative-devpi"]
    assert json.loads((directory / "devpi.targets.json").read_text()) == [
        {"targets": ["127.0.0.1:3141"], "labels": {"__scheme__": "http", "__metrics_path__": "/+metrics"}},
        {"targets": ["pypi.example.org:443"], "labels": {"__scheme__": "https", "__metrics_path__": "/+metrics"}},
    ]
    assert json.loads((directory / "caddy.targets.json").read_text()) == [
        {"targets": ["127.0.0.1:9180"], "labels": {"__scheme__": "http", "__metrics_path__": "/metrics"}}
    ]
    assert alerts_of((directory / "devpi.rules.yml").read_text()) == alerts_of(render_rules())
    rc, output = ansible_playbook(playbook, vars_file)
    assert rc == 0, output
    assert re.search(r"localhost\s*:\s*ok=\d+\s+changed=0", output), output
