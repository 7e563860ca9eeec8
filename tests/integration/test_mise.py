"""mise.toml: the real mise (from the npm registry, installed by `make unit`) parses the tasks, they delegate to
the same make targets, and `provision` hands its inventory and extra arguments to ansible-playbook.

`mise run lint` itself runs in `make check` (its lint step is `mise run lint`)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MISE = os.environ.get("MISE") or shutil.which("mise") or "mise (not found: run `make unit` or set MISE)"
ENV = {**os.environ, "MISE_TRUSTED_CONFIG_PATHS": str(REPO), "MISE_YES": "1"}


def mise(*args):
    return subprocess.run(  # noqa: S603 - the pinned mise
        [MISE, *args], cwd=REPO, capture_output=True, text=True, env=ENV, check=False, timeout=600
    )


def test_tasks_parse_and_delegate_to_make():
    listed = mise("tasks", "ls", "--json")
    assert listed.returncode == 0, listed.stderr
    tasks = {task["name"]: task for task in json.loads(listed.stdout)}
    assert {"provision", "provision-indri", "backup", "restore", "demo", "test", "lint"} <= set(tasks)
    assert tasks["demo"]["run"] == ["make demo"]
    assert tasks["test"]["run"] == ["make test"]
    assert tasks["lint"]["run"] == ["make lint"]
    for target in ("demo", "test", "lint", "venv", "collection-link"):
        # make's dry run: the target exists and make can plan it (it runs nothing).
        planned = subprocess.run(  # noqa: S603 - fixed argv
            ["make", "-n", target],  # noqa: S607 - make from PATH
            cwd=REPO,
            capture_output=True,
            text=True,
            check=False,
        )
        assert planned.returncode == 0, f"make {target}: {planned.stderr}"


def test_provision_passes_inventory_and_extra_args_to_ansible_playbook():
    """--list-hosts/--list-tags make ansible-playbook parse inventory and playbook without connecting anywhere."""
    hosts = mise("run", "provision", "indri", "--", "--list-hosts", "--tags", "devpi")
    assert hosts.returncode == 0, hosts.stdout + hosts.stderr
    assert "playbooks/site.yml" in hosts.stdout
    assert "indri" in hosts.stdout.split("hosts (1):", 1)[1]
    seed = mise("run", "provision-indri", "--", "--list-tags")
    assert seed.returncode == 0, seed.stdout + seed.stderr
    for tag in ("devpi", "devpi_server", "devpi_seed", "devpi_caddy"):
        assert tag in seed.stdout


def test_provision_without_inventory_is_refused():
    refused = mise("run", "provision")
    assert refused.returncode != 0
    assert "inventory" in refused.stderr


def test_backup_restore_and_warm_pass_inventory_and_extra_args_to_their_playbooks():
    for task, playbook in (
        ("backup", "playbooks/backup.yml"),
        ("restore", "playbooks/restore.yml"),
        ("warm", "playbooks/warm.yml"),
    ):
        listed = mise("run", task, "indri", "--", "--list-hosts", "-e", "devpi_restore_host=indri")
        assert listed.returncode == 0, listed.stdout + listed.stderr
        assert playbook in listed.stdout
        assert "indri" in listed.stdout.split("hosts (1):", 1)[1]
