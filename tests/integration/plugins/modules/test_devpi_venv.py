"""devpi_venv with the real uv, installing wheels built here from a simple index served on loopback.

A shim in front of uv records every invocation, so "no work when the pins match" is observed, not assumed.
"""

from __future__ import annotations

import base64
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import threading
import zipfile
from functools import partial

import pytest

REAL_UV = shutil.which("uv", path=os.path.dirname(sys.executable)) or shutil.which("uv")


def build_wheel(directory, name, version):
    """A minimal valid wheel: one module reporting its version, METADATA, WHEEL and a RECORD with hashes."""
    dist = f"{name}-{version}.dist-info"
    files = {
        f"{name}.py": f"VERSION = {version!r}\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for path, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=").decode()
        record.append(f"{path},sha256={digest},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    files[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    filename = f"{name}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(directory / filename, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return filename


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("index")
    project = root / "simple" / "tinypkg"
    project.mkdir(parents=True)
    names = [build_wheel(project, "tinypkg", version) for version in ("1.0", "2.0")]
    links = "".join(
        f'<a href="{n}#sha256={hashlib.sha256((project / n).read_bytes()).hexdigest()}">{n}</a>' for n in names
    )
    (project / "index.html").write_text(f"<html><body>{links}</body></html>")
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/simple"
    server.shutdown()


@pytest.fixture
def uv(tmp_path):
    assert REAL_UV, "uv must be installed (it is in the test dependency group)"
    log = tmp_path / "uv-calls.log"
    shim = tmp_path / "uv"
    shim.write_text(f'#!/bin/sh\necho "$*" >> {log}\nexec {REAL_UV} "$@"\n')
    shim.chmod(0o755)
    return shim, log


def calls(log):
    return log.read_text().splitlines() if log.exists() else []


def args(venv, uv_shim, index, pins):
    return {"path": str(venv), "packages": pins, "uv": str(uv_shim), "index_url": index, "python": sys.executable}


def venv_version(venv):
    argv = [venv / "bin" / "python", "-c", "import tinypkg; print(tinypkg.VERSION)"]
    return subprocess.check_output(argv, text=True).strip()  # noqa: S603 - the test's own venv


def test_creates_then_noop_then_upgrades_in_place(run_module, index, uv, tmp_path):
    shim, log = uv
    venv = tmp_path / "venv"
    cache = {"UV_CACHE_DIR": str(tmp_path / "c")}
    first = run_module("devpi_venv", args(venv, shim, index, ["tinypkg==1.0"]), env=cache)
    assert first["changed"] is True, first
    assert first["created"] is True
    assert first["before"] == {"tinypkg": None}
    assert first["after"] == {"tinypkg": "1.0"}
    assert venv_version(venv) == "1.0"
    assert [c.split()[0:2] for c in calls(log)] == [["venv", "--python"], ["pip", "install"]]

    log.unlink()
    second = run_module("devpi_venv", args(venv, shim, index, ["TinyPkg==1.0"]))
    assert second["changed"] is False
    assert calls(log) == []  # not even `uv --version`

    (venv / "keep-me").write_text("survives upgrades")
    third = run_module("devpi_venv", args(venv, shim, index, ["tinypkg==2.0"]), env=cache)
    assert third["changed"] is True
    assert third["created"] is False
    assert (third["before"], third["after"]) == ({"tinypkg": "1.0"}, {"tinypkg": "2.0"})
    assert venv_version(venv) == "2.0"
    assert (venv / "keep-me").read_text() == "survives upgrades"
    assert third["diff"] == {"before": "tinypkg==1.0\n", "after": "tinypkg==2.0\n"}


def test_check_mode_changes_nothing(run_module, index, uv, tmp_path):
    shim, log = uv
    venv = tmp_path / "venv"
    result = run_module("devpi_venv", args(venv, shim, index, ["tinypkg==1.0"]), check_mode=True)
    assert result["changed"] is True
    assert result["created"] is True
    assert not venv.exists()
    assert calls(log) == []


def test_refuses_to_replace_a_directory_that_is_not_a_venv(run_module, index, uv, tmp_path):
    shim, log = uv
    data = tmp_path / "server-dir"
    data.mkdir()
    (data / ".nodeinfo").write_text("{}")
    result = run_module("devpi_venv", args(data, shim, index, ["tinypkg==1.0"]))
    assert result["failed"] is True
    assert "is not a virtualenv; refusing to replace it" in result["msg"]
    assert (data / ".nodeinfo").read_text() == "{}"
    assert calls(log) == []


def test_recreates_a_venv_whose_interpreter_is_gone(run_module, index, uv, tmp_path):
    shim = uv[0]
    venv = tmp_path / "venv"
    env = {"UV_CACHE_DIR": str(tmp_path / "c")}
    assert run_module("devpi_venv", args(venv, shim, index, ["tinypkg==1.0"]), env=env)["changed"] is True
    (venv / "bin" / "python").unlink()
    result = run_module("devpi_venv", args(venv, shim, index, ["tinypkg==1.0"]), env=env)
    assert result["changed"] is True
    assert result["created"] is True
    assert venv_version(venv) == "1.0"


@pytest.mark.parametrize("spec", ["tinypkg", "tinypkg>=1.0", "tinypkg==1.*; python_version>'3'"])
def test_rejects_unpinned_requirements(run_module, index, uv, tmp_path, spec):
    shim = uv[0]
    result = run_module("devpi_venv", args(tmp_path / "venv", shim, index, [spec]))
    assert result["failed"] is True
    assert f"packages: {spec!r} is not pinned as name==version" == result["msg"]


def test_unknown_version_fails_and_reports_uv(run_module, index, uv, tmp_path):
    shim = uv[0]
    result = run_module("devpi_venv", args(tmp_path / "venv", shim, index, ["tinypkg==3.0"]))
    assert result["failed"] is True
    assert result["msg"].startswith("uv pip install failed")
    assert "tinypkg" in result["msg"]


IN_TREE_BACKEND = '''
"""A PEP 517 backend in the source tree itself, so the test needs no build backend from an index."""
import base64, hashlib, os, zipfile

NAME, VERSION = "srcpkg", open(os.path.join(os.path.dirname(__file__), "VERSION")).read().strip()


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    dist = f"{NAME}-{VERSION}.dist-info"
    files = {
        f"{NAME}.py": f"VERSION = {VERSION!r}\\n",
        f"{dist}/METADATA": f"Metadata-Version: 2.1\\nName: {NAME}\\nVersion: {VERSION}\\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\\nGenerator: test\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n",
    }
    record = [
        f"{p},sha256={base64.urlsafe_b64encode(hashlib.sha256(t.encode()).digest()).rstrip(b'=').decode()},{len(t)}"
        for p, t in files.items()
    ]
    files[f"{dist}/RECORD"] = "\\n".join(record + [f"{dist}/RECORD,,"]) + "\\n"
    filename = f"{NAME}-{VERSION}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, filename), "w") as archive:
        for p, t in files.items():
            archive.writestr(p, t)
    return filename
'''


def source_tree(directory, version):
    """A project directory whose wheel is built by a backend inside it (no network)."""
    directory.mkdir(exist_ok=True)
    (directory / "pyproject.toml").write_text(
        '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n'
        f'[project]\nname = "srcpkg"\nversion = "{version}"\n'
    )
    (directory / "backend.py").write_text(IN_TREE_BACKEND)
    (directory / "VERSION").write_text(version)
    return directory


def test_a_pinned_project_is_built_from_its_source_directory(run_module, index, uv, tmp_path):
    shim, log = uv
    venv = tmp_path / "venv"
    source = source_tree(tmp_path / "srcpkg", "1.0")
    env = {"UV_CACHE_DIR": str(tmp_path / "c")}
    given = {**args(venv, shim, index, ["tinypkg==1.0", "SrcPkg==1.0"]), "sources": {"srcpkg": str(source)}}
    first = run_module("devpi_venv", given, env=env)
    assert first["changed"] is True, first
    assert first["after"] == {"tinypkg": "1.0", "srcpkg": "1.0"}
    installed = subprocess.check_output([venv / "bin" / "python", "-c", "import srcpkg; print(srcpkg.VERSION)"])  # noqa: S603 - the test's venv
    assert installed.decode().strip() == "1.0"
    assert f"srcpkg @ file://{source}" in calls(log)[-1]

    log.unlink()
    assert run_module("devpi_venv", given, env=env)["changed"] is False
    assert calls(log) == []

    # A new version in the directory and the pin that names it: rebuilt and upgraded in place.
    source_tree(source, "1.1")
    upgraded = run_module("devpi_venv", {**given, "packages": ["tinypkg==1.0", "srcpkg==1.1"]}, env=env)
    assert (upgraded["before"]["srcpkg"], upgraded["after"]["srcpkg"]) == ("1.0", "1.1")


def test_a_source_whose_version_is_not_the_pin_fails(run_module, index, uv, tmp_path):
    source = source_tree(tmp_path / "srcpkg", "1.0")
    given = {**args(tmp_path / "venv", uv[0], index, ["srcpkg==2.0"]), "sources": {"srcpkg": str(source)}}
    result = run_module("devpi_venv", given, env={"UV_CACHE_DIR": str(tmp_path / "c")})
    assert result["failed"] is True
    assert "still not satisfied: ['srcpkg==2.0']" in result["msg"]


@pytest.mark.parametrize(
    "case",
    [
        ({"otherpkg": "/nonexistent/otherpkg"}, "sources: otherpkg not among the pinned packages"),
        ({"tinypkg": "/nonexistent/tinypkg"}, "sources: tinypkg: /nonexistent/tinypkg is not a directory"),
    ],
)
def test_bad_sources_fail_before_anything_is_installed(run_module, index, uv, tmp_path, case):
    sources, message = case
    shim, log = uv
    result = run_module("devpi_venv", {**args(tmp_path / "venv", shim, index, ["tinypkg==1.0"]), "sources": sources})
    assert result["failed"] is True
    assert result["msg"] == message
    assert not [call for call in calls(log) if call.startswith("pip install")]


def test_check_mode_does_not_need_the_source_directory_yet(run_module, index, uv, tmp_path):
    """On a new host the role copies the source in the same run; check mode has not copied it."""
    given = {**args(tmp_path / "venv", uv[0], index, ["srcpkg==1.0"]), "sources": {"srcpkg": str(tmp_path / "later")}}
    result = run_module("devpi_venv", given, check_mode=True)
    assert (result["changed"], result.get("failed", False)) == (True, False)
