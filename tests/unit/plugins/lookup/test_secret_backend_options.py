"""Which lookup option feeds which backend argument: the lookup's run() through Ansible's plugin loader, with each
backend class replaced by a recorder of its constructor's arguments (what each backend does with them is tested in
test_secret_{connect,cli,file}_backend.py and test_secret_lookup_run.py)."""

from __future__ import annotations

import pytest
from ansible.plugins.loader import lookup_loader
from ansible_collections.hostnative.devpi.plugins.plugin_utils import _secret_cli, _secret_connect, _secret_static

REFERENCE = "op://dev/devpi/root password"


def recorder(calls):
    class Recorder:
        def __init__(self, *args):
            calls.append((type(self).__name__, args))

        @staticmethod
        def read(_ref):
            return "a-value"

    return Recorder


@pytest.fixture
def made(monkeypatch):
    """The (backend class, constructor arguments) the lookup made, per run."""
    calls = []
    for module, name in (
        (_secret_connect, "ConnectBackend"),
        (_secret_cli, "CliBackend"),
        (_secret_static, "EnvBackend"),
        (_secret_static, "FileBackend"),
    ):
        monkeypatch.setattr(module, name, type(name, (recorder(calls),), {}))
    return calls


def run(variables=None, **options):
    plugin = lookup_loader.get("hostnative.devpi.secret")
    return plugin.run([REFERENCE], variables=variables or {}, **options)


def test_connect_gets_host_token_ca_file_timeout_and_retries(made):
    options = {"connect_host": "https://connect.test", "connect_token": "tok", "ca_file": "/ca.pem"}
    assert run(backend="connect", timeout=7.5, retries=4, **options) == ["a-value"]
    assert made == [("ConnectBackend", ("https://connect.test", "tok", "/ca.pem", 7.5, 4))]


def test_connect_is_the_default_backend_with_documented_defaults(made, monkeypatch):
    for name in ("DEVPI_SECRET_BACKEND", "OP_CONNECT_HOST", "OP_CONNECT_TOKEN", "OP_CONNECT_CA_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OP_CONNECT_HOST", "http://env-host:8080")
    monkeypatch.setenv("OP_CONNECT_TOKEN", "env-token")
    run()
    assert made == [("ConnectBackend", ("http://env-host:8080", "env-token", None, 10.0, 2))]


def test_cli_gets_op_path_timeout_and_account(made):
    run(backend="cli", op_path="/opt/op", op_timeout=12.0, op_account="team.1password.com")
    assert made == [("CliBackend", ("/opt/op", 12.0, "team.1password.com"))]


def test_cli_defaults(made):
    run(variables={"devpi_secret_backend": "cli"})
    assert made == [("CliBackend", ("op", 60.0, None))]


def test_env_gets_the_prefix(made):
    run(backend="env", env_prefix="CI")
    run(backend="env")
    assert made == [("EnvBackend", ("CI",)), ("EnvBackend", ("OP_SECRET",))]


def test_file_gets_the_file(made):
    run(backend="file", file="/etc/devpi-secrets.yml")
    assert made == [("FileBackend", ("/etc/devpi-secrets.yml",))]
