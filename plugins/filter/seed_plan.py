# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed_plan, seed_plan_error, seed_prune and server_indexes filters; documentation in the .yml files of those
names."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.plugin_utils._seed_plan import PlanError, plan, prune, server_indexes


def seed_plan(indexes, users, existing=("root/pypi",)):
    try:
        return plan(users, indexes, existing)
    except PlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


def seed_plan_error(indexes, users, existing=("root/pypi",)):
    """What is wrong with the tree, in the planner's words, or '' when nothing is."""
    try:
        plan(users, indexes, existing)
    except PlanError as exc:
        return str(exc)
    return ""


def seed_prune(server, users, indexes, keep=("root/pypi",)):
    try:
        return prune(server, users, indexes, keep)
    except (AttributeError, TypeError) as exc:
        raise AnsibleFilterError(f"seed_prune: unexpected server listing or tree: {exc}") from None


def seed_server_indexes(server):
    if not isinstance(server, dict):
        kind = type(server).__name__
        raise AnsibleFilterError(f"server_indexes: expects devpi's listing of / (a mapping), got {kind}")
    try:
        return sorted(server_indexes(server))
    except (AttributeError, TypeError) as exc:
        raise AnsibleFilterError(f"server_indexes: unexpected listing of /: {exc}") from None


class FilterModule:
    def filters(self):
        return {
            "seed_plan": seed_plan,
            "seed_plan_error": seed_plan_error,
            "seed_prune": seed_prune,
            "server_indexes": seed_server_indexes,
        }
