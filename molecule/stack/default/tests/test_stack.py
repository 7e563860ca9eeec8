"""The whole stack through real clients over HTTPS: Caddy (internal CA) in front of devpi, files from disk, lockdown.

Clients run inside the container and trust Caddy's internal root (appended to a copy of the system bundle).
Requests to the site name come from 127.0.0.1 (trusted); requests to the container's own non-loopback address
come from an untrusted address, for the lockdown checks. Fixtures and helpers: conftest.py.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urljoin, urlsplit

import pytest
from conftest import BASE, BUNDLE, SIMPLE, SITE, UPLOADER, UV, container_ip, curl
from devpi_testinfra import ROOT_PASSWORD, pip_install


def test_pip_installs_through_caddy(host, tls):
    out, imported = pip_install(host, tls, UV, SIMPLE, "requests")
    assert "Successfully installed" in out
    assert imported == 0


def test_uv_installs_through_caddy(host, tls):
    venv = f"/tmp/uv-{uuid.uuid4().hex[:6]}"
    host.check_output(f"{UV} venv -q --python /usr/bin/python3 {venv}")
    host.check_output(f"{tls} {UV} pip install --no-cache --python {venv}/bin/python --index-url {SIMPLE} idna")
    assert host.run(f"{venv}/bin/python -c 'import idna'").rc == 0


def test_twine_and_devpi_upload_then_pip_install(host, tls, clients, dist):
    name, directory = dist
    user, password = UPLOADER
    twine = host.run(
        f"{tls} TWINE_USERNAME={user} TWINE_PASSWORD={password} {clients}/twine upload --non-interactive "
        f"--disable-progress-bar --repository-url {BASE}/uploader/dev/ {directory}/*.whl"
    )
    assert twine.rc == 0, twine.stdout + twine.stderr
    clientdir = f"/tmp/devpi-{uuid.uuid4().hex[:6]}"
    host.check_output(f"{tls} {clients}/devpi use --clientdir {clientdir} {BASE}/uploader/dev")
    host.check_output(f"{tls} {clients}/devpi login --clientdir {clientdir} {user} --password {password}")
    upload = host.run(f"{tls} {clients}/devpi upload --clientdir {clientdir} --from-dir {directory}")
    assert upload.rc == 0, upload.stdout + upload.stderr
    venv = f"/tmp/inst-{uuid.uuid4().hex[:6]}"
    host.check_output(f"{tls} UV_INDEX_URL={SIMPLE} {UV} venv -q --seed --python /usr/bin/python3 {venv}")
    index = f"{BASE}/uploader/dev/+simple/"
    out = host.check_output(f"{tls} {venv}/bin/pip install --no-cache-dir --index-url {index} {name}")
    assert f"Successfully installed {name}-1.0" in out


def test_devpi_use_shows_https_urls(host, tls, clients):
    clientdir = f"/tmp/devpi-use-{uuid.uuid4().hex[:6]}"
    out = host.check_output(f"{tls} {clients}/devpi use --clientdir {clientdir} {BASE}/uploader/dev")
    assert f"current devpi index: {BASE}/uploader/dev" in out
    api = json.loads(host.check_output(f"curl -sS --cacert {BUNDLE} -H 'Accept: application/json' {BASE}/+api"))
    assert api["result"]["login"] == f"{BASE}/+login"
    assert all(url.startswith(BASE) for url in api["result"].values() if isinstance(url, str) and "://" in url)


def test_second_download_is_served_from_disk(host, tls):
    """A wheel devpi has not fetched yet: the first download goes through devpi (which stores it), the second
    comes from disk."""
    page = json.loads(
        host.check_output(f"curl -sS --cacert {BUNDLE} -H 'Accept: application/vnd.pypi.simple.v1+json' {SIMPLE}six/")
    )
    for entry in page["files"]:
        if not entry["filename"].endswith(".whl"):
            continue
        absolute = urljoin(f"{SIMPLE}six/", entry["url"]).split("#", 1)[0]
        on_disk = "/var/lib/devpi/server/+files" + urlsplit(absolute).path
        if not host.file(on_disk).exists:
            break
    else:
        pytest.fail("every wheel of six is cached already")
    first_status, first = curl(host, absolute)
    assert first_status == 200
    assert host.file(on_disk).exists  # devpi fetched and stored it
    second_status, second = curl(host, absolute)
    assert second_status == 200
    assert "x-devpi-served-by" not in first  # fetched by devpi from upstream
    assert second["x-devpi-served-by"] == "caddy"
    assert second["content-type"] == "application/octet-stream"
    assert "max-age=" in second["cache-control"]


def test_simple_pages_are_compressed(host, tls):
    _status, headers = curl(
        host, f"{SIMPLE}idna/", "-H 'Accept: application/vnd.pypi.simple.v1+json'", "-H 'Accept-Encoding: gzip'"
    )
    assert headers.get("content-encoding") == "gzip"


def test_lockdown_rejects_management_from_an_untrusted_address(host, tls, dist, api):
    """From the container's own non-loopback address (not in the trusted networks): Caddy answers, not devpi."""
    resolve = f"--resolve {SITE}:443:{container_ip(host)}"
    index = f"root/x{uuid.uuid4().hex[:6]}"
    json_body = "-H 'Content-Type: application/json' -H 'Accept: application/json'"
    status, _headers, text = curl(
        host, f"{BASE}/{index}", resolve, "-X PUT", f"-u root:{ROOT_PASSWORD}", json_body, "-d '{}'", body=True
    )
    assert (status, text.strip()) == (403, "management is not allowed from this network")
    assert api.call("GET", f"/{index}")[0] == 404
    # root from there: refused by devpi itself (devpi_server_root_lockdown), whatever the spelling (test_security.py).
    status, _headers, text = curl(host, f"{BASE}/root/pypi", resolve, f"-u root:{ROOT_PASSWORD}", body=True)
    assert (status, json.loads(text)["message"]) == (403, "root is not allowed from this network")
    # Reads and uploads (POST, with the uploader's credentials) from there still work.
    assert curl(host, f"{SIMPLE}idna/", resolve)[0] == 200
    name, directory = dist
    user, password = UPLOADER
    sdist = host.check_output(f"ls {directory}/*.tar.gz").strip()
    status, _headers = curl(
        host,
        f"{BASE}/uploader/dev/",
        resolve,
        f"-u {user}:{password}",
        "-F ':action=file_upload'",
        f"-F name={name}",
        "-F version=1.0",
        f"-F content=@{sdist}",
    )
    assert status == 200
    assert api.call("GET", f"/uploader/dev/{name}/1.0")[1]["result"]["+links"]
    # From the trusted loopback, management works.
    assert api.call("PUT", f"/{index}", {"type": "stage"}, auth=("root", ROOT_PASSWORD))[0] == 200


def test_access_log_records_requests_as_json(host, tls):
    marker = f"/+api?probe={uuid.uuid4().hex[:8]}"
    assert curl(host, f"{BASE}{marker}")[0] == 200
    entries = [json.loads(line) for line in host.file("/var/log/caddy/devpi-access.log").content_string.splitlines()]
    mine = [entry for entry in entries if entry["request"]["uri"] == marker]
    assert len(mine) == 1
    assert mine[0]["status"] == 200


def test_caddy_reads_devpi_files_through_the_files_group_only(host):
    for path, mode in (("/var/lib/devpi", 0o710), ("/var/lib/devpi/server", 0o710)):
        directory = host.file(path)
        assert (directory.user, directory.group, directory.mode) == ("devpi", "devpi-files", mode), path
    files = host.file("/var/lib/devpi/server/+files")
    assert (files.group, files.mode) == ("devpi-files", 0o2750)
    caddy_groups = host.user("caddy").groups
    assert "devpi-files" in caddy_groups
    assert "devpi" not in caddy_groups  # devpi's own group reads its configuration
    # Nothing for others: not even the name of a file in the server directory.
    assert host.run("runuser -u nobody -- ls /var/lib/devpi/server/+files").rc != 0
    assert host.file("/var/lib/devpi/secret").mode == 0o600
    for private in (".sqlite", ".nodeinfo", ".serverversion"):
        entry = host.file(f"/var/lib/devpi/server/{private}")
        assert (entry.user, entry.mode) == ("devpi", 0o600), private
        assert entry.group in {"devpi", "devpi-files"}, private  # at 0600 the group reads nothing
