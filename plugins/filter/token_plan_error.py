# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The token_plan_error filter; documentation in token_plan_error.yml beside this file."""

from __future__ import annotations

import re

from ansible_collections.hostnative.devpi.plugins.module_utils._duration import duration_seconds

VARIABLE = "devpi_seed_tokens"
DURATION = re.compile(r"^[1-9][0-9]*[smhdw]$")
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
KEYS = {"name", "user", "indexes", "allowed", "projects", "expires", "renew_before", "state"}
KEYS |= {"store", "dest", "vault", "item", "field"}  # where a new token goes


def _list_of_names(value):
    return isinstance(value, list) and all(isinstance(item, str) and item for item in value)


def _token_error(token, users, indexes):  # noqa: PLR0911 - one return per thing that can be wrong
    unknown = sorted(set(token) - KEYS)
    if unknown:
        return f"unknown keys {unknown} (known: {sorted(KEYS)})"
    if token.get("user") not in users:
        return f"user {token.get('user')!r} is neither in devpi_seed_users nor on the server"
    for key in ("indexes", "allowed", "projects"):
        if key in token and not _list_of_names(token[key]):
            return f"{key} must be a list of names, got {token[key]!r}"
    missing = [index for index in token.get("indexes", []) if index not in indexes]
    if missing:
        return f"indexes {missing} are not in the tree (devpi_seed_indexes) nor on the server"
    for key in ("expires", "renew_before"):
        if key in token and not DURATION.match(str(token[key])):
            return f"{key}={token[key]!r} is not a duration such as 90d, 12h or 30m"
    renew_before = duration_seconds(token.get("renew_before", "14d"), "renew_before")
    if renew_before >= duration_seconds(token.get("expires", "90d"), "expires"):
        return "renew_before must be shorter than expires (default 14d and 90d)"
    if token.get("state", "present") not in ("present", "absent"):
        return f"state={token.get('state')!r} must be present or absent"
    return _store_error(token)


def _store_error(token):
    """Where a new token goes: a file on the controller, or a 1Password item."""
    store = token.get("store", "file")
    if store not in ("file", "onepassword"):
        return f"store={store!r} must be file (dest on the controller) or onepassword (an item through Connect)"
    if token.get("state", "present") == "absent":
        return ""
    if store == "file" and not str(token.get("dest") or "").startswith("/"):
        return "dest must be the absolute path of the file (on the controller) that receives the token"
    if store == "onepassword" and not all(
        isinstance(token.get(key), str) and token.get(key) for key in ("vault", "item")
    ):
        return "store=onepassword needs vault (the vault's name) and item (the item's title)"
    return ""


def token_plan_error(tokens, users, indexes):
    """The first thing wrong with devpi_seed_tokens, naming the token, or an empty string."""
    if not isinstance(tokens, list):
        return f"{VARIABLE} must be a list of mappings, got {type(tokens).__name__}"
    seen = set()
    for position, token in enumerate(tokens):
        if not isinstance(token, dict) or not NAME.match(str(token.get("name") or "")):
            return f"{VARIABLE}[{position}]: each token is a mapping with a name of letters, digits, '.', '_', '-'"
        label = f"{VARIABLE}[{position}] ({token['name']})"
        if token["name"] in seen:
            return f"{label}: the name is used by an earlier token"
        seen.add(token["name"])
        error = _token_error(token, set(users), set(indexes))
        if error:
            return f"{label}: {error}"
    return ""


class FilterModule:
    def filters(self):
        return {"token_plan_error": token_plan_error}
