#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: devpi_server_info
short_description: Read the state of a devpi-server deployment on a host in one round trip
version_added: 1.0.0
description:
  - Reports, without changing anything, what the M(hostnative.devpi.devpi_server) role needs to decide what to do
    on a host - files and their checksums, the packages installed in the venv, the uv executable, the service
    account, the service state, and what the running devpi-server says about itself.
  - One module call replaces a dozen stat/command/uri tasks, so a re-run that has nothing to change is fast.
  - The role compares the result with what it wants and runs only the tasks whose target differs.
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
options:
  paths:
    description:
      - Files and directories to describe.
      - For a regular file the SHA-1 checksum of its content is returned.
    type: list
    elements: path
    default: []
  venv:
    description: Path of a virtualenv whose installed distributions to list.
    type: path
  pins:
    description:
      - Requirements pinned as C(name==version) to compare with what O(venv) holds; the ones it does not satisfy
        are returned in RV(pins_missing) (names compared PEP 503-normalized, versions exactly).
    type: list
    elements: str
    default: []
  uv_candidates:
    description:
      - uv executables to look for, in order; a bare name is searched on E(PATH).
      - The first one that runs is reported with its version.
    type: list
    elements: str
    default: []
  user:
    description: Name of an account to look up.
    type: str
  group:
    description: Name of a group to look up.
    type: str
  service_manager:
    description: How the service is run; selects how O(service) is queried.
    type: str
    choices: [systemd, launchd]
  service:
    description:
      - The systemd unit name, or for launchd the service target C(<domain>/<label>),
        for example C(gui/501/org.example.devpi).
    type: str
  config_file:
    description:
      - A devpi-server configuration file as the role writes it - a C(devpi-server:) mapping with one option per line,
        each value a JSON string (a double-quoted YAML scalar).
      - Its keys are returned, so a changed server directory can be noticed before anything is written; a file in
        any other form reads as empty.
    type: path
  server_url:
    description:
      - Base URL of the devpi-server to ask, for example C(http://127.0.0.1:3141).
      - Only asked when the service is active; anonymous requests only.
    type: str
  server_timeout:
    description: Seconds to wait for each request to O(server_url).
    type: int
    default: 5
  root_password:
    description:
      - A password to try logging in as C(root) with (nothing is changed); the answer is V(server.root_password_valid).
    type: str
  nodeinfo:
    description:
      - Path of a server directory's C(.nodeinfo), the JSON file in which devpi records the directory's role and
        uuid, and for a replica its primary. Read into RV(nodeinfo).
    type: path
  disk_path:
    description:
      - A path (the server directory) whose file system's free and total bytes are returned in RV(disk).
    type: path
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
notes:
  - Read-only; runs the same in check mode.
"""

EXAMPLES = r"""
- name: Read the deployment's state
  hostnative.devpi.devpi_server_info:
    paths: [/etc/devpi/devpi-server.yml, /var/lib/devpi/server/.nodeinfo]
    venv: /opt/devpi/venv
    uv_candidates: [/opt/devpi/bin/uv, uv]
    user: devpi
    group: devpi
    service_manager: systemd
    service: devpi-server.service
    config_file: /etc/devpi/devpi-server.yml
    server_url: http://127.0.0.1:3141
  register: devpi_state
"""

RETURN = r"""
paths:
  description: One entry per requested path.
  returned: always
  type: dict
  sample:
    /etc/devpi/devpi-server.yml:
      {exists: true, type: file, mode: "0640", owner: root, group: devpi, checksum: "3c1f..."}
    /var/lib/devpi/server/.nodeinfo: {exists: false}
pins_missing:
  description: The entries of O(pins) that O(venv) does not satisfy, in the order given (all of them without a venv).
  returned: always
  type: list
  elements: str
  sample: [devpi-server==6.20.3]
packages:
  description: Normalized project name to version for every distribution in O(venv); empty when there is no venv.
  returned: always
  type: dict
  sample: {devpi-server: 6.20.3, devpi-web: 5.1.1}
uv:
  description: The first working uv of O(uv_candidates), or nulls.
  returned: always
  type: dict
  sample: {path: /opt/devpi/bin/uv, version: 0.13.8}
user:
  description: Whether O(user) exists, with its uid, gid and home.
  returned: always
  type: dict
  sample: {exists: true, uid: 999, gid: 999, home: /var/lib/devpi}
group:
  description: Whether O(group) exists, with its gid.
  returned: always
  type: dict
  sample: {exists: true, gid: 999}
service:
  description:
    - Whether the service is running (V(active)) and starts at boot or login (V(enabled)).
    - V(restarts) counts systemd's automatic restarts since the last explicit start (null under launchd or when
      systemd does not say); above 0 right after a (re)start, the service crashed since.
    - V(pid) and V(rss_bytes) - the running service's main process and its resident memory (null when not running
      or unknown).
  returned: always
  type: dict
  sample: {active: true, enabled: true, restarts: 0, pid: 4242, rss_bytes: 104857600}
disk:
  description: Free and total bytes of the file system of O(disk_path); empty without it or when it does not exist.
  returned: always
  type: dict
  sample: {free_bytes: 52613349376, size_bytes: 105226698752}
config:
  description:
    - The keys of the C(devpi-server:) mapping in O(config_file), values as strings; empty when it does not exist;
      lines not in the form the role writes are left out.
  returned: always
  type: dict
  sample: {serverdir: /var/lib/devpi/server, port: "3141"}
nodeinfo:
  description:
    - What O(nodeinfo) records - V(role) (V(primary), V(standalone) or V(replica); devpi's older V(master) reads as
      V(primary)), V(uuid), and for a replica V(primary_url) and V(primary_uuid) (null until its first sync).
    - Empty when O(nodeinfo) is not given, does not exist or is not devpi's JSON.
  returned: always
  type: dict
  sample: {role: replica, uuid: 1637ee91..., primary_url: "http://primary:3141", primary_uuid: 4f267d71...}
server:
  description:
    - What the running server says. V(reachable) is false when the service is not active or does not answer.
    - V(root_pypi) is the configuration of the C(root/pypi) index, or null when it does not exist.
    - V(root_password_empty) is true when C(root) can log in with an empty password.
    - V(root_password_valid) is true when C(root) can log in with O(root_password), null when that was not given
      or the server was not reachable.
    - V(listener) says who holds the port of O(server_url) - V(devpi) (it answers there, or the service is active
      with that port in O(config_file)), V(other) (another program accepts connections there), or V(none).
  returned: always
  type: dict
  sample:
    reachable: true
    root_pypi: {type: mirror, mirror_no_project_list: true}
    root_password_empty: false
    root_password_valid: true
    listener: devpi
"""

import grp
import hashlib
import json
import os
import pwd
import re
import shutil
import socket
import stat
import subprocess
from urllib.parse import urlsplit

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import DevpiClient, DevpiError
from ansible_collections.hostnative.devpi.plugins.module_utils._venv import (
    installed_distributions,
    pins_missing,
    uv_version,
)

# One option of the config the role renders: `  key: "JSON string"`.
_CONFIG_LINE_RE = re.compile(r'^  ([a-z][a-z0-9-]*): ("(?:[^"\\]|\\.)*")\s*$')


def describe_path(path):
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return {"exists": False}
    if stat.S_ISDIR(st.st_mode):
        kind = "directory"
    elif stat.S_ISLNK(st.st_mode):
        kind = "link"
    elif stat.S_ISREG(st.st_mode):
        kind = "file"
    else:
        kind = "other"
    info = {
        "exists": True,
        "type": kind,
        "mode": f"{stat.S_IMODE(st.st_mode):04o}",
        "owner": _name_or_id(pwd.getpwuid, st.st_uid),
        "group": _name_or_id(grp.getgrgid, st.st_gid),
    }
    if kind == "file":
        digest = hashlib.sha1()  # noqa: S324 - content checksum compared with Ansible's own sha1 checksums, not security
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(65536), b""):
                digest.update(block)
        info["checksum"] = digest.hexdigest()
    return info


def _name_or_id(lookup, number):
    try:
        return lookup(number)[0]
    except KeyError:
        return str(number)


def find_uv(candidates):
    for candidate in candidates:
        path = candidate if os.path.isabs(candidate) else shutil.which(candidate)
        if path and os.access(path, os.X_OK):
            version = uv_version(path)
            if version:
                return {"path": path, "version": version}
    return {"path": None, "version": None}


def describe_user(name):
    if not name:
        return {"exists": False}
    try:
        entry = pwd.getpwnam(name)
    except KeyError:
        return {"exists": False}
    return {"exists": True, "uid": entry.pw_uid, "gid": entry.pw_gid, "home": entry.pw_dir}


def describe_group(name):
    if not name:
        return {"exists": False}
    try:
        return {"exists": True, "gid": grp.getgrnam(name).gr_gid}
    except KeyError:
        return {"exists": False}


def _run(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)  # noqa: S603 - fixed argv
    except (OSError, subprocess.SubprocessError):
        return 127, ""
    return done.returncode, done.stdout.strip()


def describe_service(manager, service):
    if not manager or not service:
        return {"active": False, "enabled": False, "restarts": None, "pid": None, "rss_bytes": None}
    if manager == "systemd":
        rc_active = _run(["systemctl", "is-active", "--quiet", service])[0]
        rc_enabled = _run(["systemctl", "is-enabled", "--quiet", service])[0]
        # Automatic restarts (Restart=) since the last explicit start: > 0 right after a restart means it crashed.
        rc_show, shown = _run(["systemctl", "show", "--property", "NRestarts,MainPID", service])
        props = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line) if rc_show == 0 else {}
        restarts, pid = props.get("NRestarts", ""), props.get("MainPID", "")
        pid = int(pid) if pid.isdigit() and int(pid) > 0 else None
        return {
            "active": rc_active == 0,
            "enabled": rc_enabled == 0,
            "restarts": int(restarts) if restarts.isdigit() else None,
            "pid": pid,
            "rss_bytes": rss_bytes(pid),
        }
    # launchd: a service that is bootstrapped into its domain is loaded; RunAtLoad/KeepAlive make it run.
    rc, out = _run(["launchctl", "print", service])
    loaded = rc == 0
    running = loaded and re.search(r"^\s*state = running\s*$", out, re.MULTILINE) is not None
    found = re.search(r"^\s*pid = ([0-9]+)\s*$", out, re.MULTILINE) if running else None
    pid = int(found.group(1)) if found else None
    return {"active": running, "enabled": loaded, "restarts": None, "pid": pid, "rss_bytes": rss_bytes(pid)}


def rss_bytes(pid):
    """The resident memory of process `pid` (/proc on Linux, ps elsewhere); None when unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    rc, out = _run(["ps", "-o", "rss=", "-p", str(pid)])
    return int(out) * 1024 if rc == 0 and out.isdigit() else None


def describe_disk(path):
    """Free and total bytes of the file system holding `path` (empty when it does not exist)."""
    if not path:
        return {}
    try:
        usage = shutil.disk_usage(path)
    except OSError:
        return {}
    return {"free_bytes": usage.free, "size_bytes": usage.total}


def read_config(path):
    """The `devpi-server:` mapping the role renders: one `  key: "JSON string"` line per option."""
    if not path or not os.path.isfile(path):
        return {}
    keys = {}
    in_section = False
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.rstrip() == "devpi-server:":
                in_section = True
                continue
            if in_section and line.strip() and not line[0].isspace():
                break
            match = _CONFIG_LINE_RE.match(line) if in_section else None
            if match:
                try:
                    keys[match.group(1)] = json.loads(match.group(2))
                except ValueError:
                    continue
    return keys


def read_nodeinfo(path):
    """The role, uuid and primary a server directory's .nodeinfo records; {} when there is none to read."""
    try:
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
    except (OSError, TypeError, ValueError):
        return {}
    if not isinstance(data, dict) or not isinstance(data.get("role"), str):
        return {}
    role = "primary" if data["role"] == "master" else data["role"]
    info = {"role": role, "uuid": data.get("uuid")}
    if role == "replica":
        info["primary_url"] = data.get("primary-url", data.get("masterurl"))
        info["primary_uuid"] = data.get("primary-uuid", data.get("master-uuid"))
    return info


def port_open(url, timeout):
    """Whether something accepts TCP connections at the URL's host and port."""
    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname, parts.port or 80), timeout=timeout):
            return True
    except (OSError, ValueError):
        return False


def listener(url, timeout, active, reachable, config_port):
    """Who holds the server URL's port: devpi (this service), another program, or nobody."""
    if reachable or (active and str(urlsplit(url).port) == str(config_port)):
        return "devpi"
    return "other" if port_open(url, timeout) else "none"


def describe_server(url, timeout, active, root_password=None, config_port=None):
    result = {"reachable": False, "root_pypi": None, "root_password_empty": False, "root_password_valid": None}
    if not url:
        return {**result, "listener": "none"}
    if not active:
        return {**result, "listener": listener(url, timeout, active, False, config_port)}
    client = DevpiClient(url, timeout=timeout)  # anonymous: the probe only reads
    try:
        client.request("GET", "/+api")
        result["reachable"] = True
        result["root_pypi"] = client.get("/root/pypi")
        result["root_password_empty"] = client.can_login("root", "")
        if root_password:
            result["root_password_valid"] = client.can_login("root", root_password)
    except DevpiError:
        pass  # not answering (yet): reported as not reachable, with what was learnt before
    result["listener"] = listener(url, timeout, active, result["reachable"], config_port)
    return result


def main():
    module = AnsibleModule(
        argument_spec={
            "paths": {"type": "list", "elements": "path", "default": []},
            "venv": {"type": "path"},
            "pins": {"type": "list", "elements": "str", "default": []},
            "uv_candidates": {"type": "list", "elements": "str", "default": []},
            "user": {"type": "str"},
            "group": {"type": "str"},
            "service_manager": {"type": "str", "choices": ["systemd", "launchd"]},
            "service": {"type": "str"},
            "config_file": {"type": "path"},
            "server_url": {"type": "str"},
            "server_timeout": {"type": "int", "default": 5},
            "root_password": {"type": "str", "no_log": True},
            "nodeinfo": {"type": "path"},
            "disk_path": {"type": "path"},
        },
        supports_check_mode=True,
    )
    params = module.params
    service = describe_service(params["service_manager"], params["service"])
    config = read_config(params["config_file"])
    module.exit_json(
        changed=False,
        paths={path: describe_path(path) for path in params["paths"]},
        packages=installed_distributions(params["venv"]) if params["venv"] else {},
        pins_missing=pins_missing(params["venv"], params["pins"]) if params["venv"] else list(params["pins"]),
        uv=find_uv(params["uv_candidates"]),
        user=describe_user(params["user"]),
        group=describe_group(params["group"]),
        service=service,
        config=config,
        nodeinfo=read_nodeinfo(params["nodeinfo"]),
        disk=describe_disk(params["disk_path"]),
        server=describe_server(
            params["server_url"],
            params["server_timeout"],
            service["active"],
            params["root_password"],
            config.get("port"),
        ),
    )


if __name__ == "__main__":
    main()
