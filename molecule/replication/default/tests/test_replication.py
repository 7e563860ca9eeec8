"""Replication with real devpi-servers and real clients: what is uploaded to the primary is served by each replica
from its own devpi and disk, and what is sent to a replica reaches the primary. Waits are bounded (count and time);
all traffic stays on the scenario's containers."""

from __future__ import annotations

import json
import time

import pytest
from conftest import DEV, REPLICAS, UV, build_project, clients_on, get, upload
from devpi_testinfra import URL, pip_install

testinfra_hosts = ["podman://devpi-primary"]

WAIT_SECONDS = 60


def status(node):
    out = node.check_output(f"curl -sf -H 'Accept: application/json' {URL}/+status")
    return json.loads(out)["result"]


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


def listed(node, project, filename):
    page = node.run(f"curl -sf {DEV}+simple/{project}/")
    return page.rc == 0 and filename in page.stdout


@pytest.mark.parametrize("replica_name", REPLICAS)
def test_an_upload_to_the_primary_installs_from_each_replica_byte_for_byte(uploaded, replica_name):
    name, sha, wheel = uploaded
    replica = get(replica_name)
    wait_until(lambda: listed(replica, name, wheel), f"{replica_name} did not list {wheel}")
    out, imported = pip_install(replica, "", UV, f"{DEV}+simple/", name)
    assert imported == 0, out
    assert f"Successfully installed {name}" in out
    venv = f"/tmp/uv-{name}"
    replica.check_output(f"{UV} venv -q --python /usr/bin/python3 {venv}")
    replica.check_output(f"{UV} pip install --no-cache --python {venv}/bin/python --index-url {DEV}+simple/ {name}")
    assert replica.run(f"{venv}/bin/python -c 'import {name}'").rc == 0
    stored = replica.check_output(f"find /var/lib/devpi/server/+files -name {wheel}")
    assert stored, f"{wheel} is not on {replica_name}'s disk"
    assert replica.check_output(f"sha256sum {stored}").split()[0] == sha


@pytest.mark.parametrize("replica_name", REPLICAS)
def test_each_replica_follows_the_primarys_uuid_and_serial(host, uploaded, replica_name):
    assert uploaded
    replica = get(replica_name)
    primary_status = status(host)
    assert primary_status["role"] in ("PRIMARY", "MASTER")

    def caught_up():
        now = status(replica)
        return now["serial"] >= primary_status["serial"]

    wait_until(caught_up, f"{replica_name} did not reach the primary's serial {primary_status['serial']}")
    replica_status = status(replica)
    assert replica_status["role"] == "REPLICA"
    assert replica_status["primary-uuid"] == primary_status["uuid"]
    assert replica_status["uuid"] != primary_status["uuid"]
    assert replica_status["replication-errors"] == {}
    assert any(polling["serial"] >= 0 for polling in status(host)["polling_replicas"].values())


def test_an_upload_sent_to_a_replica_reaches_the_primary(host):
    replica = get(REPLICAS[1])
    clients = clients_on(replica)
    name, dist = build_project(replica, "relayed", UV, f"{DEV}+simple/")
    upload(replica, clients, dist)
    wheel = replica.check_output(f"ls {dist}/*.whl").rsplit("/", 1)[-1]
    assert listed(host, name, wheel), "the primary does not list what the replica relayed"
    wait_until(lambda: listed(get(REPLICAS[0]), name, wheel), "the other replica did not get the relayed upload")


def test_the_replicas_share_the_primarys_secret_without_configuring_it(host):
    primary_sum = host.check_output("sha256sum /var/lib/devpi/secret").split()[0]
    for name in REPLICAS:
        replica = get(name)
        secret = replica.file("/var/lib/devpi/secret")
        assert (secret.user, secret.mode) == ("devpi", 0o600)
        assert replica.check_output("sha256sum /var/lib/devpi/secret").split()[0] == primary_sum
        config = replica.file("/etc/devpi/devpi-server.yml").content_string
        assert 'role: "replica"' in config
        assert 'primary-url: "http://' in config
        assert "secretfile" in config
