"""inventories/indri reproduces the seed deployment (the devpi-on-indri write-up) exactly.

The plist and devpi's config are rendered from the REAL role templates with Ansible's own
templating engine and the same variable precedence as a play (role defaults < the inventory < role vars), with the
facts of the write-up's macOS login user; launchd itself cannot run here, so the plist is parsed with plistlib and
nothing else is managed (the seed's Caddy is another role's). The expected values are the write-up's Layout table.
"""

from __future__ import annotations

import json
import plistlib
from pathlib import Path

import pytest
import yaml
from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

REPO = Path(__file__).resolve().parents[2]
INVENTORY = REPO / "inventories" / "indri"

# The write-up's Layout table (and its Deploy/Verify sections), row by row.
WRITEUP = {
    "service binary": "/Users/erichblume/devpi/venv/bin/devpi-server",
    "server-dir": "/Users/erichblume/devpi/server-dir",
    "logs": (
        "/Users/erichblume/Library/Logs/mcquack.devpi.out.log",
        "/Users/erichblume/Library/Logs/mcquack.devpi.err.log",
    ),
    "launchagent label": "mcquack.eblume.devpi",
    "launchagent plist": "/Users/erichblume/Library/LaunchAgents/mcquack.eblume.devpi.plist",
    "listen": ("127.0.0.1", 3141),
    "public url": "https://pypi.ops.eblu.me",
    "root password item": ("devpi", "root password"),  # item "devpi", field "root password"; the vault is not named
}
FACTS = {"system": "Darwin", "user_dir": "/Users/erichblume", "user_id": "erichblume", "user_uid": 501}


@pytest.fixture(scope="module")
def templar():
    loader = DataLoader()

    def load(path):
        return loader.load_from_file(str(path), trusted_as_template=True) or {}

    variables = {}
    for role in ("devpi_server", "devpi_seed", "devpi_caddy"):
        variables.update(load(REPO / "roles" / role / "defaults" / "main.yml"))
    variables.update(load(INVENTORY / "host_vars" / "indri.yml"))
    for role in ("devpi_server", "devpi_seed", "devpi_caddy"):
        variables.update(load(REPO / "roles" / role / "vars" / "main.yml"))
    variables.update({"ansible_facts": FACTS, "ansible_managed": "Ansible managed", "inventory_hostname": "indri"})
    return Templar(loader=loader, variables=variables)


def render(templar, role, template):
    return templar.template(trust_as_template((REPO / "roles" / role / "templates" / template).read_text()))


def value(templar, name):
    return templar.template(trust_as_template("{{ " + name + " }}"))


def test_inventory_puts_indri_in_devpi_servers():
    hosts = yaml.safe_load((INVENTORY / "hosts.yml").read_text())
    assert list(hosts["devpi_servers"]["hosts"]) == ["indri"]


def test_launchagent_plist_is_the_writeups(templar):
    plist = plistlib.loads(render(templar, "devpi_server", "devpi-server.plist.j2").encode())
    assert plist["Label"] == WRITEUP["launchagent label"]
    assert plist["ProgramArguments"][0] == WRITEUP["service binary"]
    assert plist["WorkingDirectory"] == WRITEUP["server-dir"]
    assert (plist["StandardOutPath"], plist["StandardErrorPath"]) == WRITEUP["logs"]
    assert plist["RunAtLoad"] is True
    assert plist["KeepAlive"] is True
    assert "UserName" not in plist  # a LaunchAgent of the login user, not a daemon
    assert value(templar, "_devpi_server_launchd_plist") == WRITEUP["launchagent plist"]
    assert value(templar, "_devpi_server_launchd_target") == "gui/501/mcquack.eblume.devpi"
    # No secret of any kind in the plist.
    assert "password" not in json.dumps(plist).lower()


def test_devpi_listens_on_loopback_3141_with_the_writeups_server_dir(templar):
    config = yaml.safe_load(render(templar, "devpi_server", "devpi-server.yml.j2"))["devpi-server"]
    assert (config["host"], int(config["port"])) == WRITEUP["listen"]
    assert config["serverdir"] == WRITEUP["server-dir"]
    assert value(templar, "_devpi_server_bin") + "/devpi-server" == WRITEUP["service binary"]


def test_root_password_comes_from_the_writeups_1password_item(templar):
    raw = yaml.safe_load((INVENTORY / "host_vars" / "indri.yml").read_text())
    item, field = WRITEUP["root password item"]
    assert raw["devpi_server_root_password"] == (
        "{{ lookup('hostnative.devpi.secret', 'op://' ~ devpi_op_vault ~ '/" + f"{item}/{field}" + "') }}"
    )
    assert "devpi_seed_root_password" not in raw  # devpi_seed takes the same secret
    assert raw["ansible_become"] is False  # a LaunchAgent: everything runs as the login user


def test_nothing_the_seed_did_not_have(templar):
    """The seed migrated a server directory and seeded no user or index; Caddy was already proxying, managed
    elsewhere; the vault holding item "devpi" is a variable, since the write-up does not name it."""
    raw = yaml.safe_load((INVENTORY / "host_vars" / "indri.yml").read_text())
    assert "devpi_seed_users" not in raw
    assert "devpi_seed_indexes" not in raw
    assert value(templar, "devpi_seed_users") == []
    assert value(templar, "devpi_seed_indexes") == []
    assert raw["devpi_seed_existing_indexes"] == ["root/pypi", "eblume/dev"]  # migrated with the server directory
    assert not [name for name in raw if name.startswith("devpi_caddy_")]  # site.yml runs no devpi_caddy here
    assert isinstance(raw["devpi_op_vault"], str)
    assert raw["devpi_op_vault"]
    assert value(templar, "devpi_public_url") == WRITEUP["public url"]
