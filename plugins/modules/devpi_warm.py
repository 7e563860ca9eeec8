#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: devpi_warm
short_description: Fetch a list of requirements through a devpi mirror index so its files are cached on disk
version_added: 1.0.0
description:
  - Runs C(pip download) (with the Python O(python), which has pip) against O(index_url) for O(requirements) and
    O(requirement_files), once for every combination of O(platforms) and O(python_versions) (the host's own when
    empty), so devpi fetches each file from upstream and stores it - before anyone asks for it.
  - Reports which files devpi fetched now (they were not in O(files_dir) before), which it already had, and which
    requirements failed. Changed only when devpi fetched something; a second run fetches nothing.
  - When a run of pip fails, each requirement is tried on its own to name the ones that fail.
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
options:
  python:
    description: A Python with pip.
    type: path
    required: true
  index_url:
    description: The mirror index's simple URL, for example C(http://127.0.0.1:3141/root/pypi/+simple/).
    type: str
    required: true
  requirements:
    description: Requirement lines (C(name==version), or anything pip takes in a requirements file).
    type: list
    elements: str
    default: []
  requirement_files:
    description: Requirements or lock files on the host (C(pip download -r)).
    type: list
    elements: path
    default: []
  platforms:
    description: pip platform tags to fetch wheels for (C(manylinux2014_x86_64), C(macosx_11_0_arm64)); binary only.
    type: list
    elements: str
    default: []
  python_versions:
    description: Python versions to fetch wheels for (C(3.11), C(3.12)); binary only.
    type: list
    elements: str
    default: []
  files_dir:
    description: devpi's C(+files) directory, where it stores what it fetched.
    type: path
    required: true
  timeout:
    description: pip's socket timeout in seconds, per request.
    type: int
    default: 60
attributes:
  check_mode:
    support: none
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Warm the mirror with what CI installs
  hostnative.devpi.devpi_warm:
    python: /var/lib/devpi/warm/bin/python
    index_url: http://127.0.0.1:3141/root/pypi/+simple/
    requirements: [requests==2.32.3, idna==3.10]
    platforms: [manylinux2014_x86_64, macosx_11_0_arm64]
    python_versions: ["3.11", "3.12"]
    files_dir: /var/lib/devpi/server/+files
"""

RETURN = r"""
fetched:
  description: Files devpi fetched from upstream in this run.
  returned: always
  type: list
  elements: str
present:
  description: Files devpi already had.
  returned: always
  type: list
  elements: str
failed:
  description: Requirements that could not be fetched, with the combination and pip's last line.
  returned: always
  type: list
  elements: dict
"""

import os
import shutil
import tempfile

from ansible.module_utils.basic import AnsibleModule


def stored_files(files_dir):
    found = set()
    for _root, _dirs, names in os.walk(files_dir):
        found.update(name for name in names if not name.startswith("."))
    return found


def combinations(platforms, python_versions):
    return [(platform, version) for platform in platforms or [None] for version in python_versions or [None]]


def pip_download(module, requirement_args, combination, dest):
    platform, version = combination
    argv = [
        module.params["python"],
        "-m",
        "pip",
        "download",
        "--disable-pip-version-check",
        "--no-input",
        "--no-cache-dir",
        "--timeout",
        str(module.params["timeout"]),
        "--retries",
        "0",
        "--index-url",
        module.params["index_url"],
        "--dest",
        dest,
    ]
    if platform:
        argv += ["--platform", platform]
    if version:
        argv += ["--python-version", version]
    if platform or version:
        argv += ["--only-binary=:all:"]
    return module.run_command([*argv, *requirement_args], environ_update={"PIP_CONFIG_FILE": os.devnull})


def last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1] if lines else "no output"


def main():
    module = AnsibleModule(
        argument_spec={
            "python": {"type": "path", "required": True},
            "index_url": {"type": "str", "required": True},
            "requirements": {"type": "list", "elements": "str", "default": []},
            "requirement_files": {"type": "list", "elements": "path", "default": []},
            "platforms": {"type": "list", "elements": "str", "default": []},
            "python_versions": {"type": "list", "elements": "str", "default": []},
            "files_dir": {"type": "path", "required": True},
            "timeout": {"type": "int", "default": 60},
        },
        supports_check_mode=False,
    )
    params = module.params
    lines = [line.strip() for line in params["requirements"] if line.strip()]
    if not lines and not params["requirement_files"]:
        module.exit_json(changed=False, fetched=[], present=[], failed=[])
    before = stored_files(params["files_dir"])
    work = tempfile.mkdtemp(prefix="devpi-warm-")
    downloaded, failed = set(), []
    try:
        listing = os.path.join(work, "requirements.txt")
        with open(listing, "w", encoding="utf-8") as handle:
            handle.write("".join(f"{line}\n" for line in lines))
        everything = ["-r", listing] + [arg for path in params["requirement_files"] for arg in ("-r", path)]
        for position, combination in enumerate(combinations(params["platforms"], params["python_versions"])):
            dest = os.path.join(work, f"combination-{position}")
            os.mkdir(dest)
            rc, _out, _err = pip_download(module, everything, combination, dest)
            if rc != 0:  # name the requirements that fail, one by one
                singles = [[line] for line in lines] + [["-r", path] for path in params["requirement_files"]]
                for single in singles:
                    rc, out, err = pip_download(module, single, combination, dest)
                    if rc != 0:
                        failed.append(
                            {
                                "requirement": " ".join(single),
                                "platform": combination[0] or "this host",
                                "python_version": combination[1] or "this host's",
                                "error": last_line(err or out),
                            }
                        )
            downloaded.update(os.listdir(dest))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    after = stored_files(params["files_dir"])
    fetched = sorted(downloaded & (after - before))
    present = sorted(downloaded & before)
    module.exit_json(changed=bool(fetched), fetched=fetched, present=present, failed=failed)


if __name__ == "__main__":
    main()
