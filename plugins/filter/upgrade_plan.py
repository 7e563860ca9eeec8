# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The upgrade_plan filter; documentation in upgrade_plan.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

try:  # a requirement of ansible-core itself; guarded as the sanity tests ask of every third-party import
    from packaging.version import InvalidVersion, Version
except ImportError as exc:
    PACKAGING_ERROR = exc
else:
    PACKAGING_ERROR = None

METHODS = ("auto", "in_place", "export")


def _version(value, what):
    if PACKAGING_ERROR is not None:
        raise AnsibleFilterError(f"upgrade_plan needs the Python package packaging: {PACKAGING_ERROR}")
    try:
        return Version(str(value).strip())
    except InvalidVersion:
        raise AnsibleFilterError(f"upgrade_plan: {what} {value!r} is not a version") from None


def _major(database_version):
    """devpi compares only the major of .serverversion with its DATABASE_VERSION ("4" and "4.1" are compatible)."""
    text = str(database_version).strip()
    return text.split(".", 1)[0] if text else ""


def upgrade_plan(installed, target, formats=None, method="auto", allow_downgrade=False):
    """How to go from the installed devpi-server to the target one, keeping the data.

    `formats` is [the server directory's .serverversion, the target's DATABASE_VERSION]; either None while not
    known (the target not installed anywhere yet): the plan then leaves the format open."""
    data_format, target_format = [*(formats or []), None, None][:2]
    if method not in METHODS:
        raise AnsibleFilterError(f"upgrade_plan: method {method!r} is not one of {', '.join(METHODS)}")
    if installed in (None, ""):
        return {"method": "none", "format_change": False, "downgrade": False, "refused": "", "reason": "not installed"}
    have, want = _version(installed, "installed version"), _version(target, "target version")
    downgrade = want < have
    format_change = (
        data_format not in (None, "")
        and target_format not in (None, "")
        and _major(data_format) != _major(target_format)
    )
    plan = {"format_change": format_change, "downgrade": downgrade, "refused": ""}
    if downgrade and not allow_downgrade:
        plan["refused"] = (
            f"devpi-server {installed} is installed and {target} is older; a downgrade needs"
            " devpi_server_allow_downgrade=true (and a server directory the older version can read)"
        )
    if format_change and method == "in_place":
        plan["refused"] = (
            f"the server directory has database format {_major(data_format)} and devpi-server {target} needs"
            f" {_major(target_format)}: it cannot be upgraded in place (devpi_server_upgrade_method=in_place);"
            " use auto or export"
        )
    if method == "export" or format_change:
        plan["method"] = "export"
        plan["reason"] = "database format change" if format_change else "export forced"
    elif want == have:
        plan["method"] = "none"
        plan["reason"] = "same version"
    else:
        plan["method"] = "in_place"
        plan["reason"] = "same database format" if target_format not in (None, "") else "database format not known yet"
    return plan


class FilterModule:
    def filters(self):
        return {"upgrade_plan": upgrade_plan}
