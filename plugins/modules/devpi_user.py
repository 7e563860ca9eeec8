#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: devpi_user
short_description: Manage a devpi user through devpi-server's HTTP API
version_added: 1.0.0
description:
  - Creates, updates or deletes a devpi user, authenticating as O(login_user) (root by default).
  - devpi never returns a password, so whether O(password) is current is found by logging in with it; only when
    that fails is the password set (with O(update_password=always)).
  - Deleting a user who owns non-volatile indexes is refused unless O(force), which deletes those indexes too.
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
  - hostnative.devpi.devpi_connection
options:
  name:
    description: The user name.
    type: str
    required: true
  state:
    description: Whether the user exists.
    type: str
    choices: [present, absent]
    default: present
  password:
    description: The user's password; required to create a user unless O(login=false).
    type: str
  login:
    description:
      - V(false) creates the user without a password - nobody can log in as it - for a namespace that only owns
        indexes (a team's C(shared/stable), uploads allowed to other users by C(acl_upload)). devpi lets root
        create such a user.
      - Takes no O(password). An existing user keeps whatever password it has.
    type: bool
    default: true
    version_added: 1.0.0
  update_password:
    description: V(always) sets O(password) whenever logging in with it fails; V(on_create) only when creating.
    type: str
    choices: [always, on_create]
    default: always
  email:
    description: The user's email address.
    type: str
  title:
    description: The user's display name.
    type: str
  force:
    description: With O(state=absent), also delete the user's non-volatile indexes.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: An upload user
  hostnative.devpi.devpi_user:
    url: http://127.0.0.1:3141
    login_password: "{{ devpi_root_password }}"
    name: packages
    password: "{{ packages_password }}"
    email: packaging@example.com
  no_log: true
"""

RETURN = r"""
user:
  description: The user as devpi reports it afterwards (null when absent); a changed password shows as C(********).
  returned: always
  type: dict
  sample: {username: packages, email: packaging@example.com, indexes: [stable]}
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import (
    CONNECTION_ARGS,
    WRITE_OK,
    DevpiClient,
    DevpiError,
)

MASK = "********"


def summary(config):
    if config is None:
        return None
    return {
        "username": config.get("username"),
        "email": config.get("email"),
        "title": config.get("title"),
        "indexes": sorted((config.get("indexes") or {}).keys()),
    }


def ensure_present(module, client, current):
    params = module.params
    name = params["name"]
    wanted = {key: params[key] for key in ("email", "title") if params[key] is not None}
    if current is None:
        if params["login"] and not params["password"]:
            module.fail_json(msg=f"password is required to create user {name!r} (or login=false for a namespace)")
        after = {"username": name, **wanted, "indexes": []}
        if not module.check_mode:
            # devpi creates a user without a password hash from an explicit null: no login can succeed.
            client.request("PUT", f"/{name}", {"password": params["password"], **wanted}, expect=WRITE_OK)
            after = summary(client.get(f"/{name}"))
        return True, after, {"password": MASK} if params["login"] else {}
    changes = {key: value for key, value in wanted.items() if current.get(key) != value}
    set_password = (
        params["password"] is not None
        and params["update_password"] == "always"  # noqa: S105 - a mode name, not a password
        and not client.can_login(name, params["password"])
    )
    if not changes and not set_password:
        return False, summary(current), {}
    if not module.check_mode:
        body = dict(changes)
        if set_password:
            body["password"] = params["password"]
        client.request("PATCH", f"/{name}", body, expect=WRITE_OK)
    after = {**summary(current), **changes}
    return True, after, {"password": MASK} if set_password else {}


def ensure_absent(module, client, current):
    name = module.params["name"]
    if current is None:
        return False, None
    locked = sorted(index for index, config in (current.get("indexes") or {}).items() if not config.get("volatile"))
    if locked and not module.params["force"]:
        module.fail_json(
            msg=f"user {name!r} owns non-volatile indexes {locked}; deleting would lose their packages. "
            "Set force=true to delete them with the user."
        )
    if not module.check_mode:
        for index in locked:
            client.request("PATCH", f"/{name}/{index}", ["volatile=True"], expect=WRITE_OK)
        client.request("DELETE", f"/{name}", expect=WRITE_OK)
    return True, None


def main():
    module = AnsibleModule(
        argument_spec={
            **CONNECTION_ARGS,
            "name": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "password": {"type": "str", "no_log": True},
            "login": {"type": "bool", "default": True},
            "update_password": {
                "type": "str",
                "choices": ["always", "on_create"],
                "default": "always",
                "no_log": False,  # a mode, not a password
            },
            "email": {"type": "str"},
            "title": {"type": "str"},
            "force": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    if not module.params["login"] and module.params["password"] is not None:
        module.fail_json(msg=f"password: not with login=false (user {module.params['name']!r} has no password)")
    client = DevpiClient.from_module(module)
    try:
        current = client.get(f"/{module.params['name']}")
        if module.params["state"] == "present":
            changed, after, secret_changes = ensure_present(module, client, current)
        else:
            (changed, after), secret_changes = ensure_absent(module, client, current), {}
    except DevpiError as exc:
        module.fail_json(msg=str(exc))
    before = summary(current)
    diff = {"before": before or {}, "after": {**(after or {}), **secret_changes} if after else {}}
    module.exit_json(changed=changed, user=after, diff=diff)


if __name__ == "__main__":
    main()
