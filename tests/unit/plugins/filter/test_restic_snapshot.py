"""The restic_snapshot filter: picking the snapshot a restore asked for from `restic snapshots --json` (shapes as
restic 0.14 prints them)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.restic_snapshot import FilterModule, restic_snapshot


def snap(id_, time):
    return {"id": id_, "short_id": id_[:8], "time": time, "paths": ["/var/lib/devpi/backup/staging"], "tags": []}


OLD = snap("a1b2c3d4" + "0" * 56, "2026-12-01T03:17:05.123+00:00")
NEW = snap("a1b2ffff" + "1" * 56, "2026-12-03T03:17:04.999+00:00")
MID = snap("c0ffee00" + "2" * 56, "2026-12-02T03:17:06.000+00:00")


def test_latest_is_the_newest_by_time_not_by_position():
    assert restic_snapshot([OLD, NEW, MID], "latest") is NEW
    assert restic_snapshot([NEW, OLD, MID]) is NEW


@pytest.mark.parametrize("selector", ["c0ffee00", "C0FFEE", MID["id"], " c0ffee00 "])
def test_an_id_or_a_unique_prefix_picks_that_snapshot(selector):
    assert restic_snapshot([OLD, NEW, MID], selector) is MID


def test_an_unknown_id_fails_listing_what_there_is():
    with pytest.raises(AnsibleFilterError) as error:
        restic_snapshot([OLD, NEW], "deadbeef")
    message = str(error.value)
    assert "snapshot 'deadbeef' does not exist" in message
    assert "a1b2c3d4 (2026-12-01T03:17:05)" in message
    assert "a1b2ffff (2026-12-03T03:17:04)" in message


def test_an_ambiguous_prefix_fails():
    with pytest.raises(AnsibleFilterError, match="'a1b2' is ambiguous"):
        restic_snapshot([OLD, NEW], "a1b2")


def test_an_empty_repository_says_so():
    with pytest.raises(AnsibleFilterError, match="holds no backup of this server"):
        restic_snapshot([], "latest")


@pytest.mark.parametrize("bad", [None, {"id": "x"}, [{"time": "t"}], "[]"])
def test_input_that_is_not_restics_list_is_refused(bad):
    with pytest.raises(AnsibleFilterError, match="expects the list"):
        restic_snapshot(bad)


@pytest.mark.parametrize("selector", ["", "  ", None, 7])
def test_an_empty_selector_is_refused(selector):
    with pytest.raises(AnsibleFilterError, match="'latest' or an id"):
        restic_snapshot([OLD], selector)


def test_the_filter_is_registered():
    assert FilterModule().filters()["restic_snapshot"] is restic_snapshot
