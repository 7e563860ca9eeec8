"""Bad input to devpi_backup fails in preflight, naming the variable, before any task that changes the host; the
restic password is never shown, also at -vvv.

Each case runs the real role with ansible-playbook in check mode against localhost, its paths in a temporary
directory and devpi_server_facts given as the devpi_server role publishes them. A positive control proves the same
base variables pass the whole role in check mode.
"""

from __future__ import annotations

import re

import pytest
from conftest import assert_failed_in_preflight, assert_only_preflight_ran, batched, case_ids, role_runner

PASSWORD = "Restic-Marker-Password-5821"
PREFLIGHT_TASKS = re.compile(r"^(Validating arguments against arg spec|Check .*)")


def good_vars(base):
    return {
        "devpi_backup_password": PASSWORD,
        "devpi_backup_install_restic": False,
        "devpi_backup_repository": str(base / "repo"),
        "devpi_backup_service_name": "devpi-backup-preflight-test",
        "devpi_server_facts": {
            "serverdir": str(base / "server"),
            "user": "root",
            "group": "root",
            "bin": str(base / "venv/bin"),
            "base_dir": str(base / "state"),
            "service": "devpi-server.service",
            "service_manager": "systemd",
            "version": "6.20.3",
        },
    }


@pytest.fixture(scope="module")
def run_role(tmp_path_factory):
    base = tmp_path_factory.mktemp("backup-preflight")
    return role_runner(base, "devpi_backup", good_vars(base))


@pytest.fixture(scope="module")
def bad_runs(tmp_path_factory):
    """Every case of CASES in one run of the role (role_batch: a host each); the password shows nowhere in it."""
    return batched(tmp_path_factory, "devpi_backup", good_vars, CASES, secret=PASSWORD)


CASES = [
    ({"devpi_backup_repository": ""}, 'devpi_backup_repository="" must be a restic repository'),
    ({"devpi_backup_repository": "backups/restic"}, "must be a restic repository: an absolute path"),
    ({"devpi_backup_password": "short"}, "devpi_backup_password is 5 characters long"),
    ({"devpi_backup_schedule": {"hour": 24, "minute": 0}}, 'devpi_backup_schedule={"hour": 24, "minute": 0} must be'),
    ({"devpi_backup_schedule": {"hour": "3am", "minute": 0}}, "devpi_backup_schedule="),
    ({"devpi_backup_schedule": {"hour": 3, "minute": 0, "weekdays": [0]}}, "weekdays list of 1 (Monday) to 7"),
    ({"devpi_backup_schedule": {"hour": 3, "minute": 0, "day": 1}}, "devpi_backup_schedule="),
    ({"devpi_backup_keep_daily": -1}, "devpi_backup_keep_last/daily/weekly/monthly=0/-1/4/6"),
    (
        {"devpi_backup_keep_daily": 0, "devpi_backup_keep_weekly": 0, "devpi_backup_keep_monthly": 0},
        "at least one must be above 0",
    ),
    ({"devpi_backup_method": "rsync"}, "devpi_backup_method"),
    ({"devpi_server_facts": {}}, "They default to devpi_server_facts: run the devpi_server role"),
    ({"devpi_backup_method": "export", "devpi_backup_devpi_service": ""}, "devpi_backup_method=export stops devpi"),
]


@pytest.mark.xdist_group("devpi_backup-bad-input")
@pytest.mark.parametrize("case", range(len(CASES)), ids=case_ids(CASES))
def test_bad_input_fails_in_preflight(bad_runs, case):
    assert_only_preflight_ran(*bad_runs[case], CASES[case][1], PREFLIGHT_TASKS, PASSWORD)


def test_a_repository_inside_the_server_directory_is_refused(run_role, tmp_path):
    rc, output = run_role(
        {"devpi_backup_repository": "/srv/devpi/server/restic", "devpi_backup_serverdir": "/srv/devpi/server"}
    )
    assert_failed_in_preflight(rc, output, "outside the server directory (/srv/devpi/server)", PREFLIGHT_TASKS)


def test_good_input_passes_the_whole_role_in_check_mode_without_showing_the_password(run_role):
    rc, output = run_role({}, verbosity=3)
    assert rc == 0, output
    assert "Write the backup unit and its timer" in output
    assert PASSWORD not in output
