"""The secret sweep after side_effect.yml (see molecule.yml): the LDAP bind password and every token devpi_seed
wrote stay in the places meant for them - the 0600 LDAP configuration of the devpi account and the 0600 token files
on the controller - and appear in no log, on no command line, in no unit and in no file another local user can
read, with real systemd, devpi, Caddy and slapd in the containers."""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

import yaml

testinfra_hosts = ["podman://access-devpi"]

EPHEMERAL = Path(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"])
LDAP_CONFIG = "/etc/devpi/ldap.yml"


def secrets():
    """The bind password (the secrets file of the lookup's file backend) and the tokens the scenario created."""
    found = {"bind password": yaml.safe_load((EPHEMERAL / "secrets.yml").read_text())["op://access/ldap-bind/password"]}
    for name in ("ci-upload", "ci-short"):
        found[f"token {name}"] = (EPHEMERAL / f"{name}.token").read_text().strip()
    return found


def test_the_token_files_are_the_controllers_own():
    for name in ("ci-upload", "ci-short"):
        path = EPHEMERAL / f"{name}.token"
        assert path.stat().st_mode & 0o777 == 0o600, path
        assert path.read_text().startswith("devpi-"), path


def test_the_ldap_configuration_is_the_devpi_accounts_alone(host):
    config = host.file(LDAP_CONFIG)
    assert (config.user, config.group, config.mode) == ("devpi", "devpi", 0o600)
    text = config.content_string
    assert "ldap://access-ldap:389" in text
    assert secrets()["bind password"] in text  # the one place it is meant to be
    assert LDAP_CONFIG in host.file("/etc/devpi/devpi-server.yml").content_string


def readable_files_holding(host, patterns):
    """World-readable files in the container holding any of `patterns` - given to grep in a 0600 file copied in
    with podman cp, so that the sweep itself puts no secret on a command line."""
    with tempfile.NamedTemporaryFile("w", delete=False) as handle:
        handle.write("".join(f"{pattern}\n" for pattern in patterns))
    try:
        copy = ["podman", "cp", handle.name, "access-devpi:/root/.sweep-patterns"]
        subprocess.run(copy, check=True)  # noqa: S603 - the harness's podman, fixed arguments
    finally:
        os.unlink(handle.name)
    try:
        found = host.run(
            "chmod 600 /root/.sweep-patterns && find /etc /var /opt /tmp /home /srv -xdev -type f -perm -o=r "
            "-size -20M -exec grep -l -F -f /root/.sweep-patterns {} + 2>/dev/null"
        ).stdout.split()
    finally:
        host.run("rm -f /root/.sweep-patterns")
    return found


def test_no_secret_in_logs_argv_units_or_readable_files(host):
    leaks = []
    places = {
        "the journal": host.check_output("journalctl --no-pager -o cat"),
        "a command line": host.check_output("cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' '; true"),
        "a unit": host.check_output("cat /etc/systemd/system/*.service /etc/systemd/system/*.d/*.conf 2>/dev/null; :"),
        "Caddy's access log": host.check_output("cat /var/log/caddy/*.log 2>/dev/null; true"),
    }
    for what, secret in secrets().items():
        leaks += [f"{what} in {place}" for place, text in places.items() if secret in text]
    leaks += [f"a secret in the world-readable {path}" for path in readable_files_holding(host, secrets().values())]
    assert leaks == []


def test_the_caddy_access_log_kept_no_credentials(host):
    log = host.check_output("cat /var/log/caddy/*.log")
    assert '"/alice/dev/' in log  # the requests are there
    assert "Authorization" not in log
    assert "auth_tkt" not in log
