"""The hostnative.devpi.secret lookup, loaded through Ansible's plugin loader.

connect: the REAL onepasswordconnectsdk against fake_connect.FakeConnect (Connect is a hosted service; the fake
speaks its REST API on an ephemeral loopback port). cli: a stand-in `op` on PATH (1Password's CLI is not installed
here) that records its argv and environment. env and file: real environment variables and files.
Every error test checks that no secret value and no token appear in the message.
"""

from __future__ import annotations

import json
import os
import socket
import stat

import pytest
from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader
from fake_connect import API_KEY, ROOT_PASSWORD, TOKEN, UPLOAD_PASSWORD, FakeConnect

SECRETS = (
    ROOT_PASSWORD,
    API_KEY,
    UPLOAD_PASSWORD,
    TOKEN,
    "dup-one",
    "dup-two",
    "file-secret-value",
    "env-secret-value",
    "cli-secret-value",
)


@pytest.fixture(scope="module")
def lookup(collections_root):
    plugin = lookup_loader.get("hostnative.devpi.secret")
    assert plugin is not None

    def run(*terms, **options):
        return plugin.run(list(terms), variables={}, **options)

    return run


@pytest.fixture
def connect():
    fake = FakeConnect()
    yield fake
    fake.close()


def conn(fake, **extra):
    return {"backend": "connect", "connect_host": fake.url, "connect_token": TOKEN, "timeout": 2, "retries": 0, **extra}


def error_of(call):
    with pytest.raises(AnsibleLookupError) as info:
        call()
    message = str(info.value)
    for secret in SECRETS:
        assert secret not in message, f"{secret!r} leaked into: {message}"
    return message


# ---- connect --------------------------------------------------------------------------------------------------------


def test_reads_a_field_by_names_and_by_ids(lookup, connect):
    assert lookup("op://devpi/devpi/root password", **conn(connect)) == [ROOT_PASSWORD]
    assert lookup("op://DEVPI/Devpi/Root Password", **conn(connect)) == [ROOT_PASSWORD]
    by_ids = "op://ytrfte14kw1uex5txaore1emkz/2fcbqwe9ndg175zg2dzwftvkpa/password"
    assert lookup(by_ids, **conn(connect)) == [ROOT_PASSWORD]


def test_several_fields_of_one_item_cost_one_fetch(lookup, connect):
    values = lookup(
        "op://devpi/devpi/username", "op://devpi/devpi/root password", "op://devpi/devpi/admin/api key", **conn(connect)
    )
    assert values == ["root", ROOT_PASSWORD, API_KEY]
    item_fetches = [p for p in connect.requests if p.startswith("/v1/vaults/ytrfte14kw1uex5txaore1emkz/items/")]
    assert item_fetches == ["/v1/vaults/ytrfte14kw1uex5txaore1emkz/items/2fcbqwe9ndg175zg2dzwftvkpa"]
    assert connect.requests.count("/v1/vaults") == 1


def test_section_scoping(lookup, connect):
    assert lookup("op://devpi/devpi/admin/api key", **conn(connect)) == [API_KEY]
    message = error_of(lambda: lookup("op://devpi/devpi/admin/root password", **conn(connect)))
    assert message == "secret op://devpi/devpi/admin/root password (connect backend): field 'root password' not found"
    message = error_of(lambda: lookup("op://devpi/devpi/nosuch/api key", **conn(connect)))
    assert "section 'nosuch' not found" in message


def test_title_with_ampersand_and_plus(lookup, connect):
    assert lookup("op://devpi/R&D + Ops/password", **conn(connect)) == [UPLOAD_PASSWORD]


def test_wrong_token_is_a_401(lookup, connect):
    wrong = conn(connect, connect_token="nope-nope")
    message = error_of(lambda: lookup("op://devpi/devpi/root password", **wrong))
    assert message.startswith("secret op://devpi/devpi/root password (connect backend):")
    assert "401" in message
    assert "Invalid token signature" in message
    assert "nope-nope" not in message


def test_unknown_vault(lookup, connect):
    message = error_of(lambda: lookup("op://nope/devpi/root password", **conn(connect)))
    assert message.endswith(
        "vault 'nope' not found among the 2 vault(s) this Connect token can see (a token reads only the vaults it "
        "was granted: check the vault's name and the token's access)"
    )


def test_unknown_item_by_title_and_by_id(lookup, connect):
    assert error_of(lambda: lookup("op://devpi/ghost/password", **conn(connect))).endswith(
        "item 'ghost' in vault 'devpi' not found"
    )
    message = error_of(lambda: lookup("op://devpi/zzzzzzzzzzzzzzzzzzzzzzzzzz/password", **conn(connect)))
    assert "HTTP 404" in message
    assert "item not found" in message


def test_ambiguous_title_says_how_many(lookup, connect):
    message = error_of(lambda: lookup("op://devpi/dup/password", **conn(connect)))
    assert message.endswith("item 'dup' in vault 'devpi' is ambiguous (2 match); use its ID to pick one")


def test_missing_field_is_an_error_not_empty(lookup, connect):
    message = error_of(lambda: lookup("op://devpi/devpi/nosuchfield", **conn(connect)))
    assert message.endswith("field 'nosuchfield' not found")


def test_empty_value_needs_allow_empty(lookup, connect):
    message = error_of(lambda: lookup("op://devpi/devpi/notesPlain", **conn(connect)))
    assert "the value is empty" in message
    assert lookup("op://devpi/devpi/notesPlain", allow_empty=True, **conn(connect)) == [""]


def test_html_502_from_a_proxy(lookup, connect):
    connect.mode = "html502"
    message = error_of(lambda: lookup("op://devpi/devpi/root password", **conn(connect)))
    assert "not JSON (a proxy error page?)" in message


def test_timeout(lookup, connect):
    connect.mode, connect.delay = "slow", 3
    message = error_of(lambda: lookup("op://devpi/devpi/root password", **conn(connect, timeout=0.5)))
    assert message.endswith(f"no answer from {connect.url} within 0.5 s")


def test_connection_refused(lookup):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    options = {"backend": "connect", "connect_host": f"http://127.0.0.1:{port}", "connect_token": TOKEN, "retries": 0}
    message = error_of(lambda: lookup("op://devpi/devpi/root password", **options))
    assert f"cannot connect to http://127.0.0.1:{port}" in message


def test_missing_host_or_token(lookup, connect, monkeypatch):
    monkeypatch.delenv("OP_CONNECT_HOST", raising=False)
    monkeypatch.delenv("OP_CONNECT_TOKEN", raising=False)
    assert "set OP_CONNECT_HOST" in error_of(lambda: lookup("op://devpi/devpi/x", backend="connect"))
    assert "set OP_CONNECT_TOKEN" in error_of(
        lambda: lookup("op://devpi/devpi/x", backend="connect", connect_host=connect.url)
    )


def test_host_and_token_from_the_environment(lookup, connect, monkeypatch):
    monkeypatch.setenv("OP_CONNECT_HOST", connect.url)
    monkeypatch.setenv("OP_CONNECT_TOKEN", TOKEN)
    monkeypatch.setenv("DEVPI_SECRET_BACKEND", "connect")
    assert lookup("op://devpi/devpi/root password") == [ROOT_PASSWORD]


@pytest.mark.parametrize(
    "reference",
    [
        "devpi/devpi/root password",
        "op://devpi/root password",
        "op://devpi//root password",
        "op://a/b/c/d/e",
        "op://devpi/devpi/",
        "op:/devpi/devpi/x",
        "op://devpi/devpi/password?",
        "op://devpi/devpi/password?attribute",
        "op://devpi/devpi/password?attribute=otp&",
        "op://devpi/devpi/password?Attribute=otp",
        "op://devpi/devpi/password?attribute=o t p",
        "",
    ],
)
def test_malformed_references_show_the_expected_form(lookup, connect, reference):
    message = error_of(lambda: lookup(reference, **conn(connect)))
    assert message == (
        f"secret reference {reference!r} is malformed: expected op://<vault>/<item>/[<section>/]<field>[?<query>]"
    )
    assert connect.requests == []  # rejected before anything is fetched


@pytest.mark.parametrize("backend", ["connect", "env", "file"])
def test_a_query_suffix_is_the_cli_backends_only(lookup, connect, backend):
    options = conn(connect) if backend == "connect" else {"backend": backend}
    message = error_of(lambda: lookup("op://devpi/devpi/one-time password?attribute=otp", **options))
    assert message == (
        f"secret op://devpi/devpi/one-time password?attribute=otp ({backend} backend): a query suffix (?...) is read "
        "by op only: use the cli backend"
    )
    assert connect.requests == []


# ---- env and file ---------------------------------------------------------------------------------------------------


def test_env_backend(lookup, monkeypatch):
    monkeypatch.setenv("OP_SECRET_DEV_VAULT_DEVPI_ROOT_PASSWORD", "env-secret-value")
    assert lookup("op://Dev Vault/devpi/root password", backend="env") == ["env-secret-value"]
    message = error_of(lambda: lookup("op://Dev Vault/devpi/other", backend="env"))
    assert message.endswith("environment variable OP_SECRET_DEV_VAULT_DEVPI_OTHER is not set")


def write(path, text, mode=0o600):
    path.write_text(text)
    path.chmod(mode)
    return str(path)


def test_file_backend(lookup, tmp_path):
    path = write(tmp_path / "s.yml", '"op://devpi/devpi/root password": file-secret-value\n"op://x/y/n": 12\n')
    assert lookup("op://DEVPI/devpi/Root Password", backend="file", file=path) == ["file-secret-value"]
    assert error_of(lambda: lookup("op://devpi/devpi/nope", backend="file", file=path)).endswith(
        "not in the secrets file"
    )
    assert "not a string" in error_of(lambda: lookup("op://x/y/n", backend="file", file=path))


def test_file_backend_refuses_a_file_others_can_read(lookup, tmp_path):
    path = write(tmp_path / "s.yml", '"op://devpi/devpi/pw": file-secret-value\n', mode=0o644)
    message = error_of(lambda: lookup("op://devpi/devpi/pw", backend="file", file=path))
    assert "mode 0644 lets others read it" in message


def test_file_backend_yaml_error_shows_no_content(lookup, tmp_path):
    path = write(tmp_path / "s.yml", '"op://devpi/devpi/pw": file-secret-value\n  bad: [\n')
    message = error_of(lambda: lookup("op://devpi/devpi/pw", backend="file", file=path))
    assert "cannot parse" in message


# ---- cli ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def fake_op(tmp_path, monkeypatch):
    """A stand-in `op` (the real CLI is not installable here; 1Password's service is hosted): `op [--account A]
    read --no-newline REF` prints a value for the references it knows, as op 2 does; `op://devpi/slow/...` waits
    like a Touch ID prompt nobody answers. It records its argv and whether the service account token reached it."""
    log = tmp_path / "op-calls.jsonl"
    script = tmp_path / "op"
    script.write_text(
        "#!/usr/bin/env python3\n"
        "import json, os, sys, time\n"
        f"open({str(log)!r}, 'a').write(json.dumps({{'argv': sys.argv[1:], "
        "'token_in_env': 'OP_SERVICE_ACCOUNT_TOKEN' in os.environ}) + '\\n')\n"
        "args = sys.argv[1:]\n"
        "if args[:1] == ['--account']: args = args[2:]\n"
        "known = {'op://devpi/devpi/root password': 'cli-secret-value',\n"
        "         'op://devpi/devpi/one-time password?attribute=otp': '123456'}\n"
        "if args[:2] == ['read', '--no-newline'] and args[2].startswith('op://devpi/slow/'): time.sleep(30)\n"
        "if args[:2] == ['read', '--no-newline'] and args[2] in known:\n"
        "    sys.stdout.write(known[args[2]]); sys.exit(0)\n"
        "sys.stderr.write('[ERROR] could not read secret: item not found\\n'); sys.exit(1)\n"
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{tmp_path}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OP_SERVICE_ACCOUNT_TOKEN", TOKEN)
    return log


def test_cli_backend_reads_with_op_and_keeps_the_token_off_argv(lookup, fake_op):
    values = lookup("op://devpi/devpi/root password", "op://devpi/devpi/root password", backend="cli")
    assert values == ["cli-secret-value", "cli-secret-value"]
    calls = [json.loads(line) for line in fake_op.read_text().splitlines()]
    assert calls == [{"argv": ["read", "--no-newline", "op://devpi/devpi/root password"], "token_in_env": True}]


def test_cli_backend_passes_a_query_suffix_to_op_read(lookup, fake_op):
    assert lookup("op://devpi/devpi/one-time password?attribute=otp", backend="cli") == ["123456"]
    calls = [json.loads(line)["argv"] for line in fake_op.read_text().splitlines()]
    assert calls == [["read", "--no-newline", "op://devpi/devpi/one-time password?attribute=otp"]]


def test_cli_backend_picks_an_account(lookup, fake_op):
    assert lookup("op://devpi/devpi/root password", backend="cli", op_account="team.1password.com") == [
        "cli-secret-value"
    ]
    calls = [json.loads(line)["argv"] for line in fake_op.read_text().splitlines()]
    assert calls == [["--account", "team.1password.com", "read", "--no-newline", "op://devpi/devpi/root password"]]


def test_cli_backend_waits_op_timeout_then_says_so(lookup, fake_op):
    message = error_of(lambda: lookup("op://devpi/slow/password", backend="cli", op_timeout=0.5))
    assert message == (
        "secret op://devpi/slow/password (cli backend): op read gave no answer within 0.5 s (devpi_secret_op_timeout)"
    )


def test_cli_timeout_defaults_to_a_minute_for_a_touch_id_prompt():
    plugin = lookup_loader.get("hostnative.devpi.secret")
    plugin.set_options(var_options={}, direct={})
    assert (plugin.get_option("op_timeout"), plugin.get_option("timeout")) == (60, 10)
    plugin.set_options(var_options={"devpi_secret_op_timeout": 120}, direct={})
    assert plugin.get_option("op_timeout") == 120


def test_cli_backend_error(lookup, fake_op):
    message = error_of(lambda: lookup("op://devpi/ghost/password", backend="cli"))
    assert message.endswith("op read failed: [ERROR] could not read secret: item not found")


def test_cli_backend_without_op(lookup, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    assert "'op' was not found on PATH" in error_of(lambda: lookup("op://a/b/c", backend="cli"))
