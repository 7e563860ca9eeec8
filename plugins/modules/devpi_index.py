#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: devpi_index
short_description: Manage a devpi index through devpi-server's HTTP API
version_added: 1.0.0
description:
  - Creates, updates or deletes a devpi index C(user/index), authenticating as O(login_user) (root by default).
  - Only the keys given are managed; others keep their values. Changing O(type) is an error (devpi cannot).
  - Deleting a non-volatile index, or one that other indexes use as a base, is refused unless O(force).
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
  - hostnative.devpi.devpi_connection
options:
  name:
    description: The index, C(user/index).
    type: str
    required: true
  state:
    description: Whether the index exists.
    type: str
    choices: [present, absent]
    default: present
  type:
    description: V(stage) (uploads) or V(mirror) (of another index such as PyPI); set when creating.
    type: str
    choices: [stage, mirror]
    default: stage
  bases:
    description: Indexes this one inherits from, each C(user/index).
    type: list
    elements: str
  volatile:
    description: Whether packages may be overwritten and the index deleted.
    type: bool
  acl_upload:
    description: Users (or C(:ANONYMOUS:)) allowed to upload.
    type: list
    elements: str
  acl_toxresult_upload:
    description: Users allowed to upload tox results.
    type: list
    elements: str
  mirror_whitelist:
    description: Projects for which packages from bases are used even when this index has the project.
    type: list
    elements: str
  mirror_whitelist_inheritance:
    description: How O(mirror_whitelist) combines with those of the bases.
    type: str
    choices: [intersection, union]
  mirror_url:
    description: URL of the simple index a mirror mirrors (mirror only).
    type: str
  mirror_no_project_list:
    description: Do not fetch the upstream project list (mirror only; strongly advised for PyPI).
    type: bool
  mirror_cache_expiry:
    description: Seconds before a mirror re-checks a project upstream (mirror only).
    type: int
  title:
    description: The index's title.
    type: str
  description:
    description: The index's description.
    type: str
  config:
    description:
      - The index keys above as one mapping instead of the separate options, for example what
        P(hostnative.devpi.index_config#filter) takes from an index of the P(hostnative.devpi.devpi_seed#role) tree.
      - Checked strictly - unknown keys and values of the wrong type are errors, nothing is converted.
    type: dict
    version_added: 1.0.0
  extra:
    description: More index keys, for devpi plugins (for example C(push_requires_ci) of devpi-constrained).
    type: dict
    default: {}
  force:
    description: With O(state=absent), delete even a non-volatile index or one that others use as a base.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: The runbook's stable index
  hostnative.devpi.devpi_index:
    url: http://127.0.0.1:3141
    login_password: "{{ devpi_root_password }}"
    name: packages/stable
    bases: [root/pypi]
    volatile: false
    acl_upload: [packages]
  no_log: true
"""

RETURN = r"""
index:
  description: The index configuration afterwards (null when absent).
  returned: always
  type: dict
  sample: {type: stage, bases: [root/pypi], volatile: false, acl_upload: [packages]}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import (
    CONNECTION_ARGS,
    WRITE_OK,
    DevpiClient,
    DevpiError,
)
from ansible_collections.hostnative.devpi.plugins.module_utils._index_schema import (
    ENTRY_KEYS,
    INDEX_KEYS,
    INDEX_NAME,
    config_errors,
    index_config,
)


def wanted_config(module):
    params = module.params
    if params["config"] is None:
        wanted = index_config(params)
    else:
        wanted = {key: value for key, value in params["config"].items() if value is not None}
    for error in config_errors(wanted, params["type"]):
        module.fail_json(msg=f"{params['name']}: {error}")
    wanted.update(params["extra"])
    return wanted


def ensure_present(module, client, path, current):
    wanted = wanted_config(module)
    if current is None:
        body = {"type": module.params["type"], **wanted}
        if body["type"] == "mirror" and "mirror_url" not in body:
            module.fail_json(msg=f"mirror_url is required to create the mirror index {module.params['name']}")
        if module.check_mode:
            return True, body
        client.request("PUT", path, body, expect=WRITE_OK)
        return True, client.get(path)
    if current.get("type") != module.params["type"]:
        module.fail_json(
            msg=f"{module.params['name']} is a {current.get('type')} index; devpi cannot change it to "
            f"{module.params['type']}. Delete and recreate it (its packages would be lost)."
        )
    changes = {key: value for key, value in wanted.items() if current.get(key) != value}
    if not changes:
        return False, current
    if module.check_mode:
        return True, {**current, **changes}
    client.request("PATCH", path, changes, expect=WRITE_OK)
    return True, client.get(path)


def ensure_absent(module, client, path, current):
    name = module.params["name"]
    if current is None:
        return False, None
    dependents = sorted(other for other, config in client.all_indexes().items() if name in (config.get("bases") or []))
    problems = []
    if not current.get("volatile"):
        problems.append("it is not volatile (its packages would be lost)")
    if dependents:
        problems.append(f"{dependents} use it as a base")
    if problems and not module.params["force"]:
        module.fail_json(
            msg=f"refusing to delete {name}: {' and '.join(problems)}. Set force=true to delete it anyway."
        )
    if not module.check_mode:
        if not current.get("volatile"):
            client.request("PATCH", path, ["volatile=True"], expect=WRITE_OK)
        client.request("DELETE", path, expect=WRITE_OK)
    return True, None


def main():
    module = AnsibleModule(
        argument_spec={
            **CONNECTION_ARGS,
            **ENTRY_KEYS,
            **INDEX_KEYS,
            "extra": {**ENTRY_KEYS["extra"], "default": {}},
            "config": {"type": "dict"},
            "force": {"type": "bool", "default": False},
        },
        mutually_exclusive=[("config", key) for key in INDEX_KEYS],
        supports_check_mode=True,
    )
    name = module.params["name"]
    if not INDEX_NAME.match(name):
        module.fail_json(msg=f"name: {name!r} is not user/index")
    client = DevpiClient.from_module(module)
    path = f"/{name}"
    try:
        current = client.get(path)
        if module.params["state"] == "present":
            changed, after = ensure_present(module, client, path, current)
        else:
            changed, after = ensure_absent(module, client, path, current)
    except DevpiError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=changed, index=after, diff={"before": current or {}, "after": after or {}})


if __name__ == "__main__":
    main()
