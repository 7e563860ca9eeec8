"""devpi_venv's main() in process on real directories: uv is a stand-in (the module's run_command) that does what uv
does to the file system - `uv venv` makes bin/python and pyvenv.cfg, `uv pip install` writes the dist-info
directories of the pins it is given. The module with the real uv is in tests/integration and the Molecule
scenarios."""

from __future__ import annotations

import re

import pytest
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.modules import devpi_venv
from devpi_api_stub import run_main

PINS = ["devpi-server==6.20.3", "devpi-web==5.1.1"]


class Uv:
    """What uv would do to `path`; records every command and its environment. `installs` limits what an install
    really puts in place (a resolver that picked another version)."""

    def __init__(self, path, rc=0, installs=None):
        self.path, self.rc, self.installs = path, rc, installs
        self.commands = []

    def run_command(self, argv, environ_update=None, **_kwargs):
        self.commands.append((argv, environ_update))
        if self.rc:
            return self.rc, "", "network unreachable"
        if argv[1] == "venv":
            (self.path / "bin").mkdir(parents=True, exist_ok=True)
            make_venv(self.path)
        else:
            for spec in self.installs if self.installs is not None else argv[7:]:
                name, version = re.split(r"==| @ ", spec)[0], spec.rsplit("==", 1)[-1]
                install(self.path, name, version if "==" in spec else "0.1")
        return 0, "", ""


def make_venv(path):
    (path / "bin").mkdir(parents=True, exist_ok=True)
    (path / "bin" / "python").write_text("#!/bin/sh\n")
    (path / "bin" / "python").chmod(0o755)
    (path / "pyvenv.cfg").write_text("home = /usr/bin\n")


def install(path, name, version):
    site = path / "lib" / "python3.11" / "site-packages"
    for old in site.glob(f"{name.replace('-', '_')}-*.dist-info"):
        old.rmdir()
    (site / f"{name.replace('-', '_')}-{version}.dist-info").mkdir(parents=True)


@pytest.fixture
def uv_exe(tmp_path):
    exe = tmp_path / "uv"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    return str(exe)


@pytest.fixture
def run(monkeypatch, capsys, uv_exe):
    def run(stand_in, check_mode=False, **params):
        monkeypatch.setattr(AnsibleModule, "run_command", stand_in.run_command)
        args = {"path": str(stand_in.path), "packages": PINS, "uv": uv_exe, **params, "_ansible_check_mode": check_mode}
        return run_main(devpi_venv, capsys, args)

    return run


def test_a_new_venv_is_created_and_gets_exactly_the_pins(run, tmp_path, uv_exe):
    uv = Uv(tmp_path / "venv")
    result = run(uv, ca_bundle="/etc/ssl/certs/ca-certificates.crt", index_url="https://p.example/simple")
    assert (result["changed"], result["created"]) == (True, True)
    assert result["after"] == {"devpi-server": "6.20.3", "devpi-web": "5.1.1"}
    (venv_argv, env), (install_argv, _env) = uv.commands
    assert venv_argv[:3] == [uv_exe, "venv", "--python"]
    assert venv_argv[-3:] == ["--python-preference", "only-system", str(tmp_path / "venv")]
    assert install_argv == [
        uv_exe, "pip", "install", "--python", str(tmp_path / "venv" / "bin" / "python"),
        "--index-url", "https://p.example/simple", *PINS,
    ]  # fmt: skip
    assert env == {
        "UV_PYTHON_DOWNLOADS": "never",
        "UV_NO_CONFIG": "1",
        "UV_NO_PROGRESS": "1",
        "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
    }


def existing_venv(path, server_version):
    """A venv uv made earlier, holding devpi-server at `server_version` and devpi_web 5.1.1 (an unnormalized name)."""
    make_venv(path)
    install(path, "devpi-server", server_version)
    install(path, "devpi_web", "5.1.1")
    return Uv(path)


def test_pins_already_in_place_cost_no_command(run, tmp_path):
    uv = existing_venv(tmp_path / "venv", "6.20.3")
    result = run(uv)
    assert (result["changed"], uv.commands) == (False, [])


def test_a_version_bump_installs_into_the_existing_venv(run, tmp_path):
    uv = existing_venv(tmp_path / "venv", "6.20.2")
    result = run(uv)
    assert [argv[1] for argv, _env in uv.commands] == ["pip"]  # no new venv
    assert (result["before"]["devpi-server"], result["after"]["devpi-server"]) == ("6.20.2", "6.20.3")
    assert result["diff"] == {
        "before": "devpi-server==6.20.2\ndevpi-web==5.1.1\n",
        "after": "devpi-server==6.20.3\ndevpi-web==5.1.1\n",
    }


def test_check_mode_reports_and_touches_nothing(run, tmp_path):
    uv = Uv(tmp_path / "venv")
    result = run(uv, check_mode=True)
    assert (result["changed"], result["created"], uv.commands) == (True, True, [])
    assert not uv.path.exists()


def test_a_directory_that_is_not_a_venv_is_never_cleared(run, tmp_path):
    uv = Uv(tmp_path / "data")
    uv.path.mkdir()
    (uv.path / "precious.sqlite").write_text("x")
    result = run(uv)
    assert result["msg"] == f"path: {uv.path} exists and is not a virtualenv; refusing to replace it"
    assert (uv.commands, (uv.path / "precious.sqlite").exists()) == ([], True)


def test_a_venv_whose_interpreter_is_gone_is_cleared_and_made_again(run, tmp_path):
    uv = Uv(tmp_path / "venv")
    uv.path.mkdir()
    (uv.path / "pyvenv.cfg").write_text("home = /gone\n")
    run(uv)
    assert uv.commands[0][0][-2:] == ["--clear", str(uv.path)]


def test_an_install_that_does_not_satisfy_the_pins_fails(run, tmp_path):
    uv = Uv(tmp_path / "venv", installs=["devpi-server==6.20.3"])
    result = run(uv)
    assert result["msg"] == "after uv pip install these pins are still not satisfied: ['devpi-web==5.1.1']"


def test_uvs_error_is_the_message(run, tmp_path):
    result = run(Uv(tmp_path / "venv", rc=2))
    assert result["msg"] == "uv venv failed (rc=2): network unreachable"


@pytest.mark.parametrize("spec", ["devpi-server>=6", "devpi-server", "devpi-server==6.*"])
def test_only_exact_pins_are_taken(run, tmp_path, spec):
    result = run(Uv(tmp_path / "venv"), packages=[spec])
    assert result["msg"] == f"packages: {spec!r} is not pinned as name==version"


def test_a_local_source_is_installed_from_its_directory(run, tmp_path):
    source = tmp_path / "guard"
    source.mkdir()
    uv = Uv(tmp_path / "venv")
    run(uv, packages=[*PINS, "hostnative-devpi-guard==1.0.0"], sources={"hostnative_devpi_guard": str(source)})
    assert uv.commands[1][0][-1] == f"hostnative-devpi-guard @ file://{source}"


def test_a_source_for_no_pin_is_refused(run, tmp_path):
    result = run(Uv(tmp_path / "venv"), sources={"other": str(tmp_path)})
    assert result["msg"] == "sources: other not among the pinned packages"


def test_uv_that_is_not_executable_is_named(run, tmp_path):
    result = run(Uv(tmp_path / "venv"), uv=str(tmp_path / "no-uv"))
    assert result["msg"] == f"uv: {tmp_path / 'no-uv'} is not an executable"


def test_a_relocatable_venv_is_asked_of_uv_only_when_creating(run, tmp_path):
    uv = Uv(tmp_path / "venv")
    run(uv, relocatable=True)
    assert "--relocatable" in uv.commands[0][0]
    uv_again = Uv(tmp_path / "venv")
    run(uv_again, relocatable=True, packages=["devpi-server==6.20.2", "devpi-web==5.1.1"])
    assert [argv[1] for argv, _env in uv_again.commands] == ["pip"]
