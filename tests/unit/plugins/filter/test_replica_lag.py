"""The replica_lag filter: serial and time lag from two /+status results (shapes as devpi-server 6.20 answers)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.replica_lag import FilterModule, replica_lag, replica_sync_age

PRIMARY = {"serial": 12, "uuid": "4f26", "role": "MASTER"}


def replica(serial, in_sync_at=1000.0, errors=None, primary_uuid="4f26"):
    return {
        "serial": serial,
        "uuid": "1637",
        "role": "REPLICA",
        "primary-uuid": primary_uuid,
        "replica-in-sync-at": in_sync_at,
        "replication-errors": errors or {},
    }


def test_a_replica_in_sync_has_no_lag_however_long_it_was_idle():
    assert replica_lag(replica(12, in_sync_at=1000.0), PRIMARY, 99999.0) == {
        "serials": 0,
        "seconds": 0.0,
        "errors": 0,
        "error_messages": [],
        "primary_uuid_matches": True,
    }


def test_a_replica_behind_counts_serials_and_seconds_since_it_was_in_sync():
    lag = replica_lag(replica(9, in_sync_at=1000.0), PRIMARY, 1042.5)
    assert (lag["serials"], lag["seconds"]) == (3, 42.5)


def test_the_http_date_of_the_replicas_answer_is_its_clock():
    # Thu, 03 Dec 2026 12:00:00 GMT = 1796299200
    lag = replica_lag(replica(11, in_sync_at=1796299190.0), PRIMARY, "Thu, 03 Dec 2026 12:00:00 GMT")
    assert lag["seconds"] == 10.0


def test_a_clock_behind_the_stamp_is_not_negative_lag():
    assert replica_lag(replica(11, in_sync_at=1100.0), PRIMARY, 1000)["seconds"] == 0.0


def test_a_replica_never_in_sync_has_unknown_seconds_and_the_whole_serial_lag():
    lag = replica_lag(replica(-1, in_sync_at=None), PRIMARY, 1000)
    assert (lag["serials"], lag["seconds"]) == (13, None)


def test_a_replica_ahead_of_the_status_it_is_compared_with_has_no_lag():
    assert replica_lag(replica(14), PRIMARY, 1000)["serials"] == 0


def test_errors_are_counted_and_the_first_five_kept_in_order():
    errors = {f"/root/pypi/+f/{i}": f"error {i}" for i in range(7)}
    lag = replica_lag(replica(12, errors=errors), PRIMARY, 1000)
    assert lag["errors"] == 7
    assert lag["error_messages"] == ["error 0", "error 1", "error 2", "error 3", "error 4"]


def test_a_replica_of_another_primary_is_noticed():
    assert replica_lag(replica(12, primary_uuid="9999"), PRIMARY, 1000)["primary_uuid_matches"] is False
    assert replica_lag(replica(12, primary_uuid=None), PRIMARY, 1000)["primary_uuid_matches"] is False


@pytest.mark.parametrize(
    ("replica_status", "primary_status", "now", "message"),
    [
        ({"serial": "12"}, PRIMARY, 1000, "the replica's status must be devpi's /+status result"),
        (replica(1), None, 1000, "the primary's status must be devpi's /+status result"),
        (replica(1), PRIMARY, "yesterday", "now must be an HTTP date or a number, got 'yesterday'"),
        (replica(1), PRIMARY, True, "now must be an HTTP date or a number"),
        (replica(1), PRIMARY, None, "now must be an HTTP date or a number"),
    ],
)
def test_bad_input_is_named(replica_status, primary_status, now, message):
    with pytest.raises(AnsibleFilterError, match=message.replace("(", r"\(").replace(")", r"\)").replace("+", r"\+")):
        replica_lag(replica_status, primary_status, now)


def test_the_filter_is_registered():
    assert FilterModule().filters() == {"replica_lag": replica_lag, "replica_sync_age": replica_sync_age}


def test_sync_age_is_the_last_contact_while_the_replica_had_reached_the_primary():
    status = {**replica(12, in_sync_at=900.0), "primary-serial": 12, "primary-contacted-at": 1000.0}
    assert replica_sync_age(status, 1030.0) == 30.0


def test_sync_age_of_a_replica_that_knew_it_was_behind_is_since_it_was_last_in_sync():
    status = {**replica(10, in_sync_at=900.0), "primary-serial": 12, "primary-contacted-at": 1000.0}
    assert replica_sync_age(status, 1030.0) == 130.0


def test_sync_age_of_a_replica_never_in_sync_is_unknown():
    status = {**replica(-1, in_sync_at=None), "primary-serial": None, "primary-contacted-at": None}
    assert replica_sync_age(status, 1030.0) is None


def test_sync_age_takes_the_http_date_and_refuses_garbage():
    status = {**replica(12), "primary-serial": 12, "primary-contacted-at": 1796299190.0}
    assert replica_sync_age(status, "Thu, 03 Dec 2026 12:00:00 GMT") == 10.0
    with pytest.raises(AnsibleFilterError, match="replica_sync_age: expects a replica's /"):
        replica_sync_age({"serial": None}, 1000)
    with pytest.raises(AnsibleFilterError, match="replica_sync_age: now must be an HTTP date"):
        replica_sync_age(status, [])
