# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validate a declarative devpi tree (users + indexes) and order the indexes so that bases come first.

Every error names the offending item and what is wrong; none repeats a password.
"""

from __future__ import annotations

import re
from graphlib import CycleError, TopologicalSorter

from ansible_collections.hostnative.devpi.plugins.module_utils._index_schema import (
    ENTRY_KEYS,
    INDEX_KEYS,
    INDEX_STATES,
    INDEX_TYPES,
    config_errors,
    index_config,
)

NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
USER_KEYS = {"name", "password", "login", "email", "title", "state", "update_password"}
TREE_INDEX_KEYS = {*ENTRY_KEYS, *INDEX_KEYS}


class PlanError(ValueError):
    pass


def _check_users(users):
    if not isinstance(users, list):
        raise PlanError(f"devpi_seed_users must be a list, got {type(users).__name__}")
    seen = set()
    for position, user in enumerate(users):
        if not isinstance(user, dict):
            raise PlanError(f"devpi_seed_users[{position}] must be a mapping, got {type(user).__name__}")
        name = user.get("name")
        where = f"devpi_seed_users[{position}] ({name!r})"
        if not isinstance(name, str) or not NAME.match(name):
            raise PlanError(f"{where}: name must be letters, digits, '.', '_' or '-', starting with a letter or digit")
        if name == "root":
            raise PlanError(f"{where}: root is not a seed user; its password is devpi_seed_root_password")
        if name in seen:
            raise PlanError(f"{where}: user {name!r} is listed twice")
        seen.add(name)
        unknown = sorted(set(user) - USER_KEYS)
        if unknown:
            raise PlanError(f"{where}: unknown keys {unknown} (known: {sorted(USER_KEYS)})")
        if user.get("state", "present") not in ("present", "absent"):
            raise PlanError(f"{where}: state must be present or absent")
        password = user.get("password")
        login = user.get("login", True)
        if not isinstance(login, bool):
            raise PlanError(f"{where}: login must be true or false, got {login!r}")
        if not login and password is not None:
            raise PlanError(f"{where}: a user with login: false takes no password (nobody logs in as it)")
        present = user.get("state", "present") == "present"
        if present and login and (not isinstance(password, str) or not password):
            raise PlanError(
                f"{where}: password must be a non-empty string (the value is not shown); "
                "a namespace nobody logs in as takes login: false instead"
            )
    return seen


def _check_index(position, index, users, known):
    if not isinstance(index, dict):
        raise PlanError(f"devpi_seed_indexes[{position}] must be a mapping, got {type(index).__name__}")
    name = index.get("name")
    where = f"devpi_seed_indexes[{position}] ({name!r})"
    parts = name.split("/") if isinstance(name, str) else []
    if len(parts) != len(("user", "index")) or not all(NAME.match(part) for part in parts):
        raise PlanError(f"{where}: name must be user/index, each part letters, digits, '.', '_' or '-'")
    if parts[0] not in users and parts[0] != "root":
        raise PlanError(f"{where}: owner {parts[0]!r} is not in devpi_seed_users (nor root)")
    unknown = sorted(set(index) - TREE_INDEX_KEYS)
    if unknown:
        raise PlanError(f"{where}: unknown keys {unknown} (known: {sorted(TREE_INDEX_KEYS)})")
    _check_index_values(where, index)
    for base in index.get("bases") or []:
        if base == name:
            raise PlanError(f"{where}: is its own base")
        if base not in known:
            raise PlanError(f"{where}: base {base!r} is neither in devpi_seed_indexes nor an existing index")
    return name


def _check_index_values(where, index):
    kind = index.get("type", "stage")
    if kind not in INDEX_TYPES:
        raise PlanError(f"{where}: type must be stage or mirror, got {kind!r}")
    if index.get("state", "present") not in INDEX_STATES:
        raise PlanError(f"{where}: state must be present or absent, got {index.get('state')!r}")
    if not isinstance(index.get("extra", {}), dict):
        raise PlanError(f"{where}: extra must be a mapping of plugin keys")
    errors = config_errors(index_config(index), kind)
    if errors:
        raise PlanError(f"{where}: {errors[0]}")
    if kind == "mirror" and not index.get("mirror_url"):
        raise PlanError(f"{where}: a mirror needs mirror_url")


def plan(users, indexes, existing=("root/pypi",)):
    """The indexes of the tree in an order where every index comes after its bases."""
    user_names = _check_users(users)
    if not isinstance(indexes, list):
        raise PlanError(f"devpi_seed_indexes must be a list, got {type(indexes).__name__}")
    names = [index.get("name") if isinstance(index, dict) else None for index in indexes]
    known = set(existing) | {name for name in names if isinstance(name, str)}
    by_name = {}
    for position, index in enumerate(indexes):
        name = _check_index(position, index, user_names, known)
        if name in by_name:
            raise PlanError(f"devpi_seed_indexes[{position}] ({name!r}): index {name!r} is listed twice")
        by_name[name] = index
    sorter = TopologicalSorter(
        {name: [base for base in index.get("bases") or [] if base in by_name] for name, index in by_name.items()}
    )
    try:
        sorter.prepare()
    except CycleError as exc:
        raise PlanError(
            f"devpi_seed_indexes: bases form a cycle: {_describe_cycle(exc.args[1], list(by_name))}"
        ) from None
    ordered = []
    while sorter.is_active():
        ready = sorter.get_ready()
        ordered.extend(by_name[name] for name in ready)
        sorter.done(*ready)
    return ordered


def _describe_cycle(cycle, tree_order):
    """graphlib lists each index before the ones built on it; say it "index -> its base", from the first in the tree."""
    names = list(reversed(cycle[:-1]))
    start = min(range(len(names)), key=lambda i: tree_order.index(names[i]))
    names = names[start:] + names[:start]
    return " -> ".join([*names, names[0]])


def server_indexes(server):
    """{user/index: config} from devpi's listing of `/` ({user: {"indexes": {name: config}}})."""
    return {
        f"{user}/{name}": config or {}
        for user, info in (server or {}).items()
        for name, config in ((info or {}).get("indexes") or {}).items()
    }


def prune(server, users, indexes, keep=("root/pypi",)):
    """What devpi_seed_prune may delete, and what it must only report.

    server: devpi's listing of `/` ({user: {"indexes": {name: config}}}). Users and indexes the tree does not name
    (root, and `keep`, never count) are deleted only when nothing of value goes with them: volatile indexes that no
    remaining index uses as a base, and users whose indexes all go. Everything else is reported. Indexes to delete
    come dependents first.
    """
    named_users = {user["name"] for user in users if user.get("state", "present") == "present"} | {"root"}
    named_indexes = {index["name"] for index in indexes if index.get("state", "present") == "present"} | set(keep)
    configs = server_indexes(server)
    delete = {name for name in configs if name not in named_indexes and configs[name].get("volatile", True)}
    # An index stays while a staying index builds on it (repeat: keeping one can keep its own bases).
    tree_bases = {
        base for index in indexes if index.get("state", "present") == "present" for base in index.get("bases") or []
    }
    changed = True
    while changed:
        needed = tree_bases | {
            base for name, config in configs.items() if name not in delete for base in config.get("bases", [])
        }
        changed = bool(delete & needed)
        delete -= needed
    kept = sorted(name for name in configs if name not in named_indexes and name not in delete)
    gone_users = sorted(
        user
        for user in (server or {})
        if user not in named_users and all(name in delete for name in configs if name.split("/", 1)[0] == user)
    )
    kept_users = sorted(user for user in (server or {}) if user not in named_users and user not in gone_users)
    return {
        "indexes": _dependents_first(
            {name: configs[name] for name in delete if name.split("/", 1)[0] not in gone_users}
        ),
        "users": gone_users,
        "kept_indexes": kept,
        "kept_users": kept_users,
    }


def _dependents_first(configs):
    """Names ordered so that an index comes before the indexes it builds on (deletable in that order)."""
    ordered, left = [], dict(sorted(configs.items()))
    while left:
        bases = {base for config in left.values() for base in config.get("bases", [])}
        ready = [name for name in left if name not in bases] or list(left)  # a cycle cannot exist in devpi
        for name in ready:
            ordered.append(name)
            del left[name]
    return ordered
