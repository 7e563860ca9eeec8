"""After playbooks/upgrade.yml: devpi-upgrade-5 went from devpi-server 5.5.1 in place (after a backup),
devpi-upgrade-6 from 6.0.0 through devpi-export -> devpi-import (side_effect.yml compared every user, index setting
and file field by field); the new versions run, the old ones are kept for a manual roll back, the clients work.
Then devpi-upgrade-5's server directory was adopted as a copy another install left."""

from __future__ import annotations

from devpi_testinfra import URL

VENV = "/opt/devpi/venv"
FROM = {"devpi-upgrade-5": "5.5.1", "devpi-upgrade-6": "6.0.0"}
ALICE_PASSWORD = "molecule-Alice-Pass-2718"  # the scenario's test value


def test_new_versions_are_installed_and_running(host, api):
    listing = host.check_output(f"ls {VENV}/lib/python3.11/site-packages")
    assert "devpi_server-6.20.3.dist-info" in listing
    assert "devpi_web-5.1.1.dist-info" in listing
    assert f"devpi_server-{FROM[host.backend.hostname]}.dist-info" not in listing
    status, body = api.call("GET", "/+status")
    assert status == 200
    assert body["result"]["versioninfo"]["devpi-server"] == "6.20.3"
    assert body["result"]["versioninfo"]["devpi-web"] == "5.1.1"


def test_the_old_venv_is_kept_for_a_manual_roll_back(host):
    """Kept as it was: its scripts name the venv's own path, so it runs once moved back there (as the roll back
    in side_effect.yml did)."""
    previous = f"{VENV}.previous"
    listing = host.check_output(f"ls {previous}/lib/python3.11/site-packages")
    assert f"devpi_server-{FROM[host.backend.hostname]}.dist-info" in listing
    assert "devpi_server-6.20.3.dist-info" not in listing
    # the new venv was built elsewhere (venv.staged) and moved: its scripts still run
    assert host.check_output(f"{VENV}/bin/devpi-server --version").strip().endswith("6.20.3")
    assert not host.file(f"{VENV}.staged").exists


def test_the_unit_runs_the_moved_venv(host):
    pid = host.check_output("systemctl show -p MainPID --value devpi-server").strip()
    assert pid != "0"
    cmdline = host.file(f"/proc/{pid}/cmdline").content_string.replace("\0", " ")
    assert f"{VENV}/bin/" in cmdline
    assert ".staged" not in cmdline


def test_alice_logs_in_with_her_password_and_pip_installs_her_package(host, api):
    assert api.call("POST", "/+login", {"user": "alice", "password": ALICE_PASSWORD})[0] == 200
    assert api.call("POST", "/+login", {"user": "alice", "password": "not-" + ALICE_PASSWORD})[0] == 401
    venv = "/tmp/after-upgrade"
    # pip itself from the root/pypi the upgrade created (the old versions ran without one)
    uv_venv = "/opt/devpi/bin/uv venv -q --clear --seed --python /usr/bin/python3"
    host.check_output(f"UV_INDEX_URL={URL}/root/pypi/+simple/ {uv_venv} {venv}")
    install = host.run(f"{venv}/bin/pip install -q --no-cache-dir --index-url {URL}/alice/stage/+simple/ keepme==1.0")
    assert install.rc == 0, install.stderr
    assert host.run(f"{venv}/bin/python -c 'import keepme'").rc == 0


def test_service_restarted_and_healthy(host):
    assert host.service("devpi-server").is_running
    journal = host.check_output("journalctl -u devpi-server --no-pager -o cat")
    assert "Incompatible state" not in journal
