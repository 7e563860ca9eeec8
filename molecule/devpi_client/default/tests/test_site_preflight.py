"""playbooks/site.yml runs every role's preflight before the first change on any host: a bad seed tree given
together with a devpi_server change stops the run before devpi_server writes anything (the devpi host's real
configuration, unit and service stay as they are)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import yaml

testinfra_hosts = ["podman://devpi-client-server"]
REPO = Path(__file__).resolve().parents[4]
CONFIG = "/etc/devpi/devpi-server.yml"


def test_a_bad_tree_stops_site_yml_before_devpi_server_changes_anything(host):
    before = host.check_output(f"sha256sum {CONFIG}")
    started = host.check_output("systemctl show -P ActiveEnterTimestampMonotonic devpi-server.service")
    extra = {
        "devpi_server_threads": 7,  # a change devpi_server would make (config + restart) if it ran
        "devpi_seed_indexes": [{"name": "dev/bad", "bases": ["nobody/nothing"]}],
    }
    env = {
        **os.environ,
        "DEVPI_SECRET_BACKEND": "file",
        "DEVPI_SECRET_FILE": os.path.join(os.environ["MOLECULE_EPHEMERAL_DIRECTORY"], "secrets.yml"),
    }
    argv = [
        "ansible-playbook",
        "-i",
        os.environ["MOLECULE_INVENTORY_FILE"],
        "--limit",
        "devpi-client-server",
        "-e",
        json.dumps(extra),
        str(REPO / "playbooks" / "site.yml"),
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=600, check=False, env=env)  # noqa: S603 - fixed argv
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert "devpi_seed_indexes[0] ('dev/bad'): base 'nobody/nothing' is neither in devpi_seed_indexes" in output
    assert "Check devpi_seed's secrets and tree" in output
    assert "Write the devpi-server configuration" not in output, "devpi_server ran before the tree was checked"
    assert host.check_output(f"sha256sum {CONFIG}") == before
    assert yaml.safe_load(host.file(CONFIG).content_string)["devpi-server"]["threads"] != "7"
    assert host.check_output("systemctl show -P ActiveEnterTimestampMonotonic devpi-server.service") == started
