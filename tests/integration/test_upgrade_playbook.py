"""playbooks/upgrade.yml refuses, in its first play and before any change, a primary or standalone server without
backups (unless devpi_upgrade_without_backup) and bad input to the roles it runs. The upgrades themselves (in place,
export -> import, roll backs) run in molecule/devpi_server/upgrade."""

from __future__ import annotations

import re

import pytest
from conftest import playbook_on_localhost, server_in, tasks_until_failure

SECRET = "Upgrade-Root-Secret-6113"
FIRST_PLAY = re.compile(r"^(Gathering Facts|Resolve .*|Refuse .*|Check .*|Validating arguments .*|Read .*|Ask .*)$")


@pytest.fixture
def upgrade(tmp_path):
    def run(host_vars, **extra):
        host = {**server_in(tmp_path, SECRET, "devpi-upgrade-test"), **host_vars}
        rc, output = playbook_on_localhost(tmp_path, "hostnative.devpi.upgrade", host, extra)
        assert rc != 0, output
        tasks = tasks_until_failure(output)
        assert all(FIRST_PLAY.match(task) for task in tasks), tasks  # nothing beyond the checks ran
        assert SECRET not in output
        return " ".join(output.split())

    return run


def test_a_server_without_backups_is_refused_unless_told(upgrade):
    said = upgrade({})
    assert "localhost has no backups (devpi_backup_password is not set), and an upgrade takes one first" in said
    assert "-e devpi_upgrade_without_backup=true" in said
    # told: the run goes on to devpi_server's checks, which refuse the bad version instead
    said = upgrade({"devpi_upgrade_without_backup": True}, devpi_server_version="latest")
    assert "has no backups" not in said
    assert "devpi_server_version=latest" in said
