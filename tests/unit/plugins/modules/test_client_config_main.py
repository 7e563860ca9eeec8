"""client_config's main() in process: AnsibleModule with patched arguments on real files in a temporary directory
(the module as Ansible runs it, with the devpi_client role, is in tests/integration and molecule/devpi_client)."""

from __future__ import annotations

import json
import stat

import pytest
from ansible_collections.hostnative.devpi.plugins.modules import client_config
from devpi_api_stub import run_main

SECRET = "upload-Secret-Pass-3"  # a test value


@pytest.fixture
def run(capsys):
    def run(check_mode=False, diff=False, **params):
        args = {**params, "_ansible_check_mode": check_mode, "_ansible_diff": diff}
        secrets = [value for section in params.get("secret_settings", {}).values() for value in section.values()]
        return run_main(client_config, capsys, args, secrets=secrets)

    return run


def test_a_new_pypirc_is_private_from_the_first_byte(run, tmp_path):
    path = tmp_path / "home" / ".pypirc"
    result = run(
        path=str(path),
        format="ini",
        settings={"distutils": {"index-servers": "team"}, "team": {"repository": "https://pypi.example.org/team/"}},
        secret_settings={"team": {"password": SECRET}},
        mode="0600",
    )
    assert result["changed"] is True
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert f"password = {SECRET}" in path.read_text()
    assert list(path.parent.iterdir()) == [path]  # no temporary file left


def test_other_lines_are_kept_and_a_second_run_changes_nothing(run, tmp_path):
    path = tmp_path / "pip.conf"
    path.write_text("# mine\n[global]\ntimeout = 60\n")
    params = {"path": str(path), "format": "ini", "settings": {"global": {"index-url": "https://p.example/simple/"}}}
    assert run(**params)["changed"] is True
    assert path.read_text().startswith("# mine\n[global]\ntimeout = 60\n")
    assert "index-url = https://p.example/simple/" in path.read_text()
    assert run(**params)["changed"] is False


def test_an_existing_files_mode_carries_over(run, tmp_path):
    path = tmp_path / "uv.toml"
    path.write_text("native-tls = true\n")
    path.chmod(0o640)
    run(path=str(path), format="toml", settings={"": {"index-url": "https://p.example/simple/"}})
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert 'index-url = "https://p.example/simple/"' in path.read_text()


def test_check_mode_writes_nothing_and_the_diff_masks_secrets(run, tmp_path):
    path = tmp_path / ".pypirc"
    result = run(
        check_mode=True,
        diff=True,
        path=str(path),
        format="ini",
        secret_settings={"team": {"password": SECRET}},
    )
    assert (result["changed"], path.exists()) == (True, False)
    assert SECRET not in json.dumps(result)
    assert f"password = {client_config.MASK}" in result["diff"]["after"]


def test_a_section_that_is_not_a_mapping_is_refused_by_name(run, tmp_path):
    result = run(path=str(tmp_path / "pip.conf"), format="ini", settings={"global": "index-url"})
    assert result["msg"] == "settings: section 'global' must be a mapping of key to value"
    assert not (tmp_path / "pip.conf").exists()
