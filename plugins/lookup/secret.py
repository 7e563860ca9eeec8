# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: secret
author:
  - hostnative.devpi contributors (@hostnative)
version_added: 1.0.0
short_description: Read secrets by 1Password reference (op://vault/item/[section/]field)
description:
  - Returns the value of each secret reference, from 1Password Connect (V(connect)), the C(op) CLI (V(cli)),
    environment variables (V(env)) or a YAML file (V(file)).
  - Vaults, items, sections and fields are matched by name (case-insensitive) or ID; exactly one must match,
    otherwise the error says how many did. A missing field is an error, never an empty string; an empty value is
    an error unless O(allow_empty).
  - Errors name the reference, the backend and the cause (HTTP status, not found, how many matched, connection
    refused, timeout); they never contain a secret value or a token.
  - A query suffix (C(?attribute=otp), C(?ssh-format=openssh)) goes to C(op read) as it is (V(cli) only; the other
    backends refuse it).
  - Several fields of one item cost one fetch within one lookup call. Lookups run once per host and task, so a play
    with several hosts should resolve each secret once (C(run_once) + C(set_fact) + C(no_log)).
  - Any task that uses the value needs C(no_log); give the Connect token through the environment, not inline
    (Ansible repeats the lookup expression in error output).
options:
  _terms:
    description: Secret references, C(op://<vault>/<item>/[<section>/]<field>[?<query>]).
    required: true
    type: list
    elements: str
  backend:
    description: Where secrets come from.
    type: str
    choices: [connect, cli, env, file]
    default: connect
    env:
      - name: DEVPI_SECRET_BACKEND
    vars:
      - name: devpi_secret_backend
  connect_host:
    description: URL of the 1Password Connect server (V(connect)).
    type: str
    env:
      - name: OP_CONNECT_HOST
    vars:
      - name: devpi_secret_connect_host
  connect_token:
    description: 1Password Connect token (V(connect)). Prefer the environment variable.
    type: str
    env:
      - name: OP_CONNECT_TOKEN
  ca_file:
    description: PEM bundle to verify the Connect server's certificate with (V(connect)).
    type: path
    env:
      - name: OP_CONNECT_CA_FILE
    vars:
      - name: devpi_secret_ca_file
  timeout:
    description: Seconds to wait for the Connect server's answer, per request (V(connect)).
    type: float
    default: 10
    env:
      - name: DEVPI_SECRET_TIMEOUT
    vars:
      - name: devpi_secret_timeout
  retries:
    description: Connection retries to the Connect server (V(connect)).
    type: int
    default: 2
    env:
      - name: DEVPI_SECRET_RETRIES
    vars:
      - name: devpi_secret_retries
  op_path:
    description: The C(op) executable, a name on PATH or a path (V(cli)).
    type: str
    default: op
    env:
      - name: DEVPI_SECRET_OP_PATH
    vars:
      - name: devpi_secret_op_path
  op_account:
    description:
      - The 1Password account C(op) reads from, passed as C(--account) (V(cli)) - a sign-in address such as
        V(my.1password.com), an email or an account ID - when several accounts are signed in. Unset, C(op) uses
        C(OP_ACCOUNT) from the environment or its default account. Not used with a service account token.
    type: str
    env:
      - name: DEVPI_SECRET_OP_ACCOUNT
    vars:
      - name: devpi_secret_op_account
  op_timeout:
    description:
      - Seconds to wait for one C(op read) (V(cli)). Long enough for the desktop app's Touch ID or password prompt.
    type: float
    default: 60
    env:
      - name: DEVPI_SECRET_OP_TIMEOUT
    vars:
      - name: devpi_secret_op_timeout
  env_prefix:
    description:
      - Prefix of the environment variable names (V(env)). C(op://Dev Vault/devpi/root password) is read from
        C(<prefix>_DEV_VAULT_DEVPI_ROOT_PASSWORD) (upper case, every run of other characters becomes C(_)).
    type: str
    default: OP_SECRET
    env:
      - name: DEVPI_SECRET_ENV_PREFIX
    vars:
      - name: devpi_secret_env_prefix
  file:
    description:
      - YAML file mapping references to values (V(file)). It must not be readable by group or others.
    type: path
    env:
      - name: DEVPI_SECRET_FILE
    vars:
      - name: devpi_secret_file
  allow_empty:
    description: Return an empty value instead of failing.
    type: bool
    default: false
    vars:
      - name: devpi_secret_allow_empty
requirements:
  - onepasswordconnectsdk>=2.1.0,<2.2 on the controller (V(connect) backend)
  - 1Password's CLI C(op) 2.x on the controller (V(cli) backend), signed in through the desktop app or given a
    service account token in C(OP_SERVICE_ACCOUNT_TOKEN)
notes:
  - Service accounts - C(OP_SERVICE_ACCOUNT_TOKEN) in the controller's environment, V(cli) backend; C(op) reads it
    itself, so the token is never an argument or an Ansible variable. A service account sees only the vaults it was
    granted.
  - Setup, item and field names - docs/how-to/1password.md in the collection's repository.
"""

EXAMPLES = r"""
- name: Resolve devpi's root password once for the whole play
  ansible.builtin.set_fact:
    devpi_root_password: "{{ lookup('hostnative.devpi.secret', 'op://devpi/devpi/root password') }}"
  run_once: true
  no_log: true

- name: Several fields of one item (one fetch)
  ansible.builtin.set_fact:
    devpi_upload: >-
      {{ query('hostnative.devpi.secret', 'op://devpi/uploader/username', 'op://devpi/uploader/password') }}
  no_log: true

- name: In CI, from a 0600 YAML file of reference -> value
  ansible.builtin.set_fact:
    devpi_root_password: >-
      {{ lookup('hostnative.devpi.secret', 'op://devpi/devpi/root password', backend='file', file='ci-secrets.yml') }}
  no_log: true
"""

RETURN = r"""
_raw:
  description: The values, in the order of the references.
  type: list
  elements: str
"""

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import SecretError, fail, parse_reference


def make_backend(get):
    """The backend the options ask for (imported here so that each backend's dependencies load only when used)."""
    name = get("backend")
    if name == "connect":
        from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_connect import (  # noqa: PLC0415 - optional SDK
            ConnectBackend,
        )

        return ConnectBackend(get("connect_host"), get("connect_token"), get("ca_file"), get("timeout"), get("retries"))
    if name == "cli":
        from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_cli import CliBackend  # noqa: PLC0415 - see above

        return CliBackend(get("op_path"), get("op_timeout"), get("op_account"))
    from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_static import (  # noqa: PLC0415 - see above
        EnvBackend,
        FileBackend,
    )

    return EnvBackend(get("env_prefix")) if name == "env" else FileBackend(get("file"))


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        backend_name = self.get_option("backend")
        try:
            refs = [parse_reference(term) for term in terms]
            for ref in refs:
                if ref.query and backend_name != "cli":
                    raise fail(ref, backend_name, "a query suffix (?...) is read by op only: use the cli backend")
            backend = make_backend(self.get_option)
            values = []
            for ref in refs:
                value = backend.read(ref)
                if not value and not self.get_option("allow_empty"):
                    raise fail(ref, backend_name, "the value is empty (set allow_empty to accept that)")
                values.append(value if value is not None else "")
        except SecretError as exc:
            raise AnsibleLookupError(str(exc)) from None
        return values
