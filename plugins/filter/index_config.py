# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The index_config filter; documentation in index_config.yml."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.module_utils._index_schema import index_config as _index_config


def index_config(entry):
    if not isinstance(entry, dict):
        raise AnsibleFilterError(f"index_config: expects a mapping (an index of the tree), got {type(entry).__name__}")
    return _index_config(entry)


class FilterModule:
    def filters(self):
        return {"index_config": index_config}
