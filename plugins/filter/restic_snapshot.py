# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The restic_snapshot filter; documentation in restic_snapshot.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def restic_snapshot(snapshots, selector="latest"):
    """The snapshot `selector` names among `restic snapshots --json` output: "latest" (the newest by time), or a
    snapshot id or a unique prefix of one (the 8-character short id included)."""
    if not isinstance(snapshots, list) or not all(isinstance(s, dict) and s.get("id") for s in snapshots):
        raise AnsibleFilterError(
            f"restic_snapshot: expects the list `restic snapshots --json` prints, got {snapshots!r}"
        )
    if not isinstance(selector, str) or not selector.strip():
        raise AnsibleFilterError(f"restic_snapshot: the snapshot must be 'latest' or an id, got {selector!r}")
    selector = selector.strip()
    if not snapshots:
        raise AnsibleFilterError(f"no snapshot to restore ({selector}): the repository holds no backup of this server")
    if selector == "latest":
        return max(snapshots, key=lambda snapshot: str(snapshot.get("time", "")))
    matches = [snapshot for snapshot in snapshots if str(snapshot["id"]).startswith(selector.lower())]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(f"{s.get('short_id', s['id'][:8])} ({str(s.get('time', ''))[:19]})" for s in snapshots)
    what = "is ambiguous" if matches else "does not exist"
    raise AnsibleFilterError(f"snapshot {selector!r} {what}; the repository holds: {known}")


class FilterModule:
    def filters(self):
        return {"restic_snapshot": restic_snapshot}
