# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The pypirc_repositories filter; documentation in pypirc_repositories.yml beside this file."""

from __future__ import annotations

import re

from ansible.errors import AnsibleFilterError

_INDEX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_SECTION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
VARIABLE = "devpi_client_upload_indexes"


def _fail(position, message):
    raise AnsibleFilterError(f"{VARIABLE}[{position}]: {message}")


def pypirc_repositories(upload_indexes, base_url, ca_bundle=""):
    """One .pypirc repository per upload index: {"names": [...], "settings": {section: {key: value}}}.

    Passwords are not read here; the caller pairs them with `names`."""
    if not isinstance(upload_indexes, list):
        raise AnsibleFilterError(f"{VARIABLE} must be a list of mappings, got {type(upload_indexes).__name__}")
    base = str(base_url).rstrip("/")
    names, settings = [], {}
    for position, item in enumerate(upload_indexes):
        if not isinstance(item, dict):
            _fail(position, f"must be a mapping with name and password, got {type(item).__name__}")
        index = str(item.get("name") or "")
        if not _INDEX.match(index):
            _fail(position, f"name {index!r} must be an index name user/index, for example packages/stable")
        user, short = index.split("/", 1)
        section = str(item.get("repository") or f"devpi-{short}")
        if not _SECTION.match(section) or section.lower() == "distutils":
            _fail(position, f"repository {section!r} must be a .pypirc section name of letters, digits, '.', '_', '-'")
        if section in settings:
            _fail(
                position,
                f"repository {section!r} ({index}) is already used by an earlier index; "
                "set `repository` to tell them apart",
            )
        username = str(item.get("username") or user)
        repository = {"repository": f"{base}/{index}/", "username": username}
        if ca_bundle:
            repository["ca_cert"] = ca_bundle
        names.append(section)
        settings[section] = repository
    if names:
        settings = {"distutils": {"index-servers": names}, **settings}
    return {"names": names, "settings": settings}


class FilterModule:
    def filters(self):
        return {"pypirc_repositories": pypirc_repositories}
