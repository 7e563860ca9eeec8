"""The health_summary filter, in process: the lines verify.yml prints for a standalone server, a replica, and each
state of the last backup; bad input is refused."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.health_summary import health_summary

SERVER = {
    "service": "devpi-server.service",
    "versions": {"devpi-web": "5.1.1", "devpi-server": "6.20.3"},
    "role": "standalone",
    "serial": 42,
    "lag_serials": None,
    "lag_seconds": None,
    "disk_free_bytes": 3 * 2**30,
    "disk_size_bytes": 12 * 2**30,
    "disk_free_ratio": 0.25,
    "rss_bytes": 150 * 2**20,
}


def test_a_standalone_server_without_backups():
    assert health_summary(SERVER) == [
        "service: devpi-server.service active and enabled",
        "versions: devpi-server 6.20.3, devpi-web 5.1.1",
        "role standalone, serial 42",
        "disk: 3.0 GiB free of 12.0 GiB (25.0%)",
        "memory: 150.0 MiB resident",
    ]


def test_a_replica_behind_and_one_never_in_sync():
    replica = {**SERVER, "role": "replica", "lag_serials": 3, "lag_seconds": 12.34}
    assert health_summary(replica)[2] == "role replica, serial 42, 3 serials behind the primary, in sync 12.3 s ago"
    never = {**replica, "lag_seconds": None}
    assert health_summary(never)[2].endswith("in sync never")


@pytest.mark.parametrize(
    ("backup", "line"),
    [
        ({"status": "none", "age_hours": None}, "backup: none yet"),
        (
            {"status": "ok", "age_hours": 5.04, "snapshot_id": "0123456789abcdef", "total_bytes": 2048},
            "backup: ok, last success 5.0 h ago, snapshot 01234567, 2.0 KiB read",
        ),
        (
            {"status": "failed", "age_hours": 30.0, "error": "restic backup exited 1: Fatal: no space"},
            "backup: FAILED (restic backup exited 1: Fatal: no space), last success 30.0 h ago",
        ),
        ({"status": "failed", "age_hours": None}, "backup: FAILED (no reason recorded), last success never"),
    ],
)
def test_each_state_of_the_last_backup(backup, line):
    assert health_summary(SERVER, backup)[-1] == line


def test_unknown_memory_and_disk_say_so():
    lines = health_summary(
        {**SERVER, "rss_bytes": None, "disk_free_bytes": None, "disk_size_bytes": None, "disk_free_ratio": None}
    )
    assert lines[3:] == ["disk: unknown free of unknown", "memory: unknown resident"]


@pytest.mark.parametrize(("server", "backup"), [({}, None), ("x", None), (SERVER, {"age_hours": 1})])
def test_bad_input_is_refused(server, backup):
    with pytest.raises(AnsibleFilterError, match="health_summary"):
        health_summary(server, backup)
