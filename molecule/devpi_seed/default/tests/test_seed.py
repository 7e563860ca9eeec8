"""devpi_seed verified with real clients inside the container: logins, the tree as devpi-client reports it, twine
and devpi-client uploads, inheritance stable -> staging.

The expected tree and secret references are read from the example inventories the converge deployed; the
passwords from the FAKE 1Password Connect server's store (Connect is a hosted service that cannot run here; see
tests/harness/fake_connect.py). This suite runs twice: before and after side_effect.yml rotated root's password.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import uuid
from pathlib import Path

import pytest
import yaml
from devpi_testinfra import build_project, install_clients

REPO = Path(__file__).resolve().parents[4]
EXAMPLES = [REPO / "inventories" / "examples" / name / "group_vars/devpi_servers.yml" for name in ("seed", "runbook")]
URL = "http://127.0.0.1:3141"
MIRROR = f"{URL}/root/pypi/+simple/"
# uv itself (also `uv venv --seed`) fetches through the mirror, never from pypi.org directly.
UV = f"UV_INDEX_URL={MIRROR} /opt/devpi/bin/uv"
CLIENTS = "/opt/clients"
REFERENCE = re.compile(r"op://([^/]+)/([^/]+)/([^'\"]+)")


def _examples():
    return [yaml.safe_load(path.read_text()) for path in EXAMPLES]


def _resolve(template, store):
    vault, item, field = REFERENCE.search(template).groups()
    return store["vaults"][vault][item][field]


@pytest.fixture(scope="module")
def store():
    return json.loads((Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"]) / "connect-store.json").read_text())


@pytest.fixture(scope="module")
def passwords(store):
    found = {"root": _resolve(_examples()[0]["devpi_server_root_password"], store)}
    for example in _examples():
        for user in example["devpi_seed_users"]:
            found[user["name"]] = _resolve(user["password"], store)
    return found


@pytest.fixture(scope="module")
def clients(host):
    """twine and devpi-client, installed THROUGH the deployed mirror (root/pypi) into a venv of their own."""
    return install_clients(host, CLIENTS, UV, MIRROR)


@pytest.fixture(scope="module")
def wheel(host):
    """A freshly built wheel and sdist of a unique project (build dependencies come through the mirror)."""
    return build_project(host, "seedpkg", UV, MIRROR)


def test_every_user_logs_in_with_the_password_from_the_store(api, passwords):
    assert set(passwords) == {"root", "eblume", "packages"}
    for user, password in passwords.items():
        assert api.call("POST", "/+login", {"user": user, "password": password})[0] == 200, user
        assert api.call("POST", "/+login", {"user": user, "password": password + "x"})[0] == 401, user


def test_the_tree_as_devpi_client_reports_it(host, clients):
    clientdir = f"/tmp/devpi-client-{uuid.uuid4().hex[:8]}"
    host.check_output(f"{clients}/devpi use --clientdir {clientdir} {URL}")
    expected = {index["name"]: index for example in _examples() for index in example["devpi_seed_indexes"]}
    assert set(expected) == {"eblume/dev", "packages/stable", "packages/staging", "packages/develop"}
    for name, index in expected.items():
        reported = json.loads(host.check_output(f"{clients}/devpi getjson --clientdir {clientdir} /{name}"))["result"]
        owner = name.split("/")[0]
        assert reported["type"] == "stage", name
        assert reported["bases"] == index["bases"], name
        assert reported["volatile"] is index["volatile"], name
        # devpi's default acl_upload is the owner; the runbook relies on it.
        assert reported["acl_upload"] == index.get("acl_upload", [owner]), name


def twine(host, clients, index, dist, credentials=None):
    env = ""
    if credentials:
        env = f"TWINE_USERNAME={shlex.quote(credentials[0])} TWINE_PASSWORD={shlex.quote(credentials[1])} "
    return host.run(
        f"{env}{clients}/twine upload --non-interactive --disable-progress-bar "
        f"--repository-url {URL}/{index}/ {dist}/*.whl"
    )


def test_twine_upload_needs_credentials(host, clients, wheel, passwords, api):
    name, dist = wheel
    anonymous = twine(host, clients, "packages/stable", dist)
    assert anonymous.rc != 0
    stranger = twine(host, clients, "packages/stable", dist, ("eblume", passwords["eblume"]))
    assert stranger.rc != 0
    assert "403" in stranger.stdout + stranger.stderr  # eblume is not in packages/stable's acl_upload
    assert api.call("GET", f"/packages/stable/{name}")[0] == 404
    uploaded = twine(host, clients, "packages/stable", dist, ("packages", passwords["packages"]))
    assert uploaded.rc == 0, uploaded.stdout + uploaded.stderr
    assert api.call("GET", f"/packages/stable/{name}")[0] == 200


def test_devpi_client_upload_is_refused_anonymously(host, clients, wheel):
    _name, dist = wheel
    clientdir = f"/tmp/devpi-anon-{uuid.uuid4().hex[:8]}"
    host.check_output(f"{clients}/devpi use --clientdir {clientdir} {URL}/eblume/dev")
    refused = host.run(f"{clients}/devpi upload --clientdir {clientdir} --from-dir {dist}")
    assert refused.rc != 0
    assert "401" in refused.stdout + refused.stderr  # devpi asks anonymous uploaders to authenticate


def test_a_package_on_stable_installs_from_staging(host, clients, wheel, passwords):
    name, dist = wheel
    twine(host, clients, "packages/stable", dist, ("packages", passwords["packages"]))  # no-op if already there
    venv = f"/tmp/inherit-{uuid.uuid4().hex[:8]}"
    host.check_output(f"{UV} venv -q --seed --python /usr/bin/python3 {venv}")
    out = host.check_output(
        f"{venv}/bin/pip install --no-cache-dir --index-url {URL}/packages/staging/+simple/ {name} 2>&1"
    )
    assert f"Successfully installed {name}-1.0" in out
    assert host.run(f"{venv}/bin/python -c 'import {name}'").rc == 0


def test_a_team_namespace_nobody_logs_in_as_owns_an_index_its_uploader_fills(host, clients, wheel, passwords, api):
    """namespace.yml: user `shared` with login: false owns shared/stable, where `packages` may upload."""
    tree = yaml.safe_load((Path(__file__).parents[1] / "namespace.yml").read_text())
    assert [user["name"] for user in tree["devpi_seed_users"]] == ["shared"]
    for password in ("", "shared", passwords["packages"], passwords["root"]):
        assert api.call("POST", "/+login", {"user": "shared", "password": password})[0] in (400, 401)
    status, body = api.call("GET", "/shared/stable")
    assert status == 200
    assert (body["result"]["acl_upload"], body["result"]["volatile"]) == (["packages"], False)
    name, dist = wheel
    uploaded = twine(host, clients, "shared/stable", dist, ("packages", passwords["packages"]))
    assert uploaded.rc == 0, uploaded.stdout + uploaded.stderr
    assert api.call("GET", f"/shared/stable/{name}")[0] == 200
    refused = twine(host, clients, "shared/stable", dist, ("shared", ""))
    assert refused.rc != 0
