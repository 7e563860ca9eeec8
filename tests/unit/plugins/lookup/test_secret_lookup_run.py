"""The secret lookup's run() in process, through Ansible's plugin loader, with the env and file backends (the
connect and cli backends need a server or a process: tests/integration/plugins/test_secret_lookup.py)."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

VALUE = "env-Secret-Value-7"


@pytest.fixture
def lookup():
    plugin = lookup_loader.get("hostnative.devpi.secret")
    assert plugin is not None

    def run(*terms, variables=None, **options):
        return plugin.run(list(terms), variables=variables or {}, **options)

    return run


def error_of(call):
    with pytest.raises(AnsibleLookupError) as info:
        call()
    assert VALUE not in str(info.value)
    return str(info.value)


def test_env_backend_reads_every_reference_in_order(lookup, monkeypatch):
    monkeypatch.setenv("OP_SECRET_DEV_VAULT_DEVPI_ROOT_PASSWORD", VALUE)
    monkeypatch.setenv("OP_SECRET_DEV_VAULT_UPLOADER_TOKEN", "t")
    refs = ("op://Dev Vault/devpi/root password", "op://Dev Vault/uploader/token", "op://dev-vault/devpi/root-password")
    assert lookup(*refs, backend="env") == [VALUE, "t", VALUE]


def test_the_backend_and_prefix_come_from_variables(lookup, monkeypatch):
    monkeypatch.setenv("CI_DEV_DEVPI_ROOT_PASSWORD", VALUE)
    variables = {"devpi_secret_backend": "env", "devpi_secret_env_prefix": "CI"}
    assert lookup("op://dev/devpi/root password", variables=variables) == [VALUE]


def test_an_empty_value_needs_allow_empty(lookup, monkeypatch):
    monkeypatch.setenv("OP_SECRET_DEV_DEVPI_ROOT_PASSWORD", "")
    message = error_of(lambda: lookup("op://dev/devpi/root password", backend="env"))
    assert message == (
        "secret op://dev/devpi/root password (env backend): the value is empty (set allow_empty to accept that)"
    )
    assert lookup("op://dev/devpi/root password", backend="env", allow_empty=True) == [""]


def test_a_query_suffix_is_refused_by_name_before_any_backend_reads(lookup, monkeypatch):
    monkeypatch.setenv("OP_SECRET_DEV_DEVPI_OTP", VALUE)
    message = error_of(lambda: lookup("op://dev/devpi/otp?attribute=otp", backend="env"))
    assert message == (
        "secret op://dev/devpi/otp?attribute=otp (env backend): a query suffix (?...) is read by op only: use the cli "
        "backend"
    )


def test_a_malformed_reference_fails_before_any_read(lookup):
    message = error_of(lambda: lookup("op://dev//root password", backend="env"))
    assert message.startswith("secret reference 'op://dev//root password' is malformed")


def test_file_backend_through_the_lookup(lookup, tmp_path):
    path = tmp_path / "secrets.yml"
    path.write_text(f"'op://dev/devpi/root password': {VALUE}\n")
    path.chmod(0o600)
    assert lookup("op://dev/devpi/root password", backend="file", file=str(path)) == [VALUE]
    path.chmod(0o644)
    assert "mode 0644 lets others read it; chmod 600" in error_of(
        lambda: lookup("op://dev/devpi/root password", backend="file", file=str(path))
    )
