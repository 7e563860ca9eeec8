"""client_config, run as Ansible runs modules, on real files; what it writes is read back by the real readers
(configparser as pip and twine read pip.conf/.pypirc, tomllib as uv reads uv.toml, and uv itself)."""

from __future__ import annotations

import configparser
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

PIP_CONF = """\
# kept: a comment of the owner
[global]
timeout = 42
index-url = https://old.example.org/simple/

[install]
no-compile = yes
"""

PYPIRC = """\
[distutils]
index-servers =
    pypi

[pypi]
username = __token__
"""

UV_TOML = """\
# kept
cache-dir = "/var/cache/uv-shared"

[pip]
compile-bytecode = true
"""


def ini(path):
    parser = configparser.RawConfigParser()
    parser.read(path)
    return parser


def test_pip_conf_key_replaced_and_other_settings_kept(run_module, tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text(PIP_CONF)
    args = {
        "path": str(conf),
        "format": "ini",
        "settings": {"global": {"index-url": "https://devpi/root/pypi/+simple/"}},
    }
    result = run_module("client_config", args)
    assert result["changed"] is True, result
    parsed = ini(conf)
    assert parsed["global"]["index-url"] == "https://devpi/root/pypi/+simple/"
    assert parsed["global"]["timeout"] == "42"
    assert parsed["install"]["no-compile"] == "yes"
    assert conf.read_text().startswith("# kept: a comment of the owner\n")
    assert run_module("client_config", args)["changed"] is False


def test_pypirc_repositories_merged_password_masked_and_private(run_module, tmp_path):
    pypirc = tmp_path / "home" / ".pypirc"
    args = {
        "path": str(pypirc),
        "format": "ini",
        "settings": {
            "distutils": {"index-servers": ["devpi-dev"]},
            "devpi-dev": {"repository": "https://devpi/dev/dev/", "username": "dev"},
        },
        "secret_settings": {"devpi-dev": {"password": "unit-Upload-Secret-77"}},
        "mode": "0600",
    }
    first = run_module("client_config", {**args, "_ansible_diff": True})
    assert first["changed"] is True, first
    assert "unit-Upload-Secret-77" not in str(first)
    assert "********" in first["diff"]["after"]
    assert stat.S_IMODE(pypirc.stat().st_mode) == 0o600
    assert ini(pypirc)["devpi-dev"]["password"] == "unit-Upload-Secret-77"

    # A file someone already had: their repository stays listed and configured.
    pypirc.write_text(PYPIRC)
    pypirc.chmod(0o644)
    merged = run_module("client_config", args)
    assert merged["changed"] is True
    parsed = ini(pypirc)
    assert parsed["distutils"]["index-servers"].split() == ["pypi", "devpi-dev"]
    assert parsed["pypi"]["username"] == "__token__"
    assert parsed["devpi-dev"]["password"] == "unit-Upload-Secret-77"
    assert stat.S_IMODE(pypirc.stat().st_mode) == 0o600
    assert run_module("client_config", args)["changed"] is False


def test_uv_toml_top_level_keys_before_tables_and_read_by_uv(run_module, tmp_path):
    config = tmp_path / "uv" / "uv.toml"
    config.parent.mkdir()
    config.write_text(UV_TOML)
    args = {
        "path": str(config),
        "format": "toml",
        "settings": {"": {"index-url": "https://devpi/root/pypi/+simple/", "system-certs": True}},
    }
    assert run_module("client_config", args)["changed"] is True
    parsed = tomllib.loads(config.read_text())
    assert parsed["index-url"] == "https://devpi/root/pypi/+simple/"
    assert parsed["system-certs"] is True
    assert parsed["cache-dir"] == "/var/cache/uv-shared"
    assert parsed["pip"] == {"compile-bytecode": True}
    assert run_module("client_config", args)["changed"] is False
    # uv itself accepts the file: an unknown or misplaced key fails its parse with exit code 2.
    uv = Path(sys.executable).parent / "uv"
    shown = subprocess.run(  # noqa: S603 - the pinned uv of the dev environment
        [uv, "pip", "compile", "--config-file", str(config), "-"],
        input="",
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "UV_OFFLINE": "1"},
    )
    assert shown.returncode == 0, shown.stderr


def test_check_mode_writes_nothing(run_module, tmp_path):
    conf = tmp_path / "pip.conf"
    conf.write_text(PIP_CONF)
    result = run_module(
        "client_config",
        {"path": str(conf), "format": "ini", "settings": {"global": {"index-url": "x"}}},
        check_mode=True,
    )
    assert result["changed"] is True
    assert conf.read_text() == PIP_CONF
    missing = tmp_path / "new" / "pip.conf"
    result = run_module(
        "client_config",
        {"path": str(missing), "format": "ini", "settings": {"global": {"index-url": "x"}}},
        check_mode=True,
    )
    assert result["changed"] is True
    assert not missing.parent.exists()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('index-url = [\n  "a",\n]\n', "sets 'index-url' over several lines"),
        ('index-url = """\nx\n"""\n', "sets 'index-url' over several lines"),
    ],
)
def test_multiline_toml_value_is_refused_and_file_untouched(run_module, tmp_path, text, message):
    config = tmp_path / "uv.toml"
    config.write_text(text)
    result = run_module(
        "client_config", {"path": str(config), "format": "toml", "settings": {"": {"index-url": "https://devpi/"}}}
    )
    assert result.get("failed") is True
    assert message in result["msg"]
    assert config.read_text() == text
