"""In-process runs of this collection's modules: main() with patched module arguments (run_main), and for the devpi
API modules a recording stand-in for devpi's HTTP API (the modules against a real devpi-server are tested in
tests/integration)."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

CONNECTION = {"url": "http://127.0.0.1:3141", "login_password": "not-a-real-secret"}


class Server:
    """devpi's resources by path ('/user', '/user/index' -> their JSON result); records every write. Users log in
    with the passwords in `passwords`."""

    def __init__(self, resources=None, passwords=None):
        self.resources = {path: dict(result) for path, result in (resources or {}).items()}
        self.passwords = dict(passwords or {})
        self.writes = []

    def get(self, path):
        return dict(self.resources[path]) if path in self.resources else None

    def request(self, method, path, body=None, **_kwargs):
        self.writes.append((method, path, body))
        if method == "PUT":
            self.resources[path] = {key: value for key, value in dict(body).items() if key != "password"}
        elif method == "PATCH" and isinstance(body, dict):
            self.resources[path].update({key: value for key, value in body.items() if key != "password"})
        elif method == "PATCH":  # devpi's key=value list form
            for item in body:
                key, _eq, value = item.partition("=")
                self.resources[path][key] = value == "True"
        elif method == "DELETE":
            del self.resources[path]
        return 200, {}

    def all_indexes(self):
        return {path.lstrip("/"): result for path, result in self.resources.items() if path.count("/") == 2}

    def can_login(self, user, password):
        return self.passwords.get(user) == password


def run_main(module, capsys, args, secrets=()):
    """A module's main() with `args` as its arguments: its result, with `rc` its exit status. Each of `secrets` must
    be among the values Ansible masks in the module's output and logs - what its argument spec marks no_log."""
    masked = set()
    init = module.AnsibleModule.__init__

    def recording_init(self, *init_args, **init_kwargs):
        try:
            init(self, *init_args, **init_kwargs)
        finally:  # also when the arguments are refused there (fail_json)
            masked.update(getattr(self, "no_log_values", ()))

    module.AnsibleModule.__init__ = recording_init
    try:
        with patch_module_args(args), pytest.raises(SystemExit) as exited:
            module.main()
    finally:
        module.AnsibleModule.__init__ = init
    result = json.loads(capsys.readouterr().out)
    result["rc"] = exited.value.code
    unmasked = [secret for secret in secrets if secret and secret not in masked]
    if unmasked:
        raise AssertionError(f"{len(unmasked)} secret argument(s) of {module.__name__} are not no_log")
    return result


def runner(module, monkeypatch, capsys):
    """A function (server, check_mode=False, **params) -> the module's result, against the stand-in `server`."""

    def run(server, check_mode=False, **params):
        monkeypatch.setattr(module.DevpiClient, "from_module", classmethod(lambda _cls, _module: server))
        args = {**CONNECTION, **params, "_ansible_check_mode": check_mode}
        return run_main(module, capsys, args, secrets=[args["login_password"], params.get("password")])

    return run
