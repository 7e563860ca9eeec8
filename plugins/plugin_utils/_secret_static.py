# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `env` and `file` backends, for CI and local testing: secrets from environment variables or a YAML map."""

from __future__ import annotations

import os
import re
import stat

import yaml
from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import SecretError, fail


def env_name(prefix, ref):
    """op://Dev Vault/devpi/root password -> <PREFIX>_DEV_VAULT_DEVPI_ROOT_PASSWORD"""
    parts = [ref.vault, ref.item] + ([ref.section] if ref.section else []) + [ref.field]
    return "_".join([prefix] + [re.sub(r"[^A-Z0-9]+", "_", part.upper()).strip("_") for part in parts])


class EnvBackend:
    NAME = "env"

    def __init__(self, prefix="OP_SECRET", environ=None):
        self.prefix = prefix
        self.environ = os.environ if environ is None else environ

    def read(self, ref):
        name = env_name(self.prefix, ref)
        if name not in self.environ:
            raise fail(ref, self.NAME, f"environment variable {name} is not set")
        return self.environ[name]


class FileBackend:
    """A YAML mapping of reference -> value; references compare case-insensitively, like 1Password's."""

    NAME = "file"

    def __init__(self, path):
        if not path:
            raise SecretError("the file backend needs a file: set DEVPI_SECRET_FILE or the file option")
        try:
            mode = os.stat(path).st_mode
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle)
        except OSError as exc:
            raise SecretError(f"the file backend cannot read {path}: {exc.strerror}") from exc
        except yaml.YAMLError as exc:
            raise SecretError(f"the file backend cannot parse {path} as YAML (line {_line(exc)})") from exc
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise SecretError(
                f"the file backend refuses {path}: mode {stat.S_IMODE(mode):04o} lets others read it; chmod 600"
            )
        if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
            raise SecretError(f"the file backend needs {path} to be a mapping of op:// references to values")
        self.values = {key.casefold(): value for key, value in data.items()}

    def read(self, ref):
        key = ref.text.casefold()
        if key not in self.values:
            raise fail(ref, self.NAME, "not in the secrets file")
        value = self.values[key]
        if value is not None and not isinstance(value, str):
            raise fail(ref, self.NAME, f"the value is a {type(value).__name__}, not a string; quote it in the file")
        return value


def _line(exc):
    mark = getattr(exc, "problem_mark", None)
    return mark.line + 1 if mark else "?"
