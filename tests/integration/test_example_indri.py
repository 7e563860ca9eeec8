"""docs/examples/indri, the skeleton of a user's own repo: the real mise reads its tasks (provisioning installs only
ansible-core and the 1Password Connect SDK, with uv), and ansible-playbook parses its playbook against this
collection with its ansible.cfg (inventory, hosts, tags). Running it against indri needs a Mac and 1Password."""

from __future__ import annotations

import configparser
import json
import os
import subprocess

import pytest
from conftest import BIN, REPO

EXAMPLE = REPO / "docs" / "examples" / "indri"
MISE = os.environ.get("MISE") or "mise"


def run(argv, **env):
    environ = {**os.environ, "MISE_TRUSTED_CONFIG_PATHS": str(REPO), "MISE_YES": "1", **env}
    return subprocess.run(argv, cwd=EXAMPLE, capture_output=True, text=True, env=environ, check=False, timeout=300)  # noqa: S603 - fixed argv


def test_mise_tasks_install_only_what_provisioning_needs():
    listed = run([MISE, "tasks", "ls", "--json"])
    assert listed.returncode == 0, listed.stderr
    tasks = {task["name"]: task for task in json.loads(listed.stdout)}
    provision, collections = tasks["provision-indri"], tasks["collections"]
    assert provision["source"] == str(EXAMPLE / "mise.toml")
    assert provision["depends"] == ["collections"]
    (command,) = provision["run"]
    assert command.startswith("uv tool run --from 'ansible-core>=2.19,<2.20' --with 'onepasswordconnectsdk>=2.1,<2.2' ")
    assert "ansible-playbook indri.yml" in command
    assert "make " not in command + collections["run"][0]  # nothing of this repo's development environment
    assert collections["run"] == [
        "uv tool run --from 'ansible-core>=2.19,<2.20' ansible-galaxy collection install -r requirements.yml"
    ]


@pytest.mark.parametrize(
    ("args", "expected"),
    [(["--syntax-check"], "playbook: indri.yml"), (["--list-hosts"], "indri"), (["--list-tags"], "TASK TAGS: [devpi]")],
)
def test_the_playbook_parses_with_the_collection_and_the_examples_config(collections_root, args, expected):
    done = run([str(BIN / "ansible-playbook"), "indri.yml", *args], ANSIBLE_COLLECTIONS_PATH=str(collections_root))
    assert done.returncode == 0, done.stdout + done.stderr
    assert expected in done.stdout


def test_the_inventory_is_the_collections_indri():
    """No link (ansible-test refuses links to directories, the built artifact would carry dangling ones): the
    example's ansible.cfg names the repository's inventories/indri."""
    config = configparser.ConfigParser()
    config.read(EXAMPLE / "ansible.cfg")
    assert (EXAMPLE / config["defaults"]["inventory"]).resolve() == (REPO / "inventories" / "indri").resolve()
    assert not [p for p in EXAMPLE.rglob("*") if p.is_symlink()]
