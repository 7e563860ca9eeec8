"""uv_install's main() in process: the package index (open_url) is a stand-in serving a simple page (PEP 691 JSON or
HTML) and a wheel built here; `uv --version` of the installed file is read by a stand-in instead of running it. The
module against PyPI-shaped pages on a real HTTP server and a real uv is in tests/integration and Molecule."""

from __future__ import annotations

import hashlib
import io
import json
import stat
import zipfile

import pytest
from ansible_collections.hostnative.devpi.plugins.modules import uv_install
from devpi_api_stub import run_main

VERSION = "0.13.8"
LINUX = f"uv-{VERSION}-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl"
MUSL = f"uv-{VERSION}-py3-none-musllinux_1_1_x86_64.whl"
MAC = f"uv-{VERSION}-py3-none-macosx_11_0_arm64.whl"


def wheel(version=VERSION, scripts=1):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for number in range(scripts):
            archive.writestr(f"{'uv' if number == 0 else 'extra'}-{version}.data/scripts/uv", f"uv {version}\n")
        archive.writestr(f"uv-{version}.dist-info/METADATA", "Name: uv\n")
    return buffer.getvalue()


class Response(io.BytesIO):
    def __init__(self, body, content_type=""):
        super().__init__(body)
        self.headers = {"Content-Type": content_type}


class Index:
    """https://p.example/simple/uv/ and its files; records every URL asked for."""

    def __init__(self, files, html=False, sha=True, served=None):
        self.files, self.html, self.sha = files, html, sha
        self.served = served or {}  # what a download really returns, where it is not what the page hashed
        self.asked = []

    def open_url(self, url, headers=None, timeout=None, ca_path=None):
        self.asked.append(url)
        if url == "https://p.example/simple/uv/":
            return self.page()
        name = url.rsplit("/", 1)[-1]
        return Response(self.served.get(name, self.files[name]))

    def page(self):
        entries = [
            (name, f"../../files/{name}", hashlib.sha256(body).hexdigest() if self.sha else None)
            for name, body in self.files.items()
        ]
        if self.html:
            links = "".join(
                f'<a href="{url}{"#sha256=" + sha if sha else ""}">{name}</a>' for name, url, sha in entries
            )
            return Response(f"<html><body>{links}</body></html>".encode(), "text/html")
        files = [{"filename": name, "url": url, "hashes": {"sha256": sha} if sha else {}} for name, url, sha in entries]
        return Response(json.dumps({"files": files}).encode(), uv_install._JSON_SIMPLE)


@pytest.fixture
def run(monkeypatch, capsys, tmp_path):
    monkeypatch.setattr(uv_install, "platform_markers", lambda: ("manylinux", {"x86_64"}))

    def installed_version(path):
        return open(path, encoding="utf-8").read().split()[1]  # the stand-in uv's "--version" line

    monkeypatch.setattr(uv_install, "uv_version", installed_version)

    def run(index, check_mode=False, **params):
        monkeypatch.setattr(uv_install, "open_url", index.open_url)
        args = {"version": VERSION, "dest": str(tmp_path / "bin"), "index_url": "https://p.example/simple"}
        return run_main(uv_install, capsys, {**args, **params, "_ansible_check_mode": check_mode})

    return run


@pytest.mark.parametrize("html", [False, True], ids=["json", "html"])
def test_the_platforms_wheel_is_checked_and_its_uv_installed(run, tmp_path, html):
    index = Index({MAC: wheel(), LINUX: wheel(), MUSL: wheel()}, html=html)
    result = run(index)
    assert (result["changed"], result["wheel"], result["previous_version"]) == (True, LINUX, None)
    uv = tmp_path / "bin" / "uv"
    assert uv.read_text() == f"uv {VERSION}\n"
    assert stat.S_IMODE(uv.stat().st_mode) == 0o755
    assert index.asked == ["https://p.example/simple/uv/", f"https://p.example/files/{LINUX}"]
    assert [p.name for p in (tmp_path / "bin").iterdir()] == ["uv"]  # no temporary file left


def test_the_installed_version_costs_no_request(run, tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "uv").write_text(f"uv {VERSION}\n")
    index = Index({LINUX: wheel()})
    assert run(index)["changed"] is False
    assert index.asked == []


def test_check_mode_asks_the_index_nothing(run):
    index = Index({LINUX: wheel()})
    assert run(index, check_mode=True)["changed"] is True
    assert index.asked == []


def test_a_wheel_whose_sha256_differs_is_refused(run, tmp_path):
    published = wheel()
    result = run(Index({LINUX: published}, served={LINUX: b"tampered"}))
    assert result["msg"] == (
        f"sha256 of {LINUX} is {hashlib.sha256(b'tampered').hexdigest()}, the index says "
        f"{hashlib.sha256(published).hexdigest()}"
    )
    assert not (tmp_path / "bin" / "uv").exists()


def test_an_index_without_sha256_is_refused(run):
    result = run(Index({LINUX: wheel()}, sha=False))
    assert (
        result["msg"]
        == f"the index https://p.example/simple publishes no sha256 for {LINUX}; refusing an unverified binary"
    )


def test_no_wheel_for_this_platform(run):
    result = run(Index({MAC: wheel()}))
    assert result["msg"].startswith(f"the index https://p.example/simple has no uv {VERSION} wheel for ")


def test_a_wheel_without_exactly_one_uv_is_refused(run, tmp_path):
    result = run(Index({LINUX: wheel(scripts=2)}))
    assert result["msg"] == f"could not extract uv from {LINUX}: the wheel holds 2 uv executables, expected 1"
    assert not (tmp_path / "bin" / "uv").exists()


def test_a_uv_that_reports_another_version_fails(run, tmp_path):
    result = run(Index({LINUX: wheel(version="0.13.7")}))  # published under 0.13.8's name
    assert result["msg"] == f"{tmp_path / 'bin' / 'uv'} reports version '0.13.7' after installing {LINUX}"


@pytest.mark.parametrize("version", ["0.13", "v0.13.8", "0.13.8rc1", "latest"])
def test_a_version_that_is_not_x_y_z_is_refused(run, version):
    assert run(Index({}), version=version)["msg"] == f"version must look like 1.2.3, got {version!r}"


def test_musl_and_macos_hosts_pick_their_own_wheel(monkeypatch):
    files = [(name, f"https://p.example/files/{name}", "0" * 64) for name in (LINUX, MUSL, MAC)]
    monkeypatch.setattr(uv_install, "platform_markers", lambda: ("musllinux_", {"x86_64"}))
    assert uv_install.pick_wheel(files, VERSION)[0] == MUSL
    monkeypatch.setattr(uv_install, "platform_markers", lambda: ("macosx_", {"arm64"}))
    assert uv_install.pick_wheel(files, VERSION)[0] == MAC
    assert uv_install.pick_wheel(files, "0.13.9") is None
