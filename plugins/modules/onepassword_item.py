#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: onepassword_item
short_description: Store a secret in a 1Password item through 1Password Connect
version_added: 1.0.0
description:
  - Writes O(secret_value) into the concealed field O(field) of the item O(title) in the vault O(vault), through the
    1Password Connect server's REST API - creating the item when the vault has none of that title, else replacing
    that field's value (other fields are kept).
  - Runs where Connect is reachable, usually the controller (C(delegate_to) localhost). The Connect token is taken
    from E(OP_CONNECT_TOKEN) unless given; it and the secret are never returned or shown.
  - The C(hostnative.devpi.devpi_seed) role stores new devpi-tokens tokens with it (C(store) V(onepassword)).
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
options:
  connect_host:
    description: URL of the 1Password Connect server; defaults to E(OP_CONNECT_HOST).
    type: str
  connect_token:
    description: Connect token; defaults to E(OP_CONNECT_TOKEN). Prefer the environment variable.
    type: str
  vault:
    description: The vault's name.
    type: str
    required: true
  title:
    description: The item's title.
    type: str
    required: true
  field:
    description: Label of the concealed field that holds the value.
    type: str
    default: credential
  secret_value:
    description: The secret.
    type: str
    required: true
  category:
    description: Category of a new item.
    type: str
    default: API_CREDENTIAL
  ca_path:
    description: PEM bundle to verify the Connect server's certificate with.
    type: path
  timeout:
    description: Seconds to wait for each answer of the Connect server.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Keep a CI token in 1Password
  hostnative.devpi.onepassword_item:
    vault: CI
    title: devpi ci-upload token
    secret_value: "{{ new_token }}"
  delegate_to: localhost
  no_log: true
"""

RETURN = r"""
item_id:
  description: The item's id (null in check mode when it would be created).
  returned: always
  type: str
action:
  description: V(created) or V(updated).
  returned: always
  type: str
"""

import os
from urllib.parse import quote

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import json_call

HTTP_OK = 200
HTTP_REDIRECT = 300


class ConnectError(Exception):
    pass


class Connect:
    def __init__(self, host, token, ca_path, timeout):
        self.host = host.rstrip("/")
        self.token = token
        self.ca_path = ca_path
        self.timeout = timeout

    def call(self, method, path, body=None):
        """Connect's decoded answer; ConnectError with Connect's message for an error status or no answer."""
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            status, payload = json_call(
                method, self.host + path, body, headers, timeout=self.timeout, ca_path=self.ca_path
            )
        except OSError as exc:
            raise ConnectError(f"{method} {path}: the Connect server at {self.host} did not answer: {exc}") from exc
        if not HTTP_OK <= status < HTTP_REDIRECT:  # open_url follows no redirect: one is an error too
            message = payload.get("message") if isinstance(payload, dict) else None
            raise ConnectError(f"{method} {path}: Connect answered HTTP {status}: {message or 'no message'}")
        return payload


def by_filter(what, value):
    return quote(f'{what} eq "{value}"', safe="")


def main():
    module = AnsibleModule(
        argument_spec={
            "connect_host": {"type": "str"},
            "connect_token": {"type": "str", "no_log": True},
            "vault": {"type": "str", "required": True},
            "title": {"type": "str", "required": True},
            "field": {"type": "str", "default": "credential"},
            "secret_value": {"type": "str", "required": True, "no_log": True},
            "category": {"type": "str", "default": "API_CREDENTIAL"},
            "ca_path": {"type": "path"},
            "timeout": {"type": "int", "default": 10},
        },
        supports_check_mode=True,
    )
    params = module.params
    host = params["connect_host"] or os.environ.get("OP_CONNECT_HOST")
    token = params["connect_token"] or os.environ.get("OP_CONNECT_TOKEN")
    if not host or not token:
        module.fail_json(msg="connect_host and connect_token (or OP_CONNECT_HOST and OP_CONNECT_TOKEN) are required")
    connect = Connect(host, token, params["ca_path"], params["timeout"])
    try:
        vaults = connect.call("GET", f"/v1/vaults?filter={by_filter('name', params['vault'])}") or []
        if len(vaults) != 1:
            module.fail_json(msg=f"vault {params['vault']!r}: {len(vaults)} vaults of that name on the Connect server")
        vault_id = vaults[0]["id"]
        found = connect.call("GET", f"/v1/vaults/{vault_id}/items?filter={by_filter('title', params['title'])}") or []
        if len(found) > 1:
            module.fail_json(
                msg=f"item {params['title']!r}: {len(found)} items of that title in vault {params['vault']!r}"
            )
        secret = {"type": "CONCEALED", "purpose": "", "label": params["field"], "value": params["secret_value"]}
        if not found:
            if not module.check_mode:
                body = {
                    "title": params["title"],
                    "category": params["category"],
                    "vault": {"id": vault_id},
                    "fields": [secret],
                }
                created = connect.call("POST", f"/v1/vaults/{vault_id}/items", body)
                module.exit_json(changed=True, item_id=created.get("id"), action="created")
            module.exit_json(changed=True, item_id=None, action="created")
        item = connect.call("GET", f"/v1/vaults/{vault_id}/items/{found[0]['id']}")
        fields = [field for field in item.get("fields", []) if field.get("label") != params["field"]]
        kept = next((field for field in item.get("fields", []) if field.get("label") == params["field"]), {})
        item["fields"] = [*fields, {**kept, **secret}]
        if not module.check_mode:
            connect.call("PUT", f"/v1/vaults/{vault_id}/items/{item['id']}", item)
    except ConnectError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=True, item_id=item["id"], action="updated")


if __name__ == "__main__":
    main()
