"""Bad input to devpi_server fails in preflight, naming the variable, before any task that changes the host.

Each case runs the real role with ansible-playbook in check mode against localhost, every path pointing into a
temporary directory; the failing task must be a preflight task and no install/configure/service task may have
started. A positive control proves the same base variables pass.
"""

from __future__ import annotations

import json
import re
import socket
import sys
from pathlib import Path

import pytest
from conftest import (
    assert_failed_in_preflight,
    assert_only_preflight_ran,
    case_ids,
    role_batch,
    role_runner,
    server_in,
)

SECRET = "Marker-Secret-Value-9271"
PREFLIGHT_TASKS = re.compile(
    r"^(Validating arguments against arg spec|Check .*|Read the host's state|Read the primary's server secret .*"
    r"|Ask the primary for its uuid .*)"
)
# A secret devpi accepts (a test value): 44 characters, like devpi-gen-secret's.
SERVER_SECRET = "Replication-Test-Secret-0123456789-abcdefghij"
REPLICA = {"devpi_server_role": "replica", "devpi_server_primary_url": "http://10.0.0.9:3141"}


@pytest.fixture(scope="module")
def run_role(tmp_path_factory):
    base = tmp_path_factory.mktemp("preflight")
    return role_runner(base, "devpi_server", server_in(base, SECRET, "devpi-preflight-test"))


CASES = [
    ({"devpi_server_listen_port": 70000}, "devpi_server_listen_port=70000"),
    ({"devpi_server_version": "6.19.0"}, "devpi_server_version=6.19.0"),
    ({"devpi_server_version": "4.9.0", "devpi_server_allow_old_version": True}, "devpi_server_version=4.9.0"),
    ({"devpi_server_version": "7.0.0"}, "devpi_server_version=7.0.0"),
    ({"devpi_server_version": "latest"}, "devpi_server_version=latest"),
    ({"devpi_server_root_password": ""}, "devpi_server_root_password is empty"),
    ({"devpi_server_serverdir": "relative/server"}, "devpi_server_serverdir=relative/server must be an absolute"),
    ({"devpi_server_serverdir": "/opt/x/../etc"}, "devpi_server_serverdir=/opt/x/../etc must be an absolute"),
    ({"devpi_server_venv_dir": "/srv/devpi/venv", "devpi_server_serverdir": "/srv/devpi/venv/data"}, "overlap"),
    ({"devpi_server_service_manager": "launchd"}, "devpi_server_service_manager=launchd does not fit"),
    ({"devpi_server_role": "replica"}, "devpi_server_role=replica"),
    ({"devpi_server_primary_url": "http://primary:3141"}, "only a replica takes one"),
    (REPLICA, "a replica needs the primary's server secret"),
    ({**REPLICA, "devpi_server_primary_url": "ftp://primary/"}, "devpi_server_primary_url='ftp://primary/' is not"),
    ({**REPLICA, "devpi_server_primary_host": "no-such-host"}, "devpi_server_primary_host='no-such-host'"),
    ({**REPLICA, "devpi_server_primary_host": "localhost"}, "not localhost itself"),
    (
        {**REPLICA, "devpi_server_secret": SERVER_SECRET, "devpi_server_primary_url": "http://localhost:3141/"},
        "must be another server than this one",
    ),
    (
        {
            **REPLICA,
            "devpi_server_secret": SERVER_SECRET,
            "devpi_server_outside_url": "https://pypi.test",
            "devpi_server_primary_url": "https://pypi.test",
        },
        "must be another server than this one",
    ),
    ({"devpi_server_secret": "Short-Secret-1"}, "devpi_server_secret is not a secret devpi accepts"),
    ({"devpi_server_secret": "ab" * 20}, "devpi_server_secret is not a secret devpi accepts"),
    (
        {"devpi_server_extra_packages": ["devpi-lockdown"]},
        "devpi_server_extra_packages: 'devpi-lockdown' is not pinned",
    ),
    ({"devpi_server_mirror_url": "ftp://mirror/simple"}, "devpi_server_mirror_url='ftp://mirror/simple'"),
    ({"devpi_server_extra_options": {"port": 1}}, "devpi_server_extra_options"),
    ({"devpi_server_extra_options": {"Bad_Key": 1}}, "devpi_server_extra_options"),
    ({"devpi_server_threads": "many"}, "devpi_server_threads"),
    ({"devpi_server_memory_max": "lots"}, "devpi_server_memory_max='lots'"),
    ({"devpi_server_indexer_backend": "elastic"}, "devpi_server_indexer_backend"),
    ({"devpi_server_secret_argon2_memory_cost": 4}, "devpi_server_secret_argon2_memory_cost=4"),
    ({"devpi_server_launchd_label": "bad label"}, "devpi_server_launchd_label='bad label'"),
    (
        {"devpi_server_extra_packages": "devpi-ldap==2.2.0"},
        'devpi_server_extra_packages must be a YAML list (one item per line, or [a, b]), not str "devpi-ldap==2.2.0"',
    ),
    ({"devpi_server_install_index_url": "http://pypi.example/simple"}, "need devpi_server_allow_insecure=true"),
    ({"devpi_server_mirror_url": "http://pypi.example/simple/"}, "need devpi_server_allow_insecure=true"),
    ({"devpi_server_listen_host": "0.0.0.0"}, "devpi_server_listen_host=0.0.0.0"),  # noqa: S104 - refused input
    (
        {"devpi_server_root_trusted_networks": ["10.0.0.0/8", "10.0.0.0/33"]},
        'devpi_server_root_trusted_networks: ["10.0.0.0/33"] is not CIDR networks',
    ),
    (
        {"devpi_server_root_trusted_networks": "10.0.0.0/8"},
        "devpi_server_root_trusted_networks must be a YAML list",
    ),
    # devpi's access plugins: options without the plugin, an LDAP URL that is not ldap(s)://, what else LDAP needs
    (
        {"devpi_server_ldap_url": "ldap://ldap.example.org"},
        "devpi_server_ldap_url is set but devpi_server_ldap is false",
    ),
    (
        {"devpi_server_ldap_user_base": "ou=people,dc=example,dc=org", "devpi_server_ldap_bind_dn": "cn=x"},
        "devpi_server_ldap_bind_dn, devpi_server_ldap_user_base are set but devpi_server_ldap is false",
    ),
    (
        {
            "devpi_server_ldap": True,
            "devpi_server_ldap_url": "https://ldap.example.org",
            "devpi_server_ldap_user_base": "ou=people,dc=example,dc=org",
        },
        "devpi_server_ldap_url ('https://ldap.example.org') must be ldap://host[:port]",
    ),
    (
        {
            "devpi_server_ldap": True,
            "devpi_server_ldap_url": "ldaps://ldap.example.org:636",
            "devpi_server_ldap_user_base": "ou=people,dc=example,dc=org",
            "devpi_server_ldap_bind_dn": "cn=devpi",
        },
        "devpi_server_ldap_bind_dn ('cn=devpi') needs devpi_server_ldap_bind_password",
    ),
    (
        {
            "devpi_server_ldap": True,
            "devpi_server_ldap_url": "ldap://ldap.example.org",
            "devpi_server_ldap_user_base": "ou=people,dc=example,dc=org",
            "devpi_server_ldap_user_filter": "uid=x",
        },
        "devpi_server_ldap_user_filter ('uid=x') must be an LDAP filter in parentheses with {username} in it",
    ),
    (
        {
            "devpi_server_read_lockdown": True,
            "devpi_server_listen_host": "0.0.0.0",  # noqa: S104 - refused input
            "devpi_server_allow_insecure": True,
        },
        "devpi_server_read_lockdown=true and devpi_server_listen_host=0.0.0.0",
    ),
    ({"devpi_server_tokens_version": "latest"}, "devpi_server_tokens_version='latest' is not a version"),
]


def about_the_host(overrides, expected):
    """A case whose check looks at the host itself (its inventory name, its own addresses): run on localhost."""
    return "devpi_server_primary_host" in overrides or "another server than this one" in expected


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """The cases not about the host in one run of the role (role_batch: a host each); the secret shows nowhere."""
    base = tmp_path_factory.mktemp("preflight-bad")
    batched = [overrides for overrides, expected in CASES if not about_the_host(overrides, expected)]
    return iter(
        role_batch(base, "devpi_server", server_in(base, SECRET, "devpi-preflight-test"), batched, secret=SECRET)
    )


@pytest.fixture(scope="module")
def bad_results(bad_runs):
    return {index: None if about_the_host(*case) else next(bad_runs) for index, case in enumerate(CASES)}


@pytest.mark.xdist_group("devpi_server-bad-input")
@pytest.mark.parametrize("case", range(len(CASES)), ids=case_ids(CASES))
def test_bad_input_fails_in_preflight(run_role, bad_results, case):
    overrides, expected = CASES[case]
    result = bad_results[case] or run_role(overrides)
    assert_only_preflight_ran(*result, expected, PREFLIGHT_TASKS, SECRET)


def test_good_input_passes_the_whole_role_in_check_mode_without_showing_the_secret(run_role):
    rc, output = run_role({}, verbosity=3)
    assert rc == 0, output
    assert "Install devpi-server, devpi-web and plugins at their pinned versions" in output
    assert SECRET not in output
    published = re.search(r'"devpi_server_facts": (\{.*?\})', output, re.DOTALL).group(1)
    assert '"url": "http://127.0.0.1:3141"' in published
    assert '"listen": "127.0.0.1:3141"' in published


def test_secret_not_shown_even_at_vvv(run_role):
    rc, output = run_role({"devpi_server_listen_port": 0}, verbosity=3)
    assert rc != 0
    assert "devpi_server_listen_port=0" in " ".join(output.split())
    assert SECRET not in output


def test_a_secret_is_never_shown_when_refused(run_role):
    rc, output = run_role({"devpi_server_secret": "Short-Secret-Value-77"}, verbosity=3)
    assert rc != 0
    assert "devpi_server_secret is not a secret devpi accepts" in " ".join(output.split())
    assert "Short-Secret-Value-77" not in output


def test_a_replica_refuses_a_server_directory_with_a_primarys_data(run_role, tmp_path_factory):
    serverdir = tmp_path_factory.mktemp("primary-data")
    (serverdir / ".nodeinfo").write_text('{"role": "primary", "uuid": "4f267d71"}')
    rc, output = run_role({**REPLICA, "devpi_server_secret": SERVER_SECRET, "devpi_server_serverdir": str(serverdir)})
    assert_failed_in_preflight(rc, output, "holds the data of a primary server (uuid 4f267d71)", PREFLIGHT_TASKS)
    assert SERVER_SECRET not in output


def test_a_server_directory_fenced_by_a_promotion_is_refused(run_role, tmp_path_factory):
    serverdir = tmp_path_factory.mktemp("fenced")
    (serverdir / ".nodeinfo").write_text('{"role": "primary", "uuid": "4f267d71"}')
    (serverdir / ".hostnative-devpi-fenced").write_text("Fenced by hostnative.devpi: devpi-b became the primary.\n")
    rc, output = run_role({"devpi_server_serverdir": str(serverdir), "devpi_server_role": "primary"})
    assert_failed_in_preflight(
        rc, output, f"devpi_server_serverdir={serverdir} on localhost was fenced", PREFLIGHT_TASKS
    )


def test_a_replica_whose_primary_url_answers_with_another_uuid_is_refused(run_role, tmp_path_factory, devpi_url):
    """devpi_url is a real devpi-server: its uuid is not the one this replica's .nodeinfo recorded."""
    serverdir = tmp_path_factory.mktemp("replica-data")
    nodeinfo = {"role": "replica", "uuid": "16", "masterurl": devpi_url, "primary-uuid": "uuid-of-the-old-primary"}
    (serverdir / ".nodeinfo").write_text(json.dumps(nodeinfo))
    variables = {**REPLICA, "devpi_server_secret": SERVER_SECRET, "devpi_server_serverdir": str(serverdir)}
    rc, output = run_role({**variables, "devpi_server_primary_url": devpi_url})
    assert_failed_in_preflight(
        rc,
        output,
        "followed the primary with uuid uuid-of-the-old-primary, but devpi_server_primary_url=",
        PREFLIGHT_TASKS,
    )
    assert "the devpi_server entry point `reinit`" in " ".join(output.split())


def test_a_replica_with_a_secret_passes_preflight_and_never_shows_it(run_role):
    rc, output = run_role({**REPLICA, "devpi_server_secret": SERVER_SECRET}, verbosity=3)
    assert rc == 0, output
    assert "devpi-init" in output  # got past preflight into the first-run tasks
    assert SERVER_SECRET not in output


def test_insecure_values_pass_when_allowed(run_role):
    allowed = {
        "devpi_server_allow_insecure": True,
        "devpi_server_install_index_url": "http://pypi.example/simple",
        "devpi_server_listen_host": "0.0.0.0",  # noqa: S104 - accepted when allowed
    }
    rc, output = run_role(allowed)
    assert rc == 0, output


def test_a_port_another_program_holds_fails_in_preflight(run_role):
    """Something that is not devpi listens on the port (here: a bare socket): refused before anything changes."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        rc, output = run_role({"devpi_server_listen_port": port})
    expected = f"devpi_server_listen_port={port}: another program already listens on 127.0.0.1:{port}"
    tasks = assert_failed_in_preflight(rc, output, expected, PREFLIGHT_TASKS)
    assert tasks[-1] == "Check the port is free or already devpi's"


def test_a_pin_older_than_the_installed_devpi_server_is_refused(run_role):
    """The venv is the test environment's own, which holds devpi-server 6.20.3: 6.20.2 would be a downgrade."""
    venv = str(Path(sys.executable).parent.parent)
    rc, output = run_role({"devpi_server_venv_dir": venv, "devpi_server_version": "6.20.2"})
    assert_failed_in_preflight(
        rc,
        output,
        "devpi-server 6.20.3 is installed and 6.20.2 is older; a downgrade needs devpi_server_allow_downgrade=true",
        PREFLIGHT_TASKS,
    )
    rc, output = run_role(
        {"devpi_server_venv_dir": venv, "devpi_server_version": "6.20.2", "devpi_server_allow_downgrade": True}
    )
    assert "is older" not in output
    assert "Check the pin is no downgrade" in output
