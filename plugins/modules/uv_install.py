#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: uv_install
short_description: Install a pinned uv executable from its wheel on a Python package index
version_added: 1.0.0
description:
  - Makes sure O(dest)/uv is uv at exactly O(version).
  - When it is not, downloads the uv wheel for this platform from the simple index at O(index_url), checks the
    sha256 the index publishes for it, and extracts the uv executable. Only the Python standard library is used on
    the host - no pip, unzip or curl needed.
  - Works with any index that serves the simple API (PEP 503 HTML or PEP 691 JSON), for example PyPI or a devpi mirror.
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
options:
  version:
    description: The uv version to install, for example V(0.13.8).
    type: str
    required: true
  dest:
    description: Directory that receives the C(uv) executable; created when missing.
    type: path
    required: true
  index_url:
    description: Base URL of the simple index.
    type: str
    default: https://pypi.org/simple
  ca_bundle:
    description: PEM bundle to verify the index's certificate with, instead of the system's.
    type: path
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 60
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Install uv 0.13.8 into /opt/devpi/bin
  hostnative.devpi.uv_install:
    version: 0.13.8
    dest: /opt/devpi/bin
"""

RETURN = r"""
path:
  description: Path of the uv executable.
  returned: always
  type: str
  sample: /opt/devpi/bin/uv
version:
  description: The version now installed (in check mode, the version that would be).
  returned: always
  type: str
  sample: 0.13.8
previous_version:
  description: The version found before, or null.
  returned: always
  type: str
wheel:
  description: File name of the wheel that was installed; only when something was installed.
  returned: changed
  type: str
  sample: uv-0.13.8-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
"""

import hashlib
import json
import os
import platform
import re
import tempfile
import zipfile
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.urls import open_url
from ansible_collections.hostnative.devpi.plugins.module_utils._venv import uv_version

_JSON_SIMPLE = "application/vnd.pypi.simple.v1+json"
_ARCH_ALIASES = {"amd64": "x86_64", "arm64": "aarch64"}


class _Anchors(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.links.append(href)


def list_files(index_url, timeout, ca_bundle):
    """(filename, absolute url, sha256 or None) for every file the index lists for project uv."""
    page = index_url.rstrip("/") + "/uv/"
    response = open_url(
        page,
        headers={"Accept": f"{_JSON_SIMPLE}, text/html;q=0.1"},
        timeout=timeout,
        ca_path=ca_bundle,
    )
    body = response.read()
    files = []
    if _JSON_SIMPLE in (response.headers.get("Content-Type") or ""):
        for entry in json.loads(body)["files"]:
            files.append((entry["filename"], urljoin(page, entry["url"]), entry.get("hashes", {}).get("sha256")))
        return files
    parser = _Anchors()
    parser.feed(body.decode("utf-8", "replace"))
    for href in parser.links:
        url, fragment = urldefrag(urljoin(page, href))
        sha = fragment[len("sha256=") :] if fragment.startswith("sha256=") else None
        files.append((url.rsplit("/", 1)[-1], url, sha))
    return files


def platform_markers():
    """(tag prefix, arch names) that a uv wheel for this host carries in its platform tag."""
    system = platform.system()
    machine = platform.machine().lower()
    machine = _ARCH_ALIASES.get(machine, machine)
    if system == "Darwin":
        return "macosx_", {"x86_64"} if machine == "x86_64" else {"arm64"}
    if system == "Linux":
        musl = any(name.startswith("ld-musl") for name in _safe_listdir("/lib"))
        return ("musllinux_" if musl else "manylinux"), {machine}
    return None, set()


def _safe_listdir(path):
    try:
        return os.listdir(path)
    except OSError:
        return []


def pick_wheel(files, version):
    prefix, arches = platform_markers()
    if prefix is None:
        return None
    wanted = re.compile(rf"^uv-{re.escape(version)}-py3-none-(.+)\.whl$")
    for filename, url, sha in files:
        match = wanted.match(filename)
        if not match:
            continue
        for tag in match.group(1).split("."):
            if tag.startswith(prefix) and any(tag.endswith("_" + arch) for arch in arches):
                return filename, url, sha
    return None


def download(url, timeout, ca_bundle, target):
    digest = hashlib.sha256()
    response = open_url(url, timeout=timeout, ca_path=ca_bundle)
    with open(target, "wb") as handle:
        for block in iter(lambda: response.read(1 << 20), b""):
            digest.update(block)
            handle.write(block)
    return digest.hexdigest()


def extract_uv(wheel, dest):
    with zipfile.ZipFile(wheel) as archive:
        members = [name for name in archive.namelist() if re.match(r"^[^/]+\.data/scripts/uv$", name)]
        if len(members) != 1:
            raise ValueError(f"the wheel holds {len(members)} uv executables, expected 1")
        fd, tmp = tempfile.mkstemp(prefix=".uv-", dir=dest)
        with os.fdopen(fd, "wb") as handle, archive.open(members[0]) as source:
            for block in iter(lambda: source.read(1 << 20), b""):
                handle.write(block)
    os.chmod(tmp, 0o755)  # noqa: S103 - an executable meant to be run by every account on the host
    os.replace(tmp, os.path.join(dest, "uv"))


def main():
    module = AnsibleModule(
        argument_spec={
            "version": {"type": "str", "required": True},
            "dest": {"type": "path", "required": True},
            "index_url": {"type": "str", "default": "https://pypi.org/simple"},
            "ca_bundle": {"type": "path"},
            "timeout": {"type": "int", "default": 60},
        },
        supports_check_mode=True,
    )
    params = module.params
    version = params["version"]
    if not re.match(r"^\d+\.\d+\.\d+$", version):
        module.fail_json(msg=f"version must look like 1.2.3, got {version!r}")
    target = os.path.join(params["dest"], "uv")
    previous = uv_version(target) if os.path.exists(target) else None
    result = {"changed": False, "path": target, "version": version, "previous_version": previous}
    if previous == version:
        module.exit_json(**result)
    result["changed"] = True
    if module.check_mode:
        module.exit_json(**result)

    index = params["index_url"]
    try:
        files = list_files(index, params["timeout"], params["ca_bundle"])
    except Exception as exc:
        module.fail_json(msg=f"could not list uv files on the index {index}: {exc}", **result)
    chosen = pick_wheel(files, version)
    if chosen is None:
        module.fail_json(
            msg=f"the index {index} has no uv {version} wheel for {platform.system()} {platform.machine()}", **result
        )
    filename, url, expected_sha = chosen
    if not expected_sha:
        module.fail_json(msg=f"the index {index} publishes no sha256 for {filename}; refusing an unverified binary")
    os.makedirs(params["dest"], mode=0o755, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="uv-install-") as scratch:
        wheel = os.path.join(scratch, filename)
        try:
            actual_sha = download(url, params["timeout"], params["ca_bundle"], wheel)
        except Exception as exc:
            module.fail_json(msg=f"could not download {filename} from {index}: {exc}", **result)
        if actual_sha != expected_sha:
            module.fail_json(msg=f"sha256 of {filename} is {actual_sha}, the index says {expected_sha}", **result)
        try:
            extract_uv(wheel, params["dest"])
        except (OSError, ValueError, zipfile.BadZipFile) as exc:
            module.fail_json(msg=f"could not extract uv from {filename}: {exc}", **result)
    installed = uv_version(target)
    if installed != version:
        module.fail_json(msg=f"{target} reports version {installed!r} after installing {filename}", **result)
    module.exit_json(wheel=filename, **result)


if __name__ == "__main__":
    main()
