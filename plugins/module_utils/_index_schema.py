# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The keys of a devpi index the collection manages: the one definition of their names, types and rules.

The devpi_index module builds its argument spec from it, the seed planner checks a tree with it, and a drift test
holds the module's documentation and devpi_seed's argument spec to it. A new index key is added here (and documented
in those two places, which the drift test then demands).
"""

from __future__ import annotations

import re

INDEX_TYPES = ("stage", "mirror")
INDEX_STATES = ("present", "absent")

# Every index key devpi-server takes that the collection manages, as an Ansible argument spec (no defaults: only
# the keys given are managed; the others keep the values devpi has).
INDEX_KEYS = {
    "bases": {"type": "list", "elements": "str"},
    "volatile": {"type": "bool"},
    "acl_upload": {"type": "list", "elements": "str"},
    "acl_toxresult_upload": {"type": "list", "elements": "str"},
    "mirror_whitelist": {"type": "list", "elements": "str"},
    "mirror_whitelist_inheritance": {"type": "str", "choices": ["intersection", "union"]},
    "mirror_url": {"type": "str"},
    "mirror_no_project_list": {"type": "bool"},
    "mirror_cache_expiry": {"type": "int"},
    "title": {"type": "str"},
    "description": {"type": "str"},
}
# Keys only a mirror index takes.
MIRROR_ONLY_KEYS = ("mirror_url", "mirror_no_project_list", "mirror_cache_expiry")

# The keys around an index's configuration, common to a devpi_index call and an entry of a devpi_seed tree.
ENTRY_KEYS = {
    "name": {"type": "str", "required": True},
    "type": {"type": "str", "choices": list(INDEX_TYPES), "default": "stage"},
    "state": {"type": "str", "choices": list(INDEX_STATES), "default": "present"},
    "extra": {"type": "dict"},
}

INDEX_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
HTTP_URL = re.compile(r"^https?://[^/\s]+")

_TYPES = {"str": (str, "a string"), "bool": (bool, "true or false"), "int": (int, "an integer")}


def value_error(key, value):
    """Why `value` is not right for index key `key` (strictly: no conversion), or None."""
    spec = INDEX_KEYS[key]
    if spec["type"] == "list":
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return f"{key} must be a list of strings, got {value!r}"
        return None
    expected, words = _TYPES[spec["type"]]
    if not isinstance(value, expected) or (expected is int and isinstance(value, bool)):
        return f"{key} must be {words}, got {value!r}"
    if "choices" in spec and value not in spec["choices"]:
        return f"{key} must be one of {spec['choices']}, got {value!r}"
    return None


def config_errors(config, kind):
    """Messages for what is wrong with an index configuration of type `kind` (unknown keys, values, misplaced keys)."""
    unknown = sorted(set(config) - set(INDEX_KEYS))
    if unknown:
        return [f"unknown index keys {unknown} (known: {sorted(INDEX_KEYS)})"]
    errors = [error for error in (value_error(key, value) for key, value in config.items()) if error]
    misplaced = [key for key in MIRROR_ONLY_KEYS if key in config]
    if kind == "stage" and misplaced:
        errors.append(f"{', '.join(misplaced)}: only for mirror indexes; this is a stage")
    mirror_url = config.get("mirror_url")
    if mirror_url is not None and not (isinstance(mirror_url, str) and HTTP_URL.match(mirror_url)):
        errors.append(f"mirror_url must be an http(s) URL, got {mirror_url!r}")
    bases = config.get("bases")
    if isinstance(bases, list):
        errors.extend(f"bases: {base!r} is not user/index" for base in bases if not INDEX_NAME.match(str(base)))
    return errors


def index_config(entry):
    """The index keys of a mapping (a seed tree entry, module parameters): what devpi_index manages, None dropped."""
    return {key: entry[key] for key in INDEX_KEYS if entry.get(key) is not None}
