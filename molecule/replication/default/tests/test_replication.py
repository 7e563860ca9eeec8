"""Replication after a failover, with real devpi-servers and real clients: what is uploaded to the new primary is
served by its replica from the replica's own devpi and disk; the replica follows the new primary's uuid and serial;
the old primary stays down; the front sends writes to the new primary. Waits are bounded (count and time); all
traffic stays on the scenario's containers."""

from __future__ import annotations

import json
import time

import pytest
from conftest import DEV, FRONT, OLD_PRIMARY, PRIMARY, REPLICA, UPLOADER, UV, build_project, clients_on, get, upload
from devpi_testinfra import URL, pip_install

testinfra_hosts = [f"podman://{PRIMARY}"]

WAIT_SECONDS = 60


def status(node):
    return json.loads(node.check_output(f"curl -sf -H 'Accept: application/json' {URL}/+status"))["result"]


def wait_until(check, what):
    """Polls `check` once a second, at most WAIT_SECONDS times; fails saying `what` did not happen."""
    deadline = time.monotonic() + WAIT_SECONDS
    for _attempt in range(WAIT_SECONDS):
        if check():
            return
        if time.monotonic() > deadline:
            break
        time.sleep(1)
    pytest.fail(f"{what} within {WAIT_SECONDS} s")


def listed(node, project, filename, base=DEV):
    page = node.run(f"curl -sf {base}+simple/{project}/")
    return page.rc == 0 and filename in page.stdout


def test_an_upload_to_the_new_primary_installs_from_its_replica_byte_for_byte(uploaded):
    name, sha, wheel = uploaded
    replica = get(REPLICA)
    wait_until(lambda: listed(replica, name, wheel), f"{REPLICA} did not list {wheel}")
    out, imported = pip_install(replica, "", UV, f"{DEV}+simple/", name)
    assert imported == 0, out
    assert f"Successfully installed {name}" in out
    venv = f"/tmp/uv-{name}"
    replica.check_output(f"{UV} venv -q --python /usr/bin/python3 {venv}")
    replica.check_output(f"{UV} pip install --no-cache --python {venv}/bin/python --index-url {DEV}+simple/ {name}")
    assert replica.run(f"{venv}/bin/python -c 'import {name}'").rc == 0
    stored = replica.check_output(f"find /var/lib/devpi/server/+files -name {wheel}")
    assert stored, f"{wheel} is not on {REPLICA}'s disk"
    assert replica.check_output(f"sha256sum {stored}").split()[0] == sha


def test_the_replica_follows_the_new_primarys_uuid_and_serial(host, uploaded):
    assert uploaded
    replica = get(REPLICA)
    primary_status = status(host)
    assert primary_status["role"] in ("PRIMARY", "MASTER")

    wait_until(
        lambda: status(replica)["serial"] >= primary_status["serial"],
        f"{REPLICA} did not reach the primary's serial {primary_status['serial']}",
    )
    replica_status = status(replica)
    assert replica_status["role"] == "REPLICA"
    assert replica_status["primary-uuid"] == primary_status["uuid"]
    assert replica_status["replication-errors"] == {}
    assert any(polling["serial"] >= 0 for polling in status(host)["polling_replicas"].values())


def test_everything_uploaded_before_and_after_the_failover_is_on_the_replica():
    replica = get(REPLICA)
    for project in ("failover-a", "failover-c"):
        wheel = project.replace("-", "_") + "-1.0-"
        assert listed(replica, project, wheel), project
        # started over from a running primary, the replica fetched the release files too, not only the metadata
        wait_until(
            lambda wheel=wheel: (
                replica.run(f"find /var/lib/devpi/server/+files -name '{wheel}*.whl' | grep -q .").rc == 0
            ),
            f"{wheel} did not reach {REPLICA}'s disk",
        )
    # failover-b was refused while the primary was down: nothing half-stored anywhere
    assert not listed(get(PRIMARY), "failover-b", "failover_b")
    # the replica's directory from before the failover is kept beside the new one
    assert replica.check_output("ls -d /var/lib/devpi/server.replica-of-* | wc -l").strip() == "1"


def test_the_replica_has_the_primarys_memory_safe_mirror_settings():
    """root/pypi is replicated as the primary has it: no fetch of PyPI's whole project list on the replica."""
    replica = get(REPLICA)
    mirror = json.loads(replica.check_output(f"curl -sf -H 'Accept: application/json' {URL}/root/pypi"))["result"]
    assert mirror["type"] == "mirror"
    assert mirror["mirror_no_project_list"] is True
    pid = replica.check_output("systemctl show -p MainPID --value devpi-server")
    rss_kb = int(replica.check_output(f"grep VmRSS /proc/{pid}/status").split()[1])
    assert rss_kb < 400 * 1024, f"a replica's devpi uses {rss_kb // 1024} MB"


def test_an_upload_sent_to_the_replica_reaches_the_primary(host):
    replica = get(REPLICA)
    clients = clients_on(replica)
    name, dist = build_project(replica, "relayed", UV, f"{DEV}+simple/")
    upload(replica, clients, dist)
    wheel = replica.check_output(f"ls {dist}/*.whl").rsplit("/", 1)[-1]
    assert listed(host, name, wheel), "the primary does not list what the replica relayed"


def test_the_front_sends_writes_to_the_new_primary_and_reads_to_both():
    front = get(OLD_PRIMARY)
    user, password = UPLOADER
    name, dist = build_project(front, "fronted", UV, f"{FRONT}/root/pypi/+simple/")
    done = front.run(
        f"TWINE_USERNAME={user} TWINE_PASSWORD={password} /opt/failover-clients/bin/twine upload --non-interactive "
        f"--repository-url {FRONT}/uploader/dev/ {dist}/*"
    )
    assert done.rc == 0, done.stdout + done.stderr
    wheel = front.check_output(f"ls {dist}/*.whl").rsplit("/", 1)[-1]
    assert listed(get(PRIMARY), name, wheel)
    wait_until(lambda: listed(front, name, wheel, base=f"{FRONT}/uploader/dev/"), "the front did not list it")
    snippet = front.file("/etc/caddy/sites/devpi.caddy").content_string
    primary_ip = get(PRIMARY).check_output("hostname -I").split()[0]
    assert f"handle @devpi_writes {{\n\t\treverse_proxy {primary_ip}:3141 {{" in snippet
    assert "127.0.0.1:3141" not in snippet  # the old primary left the read pool


def test_the_old_primary_stays_down_even_when_started_by_hand():
    old = get(OLD_PRIMARY)
    marker = old.file("/var/lib/devpi/server/.hostnative-devpi-fenced")
    assert marker.exists
    assert PRIMARY in marker.content_string
    assert not old.service("devpi-server").is_enabled
    old.run("systemctl start devpi-server.service")
    assert old.run("systemctl is-active devpi-server.service").stdout.strip() != "active"
    assert old.run(f"curl -sf {URL}/+api").rc != 0


def test_the_replica_shares_the_primarys_secret_without_configuring_it(host):
    primary_sum = host.check_output("sha256sum /var/lib/devpi/secret").split()[0]
    replica = get(REPLICA)
    secret = replica.file("/var/lib/devpi/secret")
    assert (secret.user, secret.mode) == ("devpi", 0o600)
    assert replica.check_output("sha256sum /var/lib/devpi/secret").split()[0] == primary_sum
    config = replica.file("/etc/devpi/devpi-server.yml").content_string
    primary_ip = host.check_output("hostname -I").split()[0]
    assert 'role: "replica"' in config
    assert f'primary-url: "http://{primary_ip}:3141"' in config
    assert 'role: "primary"' in host.file("/etc/devpi/devpi-server.yml").content_string
