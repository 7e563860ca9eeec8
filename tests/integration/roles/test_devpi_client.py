"""devpi_client run for real on this machine (local connection) with every path pointed into a scratch directory:
bad input fails in preflight naming the variable, before any file exists; a good run writes pip.conf, uv.toml,
.pypirc (0600) and the environment file, keeps what was there, changes nothing the second time, and never shows
the upload password (also at -vvv). The password comes through the secret lookup's `file` backend."""

from __future__ import annotations

import configparser
import getpass
import re
import stat
import tomllib

import pytest
import yaml
from conftest import ansible_playbook, assert_failed_in_preflight, role_playbook

PREFLIGHT = re.compile(r"^(Validating arguments against arg spec|Check .*|Resolve .*|Say which secret.*|Work out .*)")
REF = "op://unit/devpi-packages/password"
PASSWORD = "unit-Client-Upload-9931"
LOOKUP = "{{ lookup('hostnative.devpi.secret', '" + REF + "') }}"


@pytest.fixture
def run_client(tmp_path):
    home = tmp_path / "home"
    secrets = tmp_path / "secrets.yml"
    secrets.write_text(yaml.safe_dump({REF: PASSWORD}))
    secrets.chmod(0o600)
    playbook = role_playbook(tmp_path, "devpi_client")
    good = {
        "devpi_client_url": "http://devpi.example.org:4040",
        "devpi_client_index": "packages/stable",
        "devpi_client_user": getpass.getuser(),
        "devpi_client_pip_conf": str(home / ".config" / "pip" / "pip.conf"),
        "devpi_client_uv_toml": str(home / ".config" / "uv" / "uv.toml"),
        "devpi_client_pypirc": str(home / ".pypirc"),
        "devpi_client_env_file": str(home / ".config" / "devpi-client" / "env.sh"),
        "devpi_client_ca_bundle": str(home / ".config" / "devpi-client" / "ca-bundle.pem"),
        "devpi_client_env": True,
        "devpi_client_env_profile": False,
        "devpi_client_upload_indexes": [
            {"name": "packages/stable", "password": LOOKUP},
            {"name": "packages/staging", "password": LOOKUP},
        ],
        "devpi_client_twine_repository": "devpi-stable",
    }

    def run(overrides=None, *, check=False, verbosity=0):
        overrides = dict(overrides or {})
        if "devpi_client_upload_indexes" in overrides:  # another list: no default twine repository from `good`
            overrides.setdefault("devpi_client_twine_repository", "")
        vars_file = tmp_path / "vars.yml"
        vars_file.write_text(yaml.safe_dump({**good, **overrides}))
        env = {"DEVPI_SECRET_BACKEND": "file", "DEVPI_SECRET_FILE": str(secrets)}
        return ansible_playbook(playbook, vars_file, check=check, verbosity=verbosity, env=env)

    run.home = home
    return run


CASES = [
    ({"devpi_client_url": ""}, 'devpi_client_url="" must be devpi\'s base URL'),
    ({"devpi_client_url": "devpi.example.org"}, 'devpi_client_url="devpi.example.org" must be'),
    ({"devpi_client_index": "stable"}, 'devpi_client_index="stable" an index name user/index'),
    ({"devpi_client_scope": "global"}, "devpi_client_scope"),
    ({"devpi_client_upload_indexes": [{"name": "stable", "password": LOOKUP}]}, "devpi_client_upload_indexes[0]: name"),
    (
        {"devpi_client_upload_indexes": [{"name": "a/dev", "password": LOOKUP}, {"name": "b/dev", "password": LOOKUP}]},
        "devpi_client_upload_indexes[1]: repository 'devpi-dev' (b/dev) is already used",
    ),
    ({"devpi_client_upload_indexes": [{"name": "a/dev"}]}, '["a/dev"] must have either a password or a token'),
    (
        {"devpi_client_upload_indexes": [{"name": "a/dev", "password": LOOKUP, "token": "devpi-AgEx"}]},
        '["a/dev"] must have either a password or a token',
    ),
    (
        {"devpi_client_upload_indexes": [{"name": "a/dev", "password": ""}]},
        'the password or token of ["devpi-dev"] is empty',
    ),
    (
        {
            "devpi_client_upload_indexes": [
                {"name": "a/dev", "password": "{{ lookup('hostnative.devpi.secret', 'op://unit/nope/password') }}"}
            ]
        },
        "secret op://unit/nope/password (file backend): not in the secrets file",
    ),
    ({"devpi_client_user": "no-such-user-4711"}, 'devpi_client_user="no-such-user-4711": no such account'),
    ({"devpi_client_ca_cert": "not a certificate"}, "devpi_client_ca_cert must be the PEM text"),
    ({"devpi_client_twine_repository": "devpi-nope"}, 'devpi_client_twine_repository="devpi-nope" must name one'),
    ({"devpi_client_pip_conf": "pip.conf"}, "These must be absolute paths: devpi_client_pip_conf=pip.conf"),
]


@pytest.mark.parametrize(("overrides", "expected"), CASES, ids=[f"bad-{i}" for i in range(len(CASES))])
def test_bad_input_fails_in_preflight_and_writes_nothing(run_client, overrides, expected):
    rc, output = run_client(overrides)
    assert_failed_in_preflight(rc, output, expected, PREFLIGHT)
    assert PASSWORD not in output
    assert not run_client.home.exists()


def test_good_run_merges_is_private_idempotent_and_never_shows_the_password(run_client):
    home = run_client.home
    (home / ".config" / "pip").mkdir(parents=True)
    (home / ".config" / "pip" / "pip.conf").write_text("# mine\n[global]\ntimeout = 42\n")
    (home / ".pypirc").write_text("[distutils]\nindex-servers =\n    pypi\n\n[pypi]\nusername = __token__\n")

    rc, output = run_client(check=True)
    assert rc == 0, output
    assert not (home / ".config" / "uv").exists()  # check mode wrote nothing

    rc, output = run_client(verbosity=3)
    assert rc == 0, output
    assert PASSWORD not in output

    pip = configparser.RawConfigParser()
    pip.read(home / ".config" / "pip" / "pip.conf")
    assert pip["global"]["timeout"] == "42"
    assert pip["global"]["index-url"] == "http://devpi.example.org:4040/packages/stable/+simple/"
    assert pip["global"]["trusted-host"] == "devpi.example.org:4040"  # plain HTTP: pip needs it
    uv = tomllib.loads((home / ".config" / "uv" / "uv.toml").read_text())
    assert uv == {"index-url": "http://devpi.example.org:4040/packages/stable/+simple/"}
    pypirc = configparser.RawConfigParser()
    pypirc.read(home / ".pypirc")
    assert pypirc["distutils"]["index-servers"].split() == ["pypi", "devpi-stable", "devpi-staging"]
    assert pypirc["pypi"]["username"] == "__token__"
    assert pypirc["devpi-staging"]["repository"] == "http://devpi.example.org:4040/packages/staging/"
    assert (pypirc["devpi-stable"]["username"], pypirc["devpi-stable"]["password"]) == ("packages", PASSWORD)
    assert stat.S_IMODE((home / ".pypirc").stat().st_mode) == 0o600
    env = (home / ".config" / "devpi-client" / "env.sh").read_text()
    assert "export PIP_INDEX_URL=http://devpi.example.org:4040/packages/stable/+simple/" in env
    assert "export TWINE_REPOSITORY=devpi-stable" in env
    assert PASSWORD not in env

    rc, output = run_client()
    assert rc == 0, output
    assert re.search(r"changed=0\s", output), output
