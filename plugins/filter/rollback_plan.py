# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rollback_plan filter; documentation in rollback_plan.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError


def _backup_of(result):
    # template/copy/blockinfile say backup_file, lineinfile says backup ('' when it made none).
    return result.get("backup_file") or result.get("backup") or ""


def rollback_plan(writes):
    """What puts files back as they were before this run, from the registered results of the tasks that wrote them.

    `writes` lists {path, result} in the order the tasks ran. Per path, the first change that ran holds the state
    before the run: its backup is restored, or the file is removed when there was none (the run created it).
    """
    if not isinstance(writes, list):
        raise AnsibleFilterError("rollback_plan: expects a list of {path, result} mappings")
    restore, backups, seen = [], [], set()
    for write in writes:
        try:
            path, result = write["path"], write.get("result") or {}
        except (TypeError, KeyError, AttributeError):
            raise AnsibleFilterError(f"rollback_plan: not a {{path, result}} mapping: {write!r}") from None
        if not result.get("changed"):
            continue
        backup = _backup_of(result)
        if backup:
            backups.append(backup)
        if path not in seen:
            seen.add(path)
            restore.append({"path": path, "backup": backup})
    return {"restore": restore, "backups": backups}


class FilterModule:
    def filters(self):
        return {"rollback_plan": rollback_plan}
