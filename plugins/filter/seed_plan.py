# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The seed_plan filter; documentation in seed_plan.yml beside this file."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.plugin_utils._seed_plan import PlanError, plan


def seed_plan(indexes, users, existing=("root/pypi",)):
    try:
        return plan(users, indexes, existing)
    except PlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"seed_plan": seed_plan}
