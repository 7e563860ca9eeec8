#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: devpi_passwd
short_description: Set a devpi user's password in the server directory, without knowing the old one
version_added: 1.0.0
description:
  - For the host that owns devpi-server's server directory - typically to rotate C(root)'s password after the secret
    changed in the secret store, when the old password is no longer known.
  - First tries to log in at O(url) with O(password); when that works nothing is done.
  - Otherwise stops the service, runs C(devpi-passwd) (the password goes to its standard input, never on a command
    line) as O(run_as), starts the service again - also when C(devpi-passwd) failed - and waits until O(name) logs
    in with O(password).
  - devpi-passwd writes to the server's database directly, which is only safe while devpi-server is stopped.
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
options:
  url:
    description: Base URL of the running devpi-server, for example V(http://127.0.0.1:3141).
    type: str
    required: true
  name:
    description: The user whose password to set.
    type: str
    default: root
  password:
    description: The password the user should have.
    type: str
    required: true
  devpi_passwd:
    description: Path of the C(devpi-passwd) executable of the server's venv.
    type: path
    required: true
  config_file:
    description: The devpi-server configuration file (it names the server directory).
    type: path
    required: true
  run_as:
    description: Account to run C(devpi-passwd) as (the owner of the server directory); the module must run as root.
    type: str
  service_manager:
    description: How the service is run.
    type: str
    choices: [systemd, launchd]
    required: true
  service:
    description: The systemd unit, or for launchd the service target C(<domain>/<label>).
    type: str
    required: true
  launchd_plist:
    description: The launchd job's plist, to bootstrap it again (launchd only).
    type: path
  start_timeout:
    description: Seconds to wait for devpi to accept the new password after the start.
    type: int
    default: 120
  timeout:
    description: Seconds to wait for each HTTP request.
    type: int
    default: 10
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Give root the password from the secret store
  hostnative.devpi.devpi_passwd:
    url: http://127.0.0.1:3141
    password: "{{ devpi_root_password }}"
    devpi_passwd: /opt/devpi/venv/bin/devpi-passwd
    config_file: /etc/devpi/devpi-server.yml
    run_as: devpi
    service_manager: systemd
    service: devpi-server.service
  become: true
"""

RETURN = r"""
user:
  description: The user whose password was (or would have been) set.
  returned: always
  type: str
  sample: root
"""

import os
import pwd
import subprocess
import time

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._devpi_client import DevpiClient, DevpiError


def service_command(params, action):
    manager, service = params["service_manager"], params["service"]
    if manager == "systemd":
        return ["systemctl", action, service]
    if action == "stop":
        return ["launchctl", "bootout", service]
    return ["launchctl", "bootstrap", service.rsplit("/", 1)[0], params["launchd_plist"]]


def account(name):
    """subprocess keyword arguments that run a child as `name` (none when that is who runs the module)."""
    if not name:
        return {}, {}
    entry = pwd.getpwnam(name)
    if entry.pw_uid == os.getuid():
        return {}, {"HOME": entry.pw_dir}
    return {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}, {"HOME": entry.pw_dir}


def set_offline(module, password):
    params = module.params
    try:
        as_user, home = account(params["run_as"])
    except KeyError:
        module.fail_json(msg=f"run_as: account {params['run_as']!r} does not exist")
    rc, _out, err = module.run_command(service_command(params, "stop"))
    if rc != 0:
        module.fail_json(msg=f"could not stop {params['service']}: {err.strip()}")
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", **home}
    try:
        done = subprocess.run(  # noqa: S603 - fixed argv; the password goes to stdin only
            [params["devpi_passwd"], "-c", params["config_file"], params["name"]],
            input=f"{password}\n{password}\n",
            capture_output=True,
            text=True,
            env=env,
            cwd="/",
            # No controlling terminal: getpass then reads standard input instead of /dev/tty.
            start_new_session=True,
            timeout=300,
            check=False,
            **as_user,
        )
        error = None if done.returncode == 0 else f"devpi-passwd failed (rc {done.returncode}): {done.stderr[-2000:]}"
    except (OSError, subprocess.SubprocessError) as exc:
        error = f"devpi-passwd could not run: {type(exc).__name__}: {exc}"
    # Started again whatever happened: the server must not stay down.
    start_rc, _out, start_err = module.run_command(service_command(params, "start"))
    if error:
        module.fail_json(msg=error.strip())
    if start_rc != 0:
        module.fail_json(msg=f"password set, but {params['service']} did not start: {start_err.strip()}")


def wait_for_login(client, name, password, seconds):
    deadline = time.monotonic() + seconds
    while True:
        try:
            if client.can_login(name, password):
                return True
        except DevpiError:
            pass  # still starting
        if time.monotonic() > deadline:
            return False
        time.sleep(1)


def main():
    module = AnsibleModule(
        argument_spec={
            "url": {"type": "str", "required": True},
            "name": {"type": "str", "default": "root"},
            "password": {"type": "str", "required": True, "no_log": True},
            "devpi_passwd": {"type": "path", "required": True},
            "config_file": {"type": "path", "required": True},
            "run_as": {"type": "str"},
            "service_manager": {"type": "str", "choices": ["systemd", "launchd"], "required": True},
            "service": {"type": "str", "required": True},
            "launchd_plist": {"type": "path"},
            "start_timeout": {"type": "int", "default": 120},
            "timeout": {"type": "int", "default": 10},
        },
        required_if=[("service_manager", "launchd", ["launchd_plist"])],
        supports_check_mode=True,
    )
    params = module.params
    name, password = params["name"], params["password"]
    if not password:
        module.fail_json(msg="password must not be empty")
    client = DevpiClient(params["url"], timeout=params["timeout"])
    try:
        current = client.can_login(name, password)
    except DevpiError as exc:
        module.fail_json(msg=f"cannot tell whether {name}'s password is current: {exc}")
    if current or module.check_mode:
        module.exit_json(changed=not current, user=name)
    set_offline(module, password)
    if not wait_for_login(client, name, password, params["start_timeout"]):
        module.fail_json(
            msg=f"devpi-passwd ran, but {name} cannot log in with the new password at {params['url']} "
            f"within {params['start_timeout']}s (does user {name!r} exist?)"
        )
    module.exit_json(changed=True, user=name)


if __name__ == "__main__":
    main()
