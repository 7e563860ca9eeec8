"""devpi_seed's tokens for real: the role run with ansible-playbook against a REAL devpi-server with the real
devpi-tokens plugin (the session devpi of conftest.py), one token handed over in a 0600 file on the controller and
one in a 1Password item through fake_connect.FakeConnect (Connect is a hosted service that cannot run here; the fake
speaks its REST API). Both tokens upload for real; a second run changes nothing; state: absent revokes; a lost
file gets a new token. No token appears in the output, also at -vvv."""

from __future__ import annotations

import json
import re
import uuid

import pytest
import yaml
from conftest import ROOT_PASSWORD, ansible_playbook, api, role_playbook, upload_allowed
from fake_connect import TOKEN, VAULT, FakeConnect
from onepasswordconnectsdk.client import new_client

TOKEN_PATTERN = re.compile(r"devpi-[A-Za-z0-9_-]{40,}")


@pytest.fixture
def connect():
    fake = FakeConnect()
    yield fake
    fake.close()


@pytest.fixture
def seed(tmp_path, devpi_url, connect):
    owner = f"s{uuid.uuid4().hex[:10]}"
    playbook = role_playbook(tmp_path, "devpi_seed", gather_facts=False)
    file_token = tmp_path / "ci.token"

    def run(tokens=None, verbosity=0):
        variables = {
            "devpi_seed_url": devpi_url,
            "devpi_seed_root_password": ROOT_PASSWORD,
            "devpi_seed_users": [{"name": owner, "password": "owner-Pass-1"}],
            "devpi_seed_indexes": [{"name": f"{owner}/dev", "bases": []}],
            "devpi_seed_tokens_state_file": str(tmp_path / "tokens.json"),
            "devpi_seed_tokens": tokens
            if tokens is not None
            else [
                {"name": "ci", "user": owner, "indexes": [f"{owner}/dev"], "dest": str(file_token)},
                {"name": "op", "user": owner, "store": "onepassword", "vault": VAULT["name"], "item": f"{owner} token"},
            ],
        }
        vars_file = tmp_path / "vars.yml"
        vars_file.write_text(yaml.safe_dump(variables))
        env = {"OP_CONNECT_HOST": connect.url, "OP_CONNECT_TOKEN": TOKEN}
        rc, output = ansible_playbook(playbook, vars_file, verbosity=verbosity, env=env)
        assert not TOKEN_PATTERN.search(output), "a token in the output"
        return rc, output

    run.owner, run.file_token = owner, file_token
    return run


def from_1password(connect, title):
    item = new_client(connect.url, TOKEN).get_item_by_title(title, VAULT["id"])
    return {field.label: field.value for field in item.fields}["credential"]


def test_tokens_are_handed_over_kept_and_revoked(seed, connect, devpi_url):
    rc, output = seed(verbosity=3)
    assert rc == 0, output
    assert seed.file_token.stat().st_mode & 0o777 == 0o600
    in_file = seed.file_token.read_text().strip()
    in_1password = from_1password(connect, f"{seed.owner} token")
    assert in_file != in_1password
    for token in (in_file, in_1password):
        assert upload_allowed(devpi_url, seed.owner, token, f"{seed.owner}/dev")
    again, output = seed()
    assert again == 0, output
    assert re.search(r"localhost\s*: ok=\d+\s+changed=0 ", output), output
    assert seed.file_token.read_text().strip() == in_file
    # a lost file: a new token, the old one revoked
    seed.file_token.unlink()
    assert seed()[0] == 0
    renewed = seed.file_token.read_text().strip()
    assert renewed != in_file
    assert not upload_allowed(devpi_url, seed.owner, in_file, f"{seed.owner}/dev")
    assert upload_allowed(devpi_url, seed.owner, renewed, f"{seed.owner}/dev")
    # revoked by name
    rc, output = seed([{"name": "op", "user": seed.owner, "state": "absent"}])
    assert rc == 0, output
    assert not upload_allowed(devpi_url, seed.owner, in_1password, f"{seed.owner}/dev")
    state = json.loads((seed.file_token.parent / "tokens.json").read_text())
    assert sorted(state["tokens"]) == ["ci"]
    assert api(f"{devpi_url}/{seed.owner}/+tokens", auth=("root", ROOT_PASSWORD))[0] == 200
