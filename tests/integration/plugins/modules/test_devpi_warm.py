"""devpi_warm against a REAL devpi-server whose root/pypi mirrors the real PyPI (the session devpi of conftest.py),
with a real pip (26.3, as devpi_server_warm_pip_version pins, in a venv uv makes): the wheels of every platform and
Python version asked for are fetched into devpi's +files, a second run fetches nothing, a requirement that cannot
be had is named with its platform and pip's reason."""

from __future__ import annotations

import subprocess

import pytest
import yaml
from conftest import BIN, REPO, start_devpi_with_mirror, stop_devpi

PIP_VERSION = yaml.safe_load((REPO / "roles/devpi_server/defaults/main.yml").read_text())[
    "devpi_server_warm_pip_version"
]


@pytest.fixture(scope="module")
def pip_python(tmp_path_factory):
    venv = tmp_path_factory.mktemp("warm") / "venv"
    subprocess.run([BIN / "uv", "venv", "-q", str(venv)], check=True)  # noqa: S603 - the pinned uv
    subprocess.run(  # noqa: S603 - the pinned uv
        [BIN / "uv", "pip", "install", "-q", "--python", str(venv / "bin/python"), f"pip=={PIP_VERSION}"], check=True
    )
    return str(venv / "bin/python")


@pytest.fixture(scope="module")
def mirror(tmp_path_factory):
    """A devpi of its own whose root/pypi mirrors PyPI: (url, server directory)."""
    serverdir = tmp_path_factory.mktemp("warm-devpi") / "server"
    url, proc = start_devpi_with_mirror(serverdir)
    yield url, serverdir
    stop_devpi(proc)


def warm(run_module, mirror, **params):
    url, serverdir = mirror
    args = {"index_url": f"{url}/root/pypi/+simple/", "files_dir": str(serverdir / "+files"), **params}
    return run_module("devpi_warm", args)


def test_every_platform_and_python_is_fetched_once(run_module, mirror, pip_python):
    params = {
        "python": pip_python,
        "requirements": ["markupsafe==3.0.2"],
        "platforms": ["manylinux2014_x86_64", "macosx_11_0_arm64"],
        "python_versions": ["3.11", "3.12"],
    }
    first = warm(run_module, mirror, **params)
    assert first["changed"] is True, first
    assert first["failed"] == []
    fetched = first["fetched"]
    for tag in ("cp311", "cp312"):
        assert any(tag in name and "manylinux" in name and "x86_64" in name for name in fetched), fetched
        assert any(tag in name and "macosx" in name and "arm64" in name for name in fetched), fetched
    stored = {path.name for path in (mirror[1] / "+files").rglob("*.whl")}
    assert set(fetched) <= stored
    again = warm(run_module, mirror, **params)
    assert (again["changed"], again["fetched"]) == (False, [])
    assert sorted(again["present"]) == sorted(fetched)


def test_what_cannot_be_had_is_named(run_module, mirror, pip_python):
    result = warm(
        run_module,
        mirror,
        python=pip_python,
        requirements=["markupsafe==3.0.2", "markupsafe-does-not-exist==1.0"],
        platforms=["manylinux2014_x86_64"],
        python_versions=["3.12"],
    )
    assert [failure["requirement"] for failure in result["failed"]] == ["markupsafe-does-not-exist==1.0"]
    (failure,) = result["failed"]
    assert (failure["platform"], failure["python_version"]) == ("manylinux2014_x86_64", "3.12")
    assert "No matching distribution" in failure["error"]
