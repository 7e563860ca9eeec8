"""playbooks/promote.yml refuses, in its first play and before any change, a host that is not a replica, a bad
primary URL, and a replica that was not in sync with a primary recently - the last against a real devpi-server on a
loopback port (a standalone server: it never synced from any primary). The whole failover runs in
molecule/replication/default."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import playbook_on_localhost, tasks_until_failure

FIRST_PLAY = {
    "Gathering Facts",
    "Check the host to promote and its URL",
    "Ask the replica how long ago it was in sync",
    "Check the replica runs as a replica and was in sync recently",
}


@pytest.fixture
def promote(tmp_path):
    def run(host_vars, **extra):
        rc, output = playbook_on_localhost(tmp_path, "hostnative.devpi.promote", host_vars, extra)
        assert rc != 0, output
        tasks = tasks_until_failure(output)
        assert set(tasks) <= FIRST_PLAY, tasks  # nothing beyond the checks ran
        return " ".join(output.split())

    return run


def test_a_host_that_is_not_a_replica_is_refused(promote):
    said = promote(
        {"devpi_server_role": "primary"},
        devpi_promote_host="localhost",
        devpi_promote_primary_url="http://127.0.0.1:3141",
    )
    assert (
        "devpi_promote_host=localhost must be a host of the devpi_servers group with devpi_server_role=replica" in said
    )


def test_a_missing_host_or_a_bad_url_is_refused(promote):
    assert "devpi_promote_host= must be a host" in promote({"devpi_server_role": "replica"})
    said = promote(
        {"devpi_server_role": "replica"}, devpi_promote_host="localhost", devpi_promote_primary_url="primary:3141"
    )
    assert "devpi_promote_primary_url='primary:3141' the http(s)://host:port" in said


def test_a_server_not_running_as_a_replica_is_refused_unless_forced(promote, devpi_url):
    """The inventory says replica, but the server there is a standalone one (devpi reports it as MASTER)."""
    port = urlsplit(devpi_url).port
    said = promote(
        {"devpi_server_role": "replica", "devpi_server_listen_port": port},
        devpi_promote_host="localhost",
        devpi_promote_primary_url="http://127.0.0.1:3141",
    )
    assert "localhost runs as MASTER, not as a replica. Promote another replica" in said
    assert "set devpi_promote_force=true to go on anyway. Nothing was changed." in said
