# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The replica_lag and replica_sync_age filters; documentation in the .yml files of those names beside this file."""

from __future__ import annotations

from email.utils import parsedate_to_datetime

from ansible.errors import AnsibleFilterError


def _status(value, what):
    if not isinstance(value, dict) or not isinstance(value.get("serial"), int):
        raise AnsibleFilterError(
            f"replica_lag: the {what} must be devpi's /+status result (with a serial), got {value!r}"
        )
    return value


def _now(now, name):
    if isinstance(now, str):
        try:
            return parsedate_to_datetime(now).timestamp()
        except (TypeError, ValueError) as exc:
            raise AnsibleFilterError(f"{name}: now must be an HTTP date or a number, got {now!r}") from exc
    if not isinstance(now, (int, float)) or isinstance(now, bool):
        raise AnsibleFilterError(f"{name}: now must be an HTTP date or a number, got {now!r}")
    return now


def replica_lag(replica, primary, now):
    """How far a replica is behind its primary, from both /+status results and the replica's clock (`now`, the
    HTTP Date header of the replica's answer, or seconds since the epoch)."""
    replica = _status(replica, "replica's status")
    primary = _status(primary, "primary's status")
    now = _now(now, "replica_lag")
    serials = max(primary["serial"] - replica["serial"], 0)
    in_sync_at = replica.get("replica-in-sync-at")
    if serials == 0 and in_sync_at is not None:
        seconds = 0.0  # in sync now: devpi stamps the moment it caught up, not every idle second since
    elif in_sync_at is not None:
        seconds = round(max(now - in_sync_at, 0.0), 3)
    else:
        seconds = None  # never in sync yet
    errors = replica.get("replication-errors") or {}
    return {
        "serials": serials,
        "seconds": seconds,
        "errors": len(errors),
        "error_messages": sorted(str(message) for message in errors.values())[:5],
        "primary_uuid_matches": replica.get("primary-uuid") == primary.get("uuid"),
    }


def replica_sync_age(replica, now):
    """Seconds since the replica last knew it had everything its primary had (None: never), from its /+status
    alone - what can still be known when the primary is down."""
    if not isinstance(replica, dict) or not isinstance(replica.get("serial"), int):
        raise AnsibleFilterError(f"replica_sync_age: expects a replica's /+status result, got {replica!r}")
    now = _now(now, "replica_sync_age")
    known_primary_serial = replica.get("primary-serial")
    contacted_at = replica.get("primary-contacted-at")
    if isinstance(known_primary_serial, int) and replica["serial"] >= known_primary_serial and contacted_at:
        synced_at = contacted_at  # in sync at its last contact with the primary
    else:
        synced_at = replica.get("replica-in-sync-at")
    return None if synced_at is None else round(max(now - synced_at, 0.0), 3)


class FilterModule:
    def filters(self):
        return {"replica_lag": replica_lag, "replica_sync_age": replica_sync_age}
