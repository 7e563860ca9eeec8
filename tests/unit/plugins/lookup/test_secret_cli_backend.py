"""The cli backend in process: `op` (1Password's CLI, not installable here) is a stand-in for the process the
backend starts, answering `op [--account A] read --no-newline REF` as op 2 does. The backend with a stand-in
executable on PATH is in tests/integration/plugins/test_secret_lookup.py."""

from __future__ import annotations

import types

import pytest
from ansible_collections.hostnative.devpi.plugins.plugin_utils import _secret_cli
from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import SecretError, parse_reference

VALUE = "cli-Secret-Value-9"


@pytest.fixture
def op(monkeypatch):
    """Every argv op was started with; answers from `known`, or op's error for an unknown reference."""
    calls = []
    known = {"op://devpi/devpi/root password": VALUE, "op://devpi/github/otp?attribute=otp": "123456"}

    def run(argv, timeout, **_kwargs):
        calls.append((argv, timeout))
        reference = argv[-1]
        if reference.startswith("op://devpi/slow/"):
            raise _secret_cli.subprocess.TimeoutExpired(argv, timeout)
        if reference in known:
            return types.SimpleNamespace(returncode=0, stdout=known[reference], stderr="")
        return types.SimpleNamespace(
            returncode=1, stdout="", stderr="[ERROR] 2026/12/03 could not read secret:\n  not found\n"
        )

    monkeypatch.setattr(_secret_cli.shutil, "which", lambda name: f"/usr/local/bin/{name}" if name == "op" else None)
    monkeypatch.setattr(_secret_cli.subprocess, "run", run)
    return calls


def read(backend, text):
    return backend.read(parse_reference(text))


def test_reads_once_per_reference_with_the_reference_whole(op):
    backend = _secret_cli.CliBackend()
    assert [read(backend, "op://devpi/devpi/root password") for _attempt in range(2)] == [VALUE, VALUE]
    assert read(backend, "op://devpi/github/otp?attribute=otp") == "123456"
    assert op == [
        (["/usr/local/bin/op", "read", "--no-newline", "op://devpi/devpi/root password"], 60.0),
        (["/usr/local/bin/op", "read", "--no-newline", "op://devpi/github/otp?attribute=otp"], 60.0),
    ]


def test_an_account_goes_before_the_command(op):
    read(_secret_cli.CliBackend(account="team.1password.com"), "op://devpi/devpi/root password")
    assert op[0][0][:4] == ["/usr/local/bin/op", "--account", "team.1password.com", "read"]


def test_ops_error_is_folded_into_one_line(op):
    with pytest.raises(SecretError) as info:
        read(_secret_cli.CliBackend(), "op://devpi/ghost/password")
    assert str(info.value) == (
        "secret op://devpi/ghost/password (cli backend): op read failed: [ERROR] 2026/12/03 could not read secret: "
        "not found"
    )


def test_a_prompt_nobody_answers_times_out_saying_which_variable_to_raise(op):
    with pytest.raises(SecretError) as info:
        read(_secret_cli.CliBackend(timeout=1.5), "op://devpi/slow/password")
    assert str(info.value) == (
        "secret op://devpi/slow/password (cli backend): op read gave no answer within 1.5 s (devpi_secret_op_timeout)"
    )


def test_without_op_on_path(monkeypatch):
    monkeypatch.setattr(_secret_cli.shutil, "which", lambda _name: None)
    with pytest.raises(SecretError, match="'op' was not found on PATH"):
        _secret_cli.CliBackend()
