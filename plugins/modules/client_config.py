#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: client_config
short_description: Merge settings into an INI or TOML client configuration file, keeping everything else
version_added: 1.0.0
description:
  - Sets the given keys in C(pip.conf), C(.pypirc) (INI) or C(uv.toml) (TOML) and leaves every other line of the
    file as it was - comments, other keys and other sections - so settings this module does not own survive.
  - A list value is a multi-line INI value (C(index-servers) of C(.pypirc)); items already there are kept and new
    ones appended.
  - The file is written atomically, only when its content or attributes change. A new file is created private
    (0600) and then given O(mode), O(owner) and O(group); an existing one keeps its own unless they are given.
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
  - ansible.builtin.files
options:
  path:
    description: The configuration file; created (with its missing parent directories) when absent.
    type: path
    required: true
  format:
    description: V(ini) for C(pip.conf) and C(.pypirc), V(toml) for C(uv.toml).
    type: str
    choices: [ini, toml]
    required: true
  settings:
    description:
      - Section name to a mapping of key to value. With O(format=toml) the section V("") is the top level.
      - Values are strings, numbers, booleans or lists of strings.
    type: dict
    default: {}
  secret_settings:
    description:
      - Like O(settings), for values that must never be shown (a password in C(.pypirc)). They are merged after
        O(settings) and masked in the diff.
    type: dict
    default: {}
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
notes:
  - Nothing is ever removed from the file; a key that is no longer wanted has to be deleted by hand.
"""

EXAMPLES = r"""
- name: Point pip at devpi and keep the rest of /etc/pip.conf
  hostnative.devpi.client_config:
    path: /etc/pip.conf
    format: ini
    settings:
      global:
        index-url: https://pypi.example.org/root/pypi/+simple/
    mode: "0644"

- name: Add an upload repository to ~/.pypirc
  hostnative.devpi.client_config:
    path: /home/dev/.pypirc
    format: ini
    settings:
      distutils: {index-servers: [devpi-dev]}
      devpi-dev: {repository: "https://pypi.example.org/dev/dev/", username: dev}
    secret_settings:
      devpi-dev: {password: "{{ lookup('hostnative.devpi.secret', 'op://vault/devpi-dev/password') }}"}
    owner: dev
    mode: "0600"
"""

RETURN = r"""
path:
  description: The file.
  returned: always
  type: str
  sample: /etc/pip.conf
"""

import contextlib
import os
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._config_merge import MergeError, merge_ini, merge_toml

MASK = "********"


def _merge(fmt, text, settings, path):
    if fmt == "ini":
        return merge_ini(text, settings)
    return merge_toml(text, settings, path)


def _secret_values(secret_settings):
    return [str(value) for values in secret_settings.values() for value in (values or {}).values() if value]


def _masked(text, secrets):
    for secret in secrets:
        text = text.replace(secret, MASK)
    return text


def _write(path, text):
    """Replace `path` with `text` atomically. The content goes to a private (0600) file beside the target that then
    replaces it: a file holding a password is never readable by others, not even for a moment. An existing file's
    mode and owner carry over."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    handle, temp = tempfile.mkstemp(dir=directory, prefix=".client_config.")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        if os.path.exists(path):
            current = os.stat(path)
            with contextlib.suppress(PermissionError):  # not root: the file stays ours, as it was
                os.chown(temp, current.st_uid, current.st_gid)
            os.chmod(temp, current.st_mode & 0o7777)
        os.replace(temp, path)
    finally:
        if os.path.exists(temp):
            os.unlink(temp)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "format": {"type": "str", "choices": ["ini", "toml"], "required": True},
            "settings": {"type": "dict", "default": {}},
            "secret_settings": {"type": "dict", "default": {}, "no_log": True},
        },
        add_file_common_args=True,
        supports_check_mode=True,
    )
    path = module.params["path"]
    fmt = module.params["format"]
    for name in ("settings", "secret_settings"):
        for section, values in module.params[name].items():
            if not isinstance(values, dict):
                module.fail_json(msg=f"{name}: section {section!r} must be a mapping of key to value")

    before = ""
    if os.path.exists(path):
        with open(path, encoding="utf-8") as handle:
            before = handle.read()
    try:
        after = _merge(fmt, before, module.params["settings"], path)
        after = _merge(fmt, after, module.params["secret_settings"], path)
    except MergeError as exc:
        module.fail_json(msg=str(exc), path=path)

    changed = after != before or not os.path.exists(path)
    secrets = _secret_values(module.params["secret_settings"])
    result = {"changed": changed, "path": path}
    if module._diff:
        result["diff"] = {
            "before_header": path,
            "after_header": path,
            "before": _masked(before, secrets),
            "after": _masked(after, secrets),
        }

    if changed and not module.check_mode:
        _write(path, after)

    file_args = module.load_file_common_arguments(module.params)
    if os.path.exists(path) or not module.check_mode:
        result["changed"] = module.set_fs_attributes_if_different(file_args, result["changed"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
