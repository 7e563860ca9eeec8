#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: devpi_token
short_description: Keep a named devpi-tokens token of a devpi user, scoped and expiring
version_added: 1.0.0
description:
  - Creates, renews or revokes a token of devpi's plugin C(devpi-tokens) for O(user), authenticating as
    O(login_user) (root by default, who may create tokens for every user).
  - devpi keeps tokens by id and never returns one again; which id is the token called O(name) is recorded in
    O(state_file) on the host (ids, scopes and expiry - no token). A token is created when there is none of that
    name, when its scope (O(indexes), O(allowed), O(projects)) differs from the one asked for, or when it expires
    within O(renew_before); the token it replaces is revoked.
  - The new token is returned once, in RV(token), only when one was created; the task should use C(no_log).
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
  - hostnative.devpi.devpi_connection
options:
  name:
    description: The token's name (the collection's; devpi knows only its id).
    type: str
    required: true
  user:
    description: The devpi user the token acts as.
    type: str
    required: true
  state:
    description: V(absent) revokes the token.
    type: str
    choices: [present, absent]
    default: present
  indexes:
    description: Indexes (C(user/index)) the token may act on; empty - every index the user may act on.
    type: list
    elements: str
    default: []
  allowed:
    description: devpi permissions the token has (C(upload), C(pkg_read), C(toxresult_upload), C(del_verdata), ...).
    type: list
    elements: str
    default: [upload]
  projects:
    description: Projects the token may act on; empty - every project.
    type: list
    elements: str
    default: []
  expires:
    description: Lifetime of a new token, a number with C(s), C(m), C(h), C(d) or C(w) (C(90d)).
    type: str
    default: 90d
  renew_before:
    description: A token that expires within this (same form as O(expires)) is replaced by a new one.
    type: str
    default: 14d
  force_new:
    description: Replace the token even when it is current (its holder lost it); the old one is revoked.
    type: bool
    default: false
  state_file:
    description: JSON file on the host recording each named token's id, scope and expiry (created 0600).
    type: path
    required: true
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: An upload token for CI, alice/dev only, 30 days
  hostnative.devpi.devpi_token:
    url: http://127.0.0.1:3141
    login_password: "{{ devpi_root_password }}"
    name: ci-upload
    user: alice
    indexes: [alice/dev]
    expires: 30d
    state_file: /var/lib/devpi/seed-tokens.json
  register: ci_token
  no_log: true
"""

RETURN = r"""
token:
  description: The new token (C(devpi-...)), only when one was created; null otherwise.
  returned: always
  type: str
id:
  description: devpi's id of the token (null when absent).
  returned: always
  type: str
expires:
  description: When the token expires (seconds since the epoch; null when absent).
  returned: always
  type: int
action:
  description: What was done - C(created), C(renewed) (expiring, or another scope), C(revoked) or C(none).
  returned: always
  type: str
"""

import json
import os
import tempfile
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import (
    CONNECTION_ARGS,
    WRITE_OK,
    DevpiClient,
    DevpiError,
)
from ansible_collections.hostnative.devpi.plugins.module_utils._duration import duration_seconds


def lifetime_and_margin(params):
    """Seconds a new token lives, and before its end it is renewed."""
    return duration_seconds(params["expires"], "expires"), duration_seconds(params["renew_before"], "renew_before")


def scope(indexes, allowed, projects):
    """The restrictions devpi-tokens records for this scope, as it writes them (sorted lists, comma-joined)."""
    found = {"allowed": allowed, "indexes": indexes, "projects": projects}
    return sorted(f"{key}={','.join(sorted(value))}" for key, value in found.items() if value)


def recorded_scope(restrictions):
    return sorted(item for item in restrictions or [] if not item.startswith(("expires=", "not_before=")))


def load(path):
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        return {}
    return data.get("tokens", {}) if isinstance(data, dict) else {}


def save(path, tokens):
    directory = os.path.dirname(path) or "."
    descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".devpi-tokens-")
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        json.dump({"tokens": tokens}, handle, indent=2, sort_keys=True)
        handle.write("\n")
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def server_tokens(client, user):
    status, result = client.request("GET", f"/{user}/+tokens", expect=(200, 404))
    if status == 404:  # noqa: PLR2004 - HTTP Not Found
        raise DevpiError(f"user {user!r} does not exist on the server (or devpi-tokens is not installed)")
    return (result or {}).get("tokens", {})


def revoke(module, client, tokens, entry, live):
    params = module.params
    if live is None:
        if entry and not module.check_mode:
            del tokens[params["name"]]
            save(params["state_file"], tokens)
        return {"changed": False, "token": None, "id": None, "expires": None, "action": "none"}
    if not module.check_mode:
        client.request("DELETE", f"/{params['user']}/+tokens/{live['id']}", expect=WRITE_OK)
        del tokens[params["name"]]
        save(params["state_file"], tokens)
    return {"changed": True, "token": None, "id": live["id"], "expires": None, "action": "revoked"}


def keep(module, client, tokens, live, on_server):
    """The token as it should be: left alone while current, else created (the one it replaces revoked)."""
    params = module.params
    lifetime, margin = lifetime_and_margin(params)
    wanted = scope(params["indexes"], params["allowed"], params["projects"])
    now = int(time.time())
    current = live and recorded_scope(on_server[live["id"]].get("restrictions")) == wanted
    if current and live.get("expires", 0) - now > margin and not params["force_new"]:
        return {"changed": False, "token": None, "id": live["id"], "expires": live["expires"], "action": "none"}
    action = "renewed" if live else "created"
    if module.check_mode:
        return {"changed": True, "token": None, "id": None, "expires": now + lifetime, "action": action}
    body = {"expires": now + lifetime, "allowed": params["allowed"]}
    body.update({key: params[key] for key in ("indexes", "projects") if params[key]})
    _status, result = client.request("POST", f"/{params['user']}/+token-create", body, expect=WRITE_OK)
    token = (result or {}).get("token")
    if not token:
        raise DevpiError(f"devpi created no token for {params['user']!r} (answer without a token)")
    new_ids = sorted(set(server_tokens(client, params["user"])) - set(on_server))
    if len(new_ids) != 1:
        raise DevpiError(f"could not tell the new token's id among {new_ids}")
    tokens[params["name"]] = {"user": params["user"], "id": new_ids[0], "scope": wanted, "expires": now + lifetime}
    save(params["state_file"], tokens)
    if live:  # the token it replaces stops working now
        client.request("DELETE", f"/{params['user']}/+tokens/{live['id']}", expect=WRITE_OK)
    return {"changed": True, "token": token, "id": new_ids[0], "expires": now + lifetime, "action": action}


def main():
    module = AnsibleModule(
        argument_spec={
            **CONNECTION_ARGS,
            "name": {"type": "str", "required": True},
            "user": {"type": "str", "required": True},
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "indexes": {"type": "list", "elements": "str", "default": []},
            "allowed": {"type": "list", "elements": "str", "default": ["upload"]},
            "projects": {"type": "list", "elements": "str", "default": []},
            "expires": {"type": "str", "default": "90d"},
            "renew_before": {"type": "str", "default": "14d"},
            "force_new": {"type": "bool", "default": False},
            "state_file": {"type": "path", "required": True},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        lifetime, margin = lifetime_and_margin(params)
    except ValueError as exc:
        module.fail_json(msg=str(exc))
    if margin >= lifetime:
        module.fail_json(msg=f"renew_before={params['renew_before']} must be shorter than expires={params['expires']}")
    client = DevpiClient.from_module(module)
    tokens = load(params["state_file"])
    entry = tokens.get(params["name"])
    try:
        on_server = server_tokens(client, params["user"])
        live = entry if entry and entry.get("user") == params["user"] and entry.get("id") in on_server else None
        if params["state"] == "absent":
            result = revoke(module, client, tokens, entry, live)
        else:
            result = keep(module, client, tokens, live, on_server)
    except DevpiError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
