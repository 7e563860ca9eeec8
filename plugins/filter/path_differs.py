# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The path_differs and keys_differ filters; documentation in the .yml files of those names beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# Keys of a desired record that say how to write the path, not what the probe reports about it.
_NOT_COMPARED = ("path",)


def keys_differ(desired, actual):
    """Whether `actual` differs from `desired` in any key `desired` names (a missing key differs)."""
    if not isinstance(desired, dict):
        raise AnsibleFilterError(f"keys_differ: the desired state must be a mapping, got {desired!r}")
    if actual is None:
        return True
    if not isinstance(actual, dict):
        raise AnsibleFilterError(f"keys_differ: the actual state must be a mapping, got {actual!r}")
    return any(key not in actual or actual[key] != value for key, value in desired.items())


def path_differs(desired, paths):
    """Whether the host's path differs from the desired record in any attribute the record names (or is missing)."""
    if not isinstance(desired, dict) or not isinstance(desired.get("path"), str):
        raise AnsibleFilterError(f"path_differs: the desired state must be a mapping with a path, got {desired!r}")
    if not isinstance(paths, dict):
        raise AnsibleFilterError("path_differs: expects the paths devpi_server_info reported (a mapping by path)")
    actual = paths.get(desired["path"]) or {}
    if not actual.get("exists"):
        return True
    return keys_differ({key: value for key, value in desired.items() if key not in _NOT_COMPARED}, actual)


class FilterModule:
    def filters(self):
        return {"path_differs": path_differs, "keys_differ": keys_differ}
