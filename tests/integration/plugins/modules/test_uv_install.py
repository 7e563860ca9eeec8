"""uv_install against a real HTTP simple index on loopback (PEP 503 HTML and PEP 691 JSON).

The wheels are built by the test: the same layout as uv's (``uv-<v>.data/scripts/uv``), with a small script
as the executable that reports its version the way uv does, and one wheel per platform so selection is tested.
"""

from __future__ import annotations

import hashlib
import http.server
import json
import os
import platform
import threading
import zipfile

import pytest

VERSION = "9.9.9"
ARCH = platform.machine().lower()
TAGS = {
    "here": f"manylinux_2_17_{ARCH}.manylinux2014_{ARCH}",
    "musl": f"musllinux_1_1_{ARCH}",
    "mac": "macosx_11_0_arm64",
    "other-arch": "manylinux_2_17_s390x.manylinux2014_s390x",
}


def build_wheel(directory, tag, reported):
    name = f"uv-{VERSION}-py3-none-{tag}.whl"
    with zipfile.ZipFile(directory / name, "w") as archive:
        archive.writestr(f"uv-{VERSION}.data/scripts/uv", f"#!/bin/sh\necho 'uv {reported} (test build)'\n")
        archive.writestr(f"uv-{VERSION}.dist-info/WHEEL", "Wheel-Version: 1.0\n")
    return name


class Index:
    """Serves /simple/uv/ (HTML or JSON by Accept) and /files/<wheel>; the listed sha256 can be falsified."""

    def __init__(self, directory, wheels, json_api, bad_sha=False):
        self.directory = directory
        self.wheels = wheels
        self.json_api = json_api
        self.bad_sha = bad_sha
        self.requests = []
        index = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                index.requests.append(self.path)
                if self.path == "/simple/uv/":
                    body, ctype = index.page(self.headers.get("Accept", ""))
                elif self.path.startswith("/files/") and (directory / self.path[7:]).exists():
                    body, ctype = (directory / self.path[7:]).read_bytes(), "application/octet-stream"
                else:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/simple"

    def sha(self, name):
        digest = hashlib.sha256((self.directory / name).read_bytes()).hexdigest()
        return "0" * 64 if self.bad_sha else digest

    def page(self, accept):
        if self.json_api and "application/vnd.pypi.simple.v1+json" in accept:
            files = [{"filename": n, "url": f"../../files/{n}", "hashes": {"sha256": self.sha(n)}} for n in self.wheels]
            return json.dumps({"meta": {"api-version": "1.0"}, "name": "uv", "files": files}).encode(), (
                "application/vnd.pypi.simple.v1+json"
            )
        links = "".join(f'<a href="../../files/{n}#sha256={self.sha(n)}">{n}</a>\n' for n in self.wheels)
        return f"<html><body>{links}</body></html>".encode(), "text/html"


@pytest.fixture
def wheels(tmp_path):
    directory = tmp_path / "files"
    directory.mkdir()
    # Only the wheel for this host reports the right version, so picking any other one fails the test.
    names = [build_wheel(directory, tag, VERSION if key == "here" else "0.0.1") for key, tag in TAGS.items()]
    return directory, names


@pytest.fixture
def index_factory(wheels):
    made = []

    def make(json_api=False, bad_sha=False):
        index = Index(wheels[0], wheels[1], json_api=json_api, bad_sha=bad_sha)
        made.append(index)
        return index

    yield make
    for index in made:
        index.server.shutdown()


@pytest.mark.skipif(platform.system() != "Linux", reason="the wheels above are tagged for Linux hosts")
@pytest.mark.parametrize("json_api", [False, True], ids=["html-index", "json-index"])
def test_installs_the_wheel_for_this_platform_then_is_a_noop(run_module, index_factory, tmp_path, json_api):
    index = index_factory(json_api=json_api)
    dest = tmp_path / "bin"
    first = run_module("uv_install", {"version": VERSION, "dest": str(dest), "index_url": index.url})
    assert first["changed"] is True, first
    assert first["wheel"] == f"uv-{VERSION}-py3-none-{TAGS['here']}.whl"
    assert first["previous_version"] is None
    assert os.stat(dest / "uv").st_mode & 0o777 == 0o755
    downloads = [r for r in index.requests if r.startswith("/files/")]
    assert downloads == [f"/files/{first['wheel']}"]

    second = run_module("uv_install", {"version": VERSION, "dest": str(dest), "index_url": index.url})
    assert second["changed"] is False
    assert second["previous_version"] == VERSION
    assert len([r for r in index.requests if r.startswith("/files/")]) == 1  # no second download


def test_sha256_mismatch_installs_nothing(run_module, index_factory, tmp_path):
    index = index_factory(bad_sha=True)
    dest = tmp_path / "bin"
    result = run_module("uv_install", {"version": VERSION, "dest": str(dest), "index_url": index.url})
    assert result["failed"] is True
    assert "sha256" in result["msg"]
    assert not (dest / "uv").exists()


def test_missing_version_names_the_index(run_module, index_factory, tmp_path):
    index = index_factory()
    result = run_module("uv_install", {"version": "1.2.3", "dest": str(tmp_path / "bin"), "index_url": index.url})
    assert result["failed"] is True
    assert index.url in result["msg"]
    assert "no uv 1.2.3 wheel" in result["msg"]


def test_check_mode_reports_and_writes_nothing(run_module, index_factory, tmp_path):
    index = index_factory()
    dest = tmp_path / "bin"
    result = run_module("uv_install", {"version": VERSION, "dest": str(dest), "index_url": index.url}, check_mode=True)
    assert result["changed"] is True
    assert not dest.exists()
    assert index.requests == []


def test_unreachable_index_is_a_clear_error(run_module, tmp_path):
    result = run_module(
        "uv_install", {"version": VERSION, "dest": str(tmp_path / "bin"), "index_url": "http://127.0.0.1:9/simple"}
    )
    assert result["failed"] is True
    assert "could not list uv files on the index http://127.0.0.1:9/simple" in result["msg"]


def test_rejects_a_version_that_is_not_x_y_z(run_module, tmp_path):
    result = run_module("uv_install", {"version": "latest", "dest": str(tmp_path / "bin")})
    assert result["failed"] is True
    assert "version must look like 1.2.3" in result["msg"]
