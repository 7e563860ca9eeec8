# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health_summary filter; documentation in health_summary.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

_UNITS = ("B", "KiB", "MiB", "GiB", "TiB")
_STEP = 1024


def _size(value):
    if value is None:
        return "unknown"
    size = float(value)
    for unit in _UNITS:
        if size < _STEP or unit == _UNITS[-1]:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= _STEP
    return None  # not reached


def _server_lines(server):
    versions = ", ".join(f"{name} {version}" for name, version in sorted((server.get("versions") or {}).items()))
    role = f"role {server.get('role')}, serial {server.get('serial')}"
    if server.get("lag_serials") is not None:
        seconds = server.get("lag_seconds")
        since = "never" if seconds is None else f"{float(seconds):.1f} s ago"
        role += f", {server['lag_serials']} serials behind the primary, in sync {since}"
    ratio = server.get("disk_free_ratio")
    disk = f"disk: {_size(server.get('disk_free_bytes'))} free of {_size(server.get('disk_size_bytes'))}"
    disk += f" ({float(ratio) * 100:.1f}%)" if ratio is not None else ""
    return [
        f"service: {server.get('service')} active and enabled",
        f"versions: {versions or 'unknown'}",
        role,
        disk,
        f"memory: {_size(server.get('rss_bytes'))} resident",
    ]


def _backup_line(backup):
    status = backup.get("status")
    if status == "none":
        return "backup: none yet"
    age = backup.get("age_hours")
    last = "never" if age is None else f"{float(age):.1f} h ago"
    if status == "ok":
        return f"backup: ok, last success {last}, snapshot {str(backup.get('snapshot_id') or '?')[:8]}, " + (
            f"{_size(backup.get('total_bytes'))} read"
        )
    return f"backup: FAILED ({backup.get('error') or 'no reason recorded'}), last success {last}"


def health_summary(server, backup=None):
    """Lines of one readable block: devpi_server_health (verify entry point), and devpi_backup_status when given."""
    if not isinstance(server, dict) or "serial" not in server:
        raise AnsibleFilterError(f"health_summary: expects devpi_server_health (with a serial), got {server!r}")
    if backup is not None and (not isinstance(backup, dict) or "status" not in backup):
        raise AnsibleFilterError(f"health_summary: the backup must be devpi_backup_status, got {backup!r}")
    return _server_lines(server) + ([_backup_line(backup)] if backup is not None else [])


class FilterModule:
    def filters(self):
        return {"health_summary": health_summary}
