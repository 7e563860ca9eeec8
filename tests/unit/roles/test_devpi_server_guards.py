"""devpi_server's preflight guards evaluated in process: each assert's own condition, read from tasks/preflight.yml
and evaluated by Ansible's templar over a table of host states (the whole role runs in tests/integration)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

PREFLIGHT = Path(__file__).resolve().parents[3] / "roles/devpi_server/tasks/preflight.yml"
NODEINFO = "/var/lib/devpi/server/.nodeinfo"


def condition(task_name):
    (task,) = [task for task in yaml.safe_load(PREFLIGHT.read_text()) if task["name"] == task_name]
    that = task["ansible.builtin.assert"]["that"]
    return " and ".join(f"({item})" for item in ([that] if isinstance(that, str) else that))


def holds(expression, variables):
    templar = Templar(loader=DataLoader(), variables=variables)
    return templar.template(trust_as_template("{{ " + expression + " }}")) is True


@pytest.mark.parametrize(
    ("deployed_serverdir", "data_there", "allowed", "passes"),
    [
        (None, False, False, True),  # first run: no config yet
        ("/var/lib/devpi/server", False, False, True),  # same directory
        ("/srv/old", True, False, True),  # moved, but the data is there (moved with it)
        ("/srv/old", False, False, False),  # moved away from the data: an empty server would start
        ("/srv/old", False, True, True),  # ... unless asked for
    ],
)
def test_the_server_directory_guard(deployed_serverdir, data_there, allowed, passes):
    state = {
        "config": {} if deployed_serverdir is None else {"serverdir": deployed_serverdir},
        "paths": {NODEINFO: {"exists": data_there}},
    }
    variables = {
        "__devpi_server_state": state,
        "devpi_server_serverdir": "/var/lib/devpi/server",
        "_devpi_server_nodeinfo": NODEINFO,
        "devpi_server_allow_serverdir_change": allowed,
    }
    assert holds(condition("Check the server directory did not move away from existing data"), variables) is passes


@pytest.mark.parametrize(("listener", "passes"), [("devpi", True), ("none", True), ("other", False)])
def test_the_port_guard(listener, passes):
    variables = {"__devpi_server_state": {"server": {"listener": listener}}}
    assert holds(condition("Check the port is free or already devpi's"), variables) is passes
