#!/usr/bin/python
# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: devpi_venv
short_description: Keep a uv-managed virtualenv at exactly the pinned package versions
version_added: 1.0.0
description:
  - Makes sure the virtualenv at O(path) exists and holds every package of O(packages) at its pinned version.
  - When every pin is already satisfied nothing runs but a directory listing - no interpreter, no resolver, no network.
  - Otherwise creates the venv with C(uv venv) if needed and runs C(uv pip install) with the pins, from O(index_url)
    only, ignoring any uv configuration on the host (a host whose uv points at this very devpi can still rebuild it).
  - Changing a pin upgrades (or downgrades) the venv in place.
  - Never deletes a directory that is not a virtualenv; a broken venv (its interpreter gone) is recreated.
author:
  - hostnative.devpi contributors (@hostnative)
extends_documentation_fragment:
  - hostnative.devpi.attributes
options:
  path:
    description: Directory of the virtualenv.
    type: path
    required: true
  packages:
    description: Requirements pinned with C(==), for example V(devpi-server==6.20.3).
    type: list
    elements: str
    required: true
  python:
    description: Interpreter for a new venv (a name on E(PATH) or a path); uv never downloads one.
    type: str
    default: python3
  uv:
    description: Path of the uv executable.
    type: path
    required: true
  index_url:
    description: The only index packages are installed from.
    type: str
    default: https://pypi.org/simple
  ca_bundle:
    description: PEM bundle to verify the index's certificate with.
    type: path
  sources:
    description:
      - Local source directories of some of the pinned projects, by project name (a project of O(packages)).
      - Such a project is built from its directory (its build backend comes from O(index_url)) and must have the
        pinned version there; the pin decides, as for every other project, whether anything runs.
    type: dict
    default: {}
  relocatable:
    description:
      - Create a new venv with C(uv venv --relocatable), so that it keeps working when moved to another path (its
        scripts find their interpreter relative to themselves). An existing venv is left as it was created.
    type: bool
    default: false
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Install devpi-server and devpi-web
  hostnative.devpi.devpi_venv:
    path: /opt/devpi/venv
    packages: [devpi-server==6.20.3, devpi-web==5.1.1]
    uv: /opt/devpi/bin/uv

- name: The same, with a plugin built from a local source directory that has version 1.0.0
  hostnative.devpi.devpi_venv:
    path: /opt/devpi/venv
    packages: [devpi-server==6.20.3, devpi-web==5.1.1, hostnative-devpi-guard==1.0.0]
    sources:
      hostnative-devpi-guard: /opt/devpi/src/hostnative-devpi-guard
    uv: /opt/devpi/bin/uv

- name: An old devpi-server beside the live venv, movable into its place later
  hostnative.devpi.devpi_venv:
    path: /opt/devpi/venv.staged
    packages: [devpi-server==5.5.1, devpi-web==4.3.0, ruamel.yaml==0.17.40, setuptools==69.5.1]
    relocatable: true
    uv: /opt/devpi/bin/uv
"""

RETURN = r"""
before:
  description: Versions of the pinned projects before, null where absent.
  returned: always
  type: dict
  sample: {devpi-server: 6.20.2, devpi-web: 5.1.1}
after:
  description: Versions of the pinned projects after (in check mode, the pins).
  returned: always
  type: dict
  sample: {devpi-server: 6.20.3, devpi-web: 5.1.1}
created:
  description: Whether the venv was (or in check mode would be) created.
  returned: always
  type: bool
"""

import os
import shutil

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.hostnative.devpi.plugins.module_utils._venv import (
    installed_distributions,
    normalize_name,
    parse_pin,
    pins_missing,
    venv_python,
)


def uv_env(ca_bundle):
    env = {"UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1", "UV_NO_PROGRESS": "1"}
    if ca_bundle:
        env["SSL_CERT_FILE"] = ca_bundle
    return env


def parse_pins(module):
    pins = {}
    for spec in module.params["packages"]:
        parsed = parse_pin(spec)
        if parsed is None:
            module.fail_json(msg=f"packages: {spec!r} is not pinned as name==version")
        pins[parsed[0]] = parsed[1]
    return pins


def refuse_foreign_directory(module, path, result):
    """Never let `uv venv --clear` near a directory that is not a virtualenv (a typo must not delete data)."""
    if not os.path.exists(path):
        return
    foreign = not os.path.isdir(path) or (os.listdir(path) and not os.path.exists(os.path.join(path, "pyvenv.cfg")))
    if foreign:
        module.fail_json(msg=f"path: {path} exists and is not a virtualenv; refusing to replace it", **result)


def create_venv(module, path, env, result):
    python = module.params["python"]
    if not os.path.isabs(python):
        python = shutil.which(python) or python
    argv = [module.params["uv"], "venv", "--python", python, "--python-preference", "only-system"]
    if module.params["relocatable"]:
        argv.append("--relocatable")
    if os.path.exists(path):
        argv.append("--clear")  # only a venv whose interpreter is gone gets here
    rc, out, err = module.run_command([*argv, path], environ_update=env)
    if rc != 0:
        module.fail_json(msg=f"uv venv failed (rc={rc}): {err.strip() or out.strip()}", **result)


def parse_sources(module, pins):
    """Normalized project name -> source directory; every name must be one of the pins."""
    sources = {normalize_name(name): directory for name, directory in module.params["sources"].items()}
    unknown = sorted(set(sources) - set(pins))
    if unknown:
        module.fail_json(msg=f"sources: {', '.join(unknown)} not among the pinned packages")
    return sources


def requirements(module, sources):
    """The pins as uv reads them: name==version, or `name @ file://dir` for a project with a local source.

    Directories are looked at only here, when installing: in check mode on a new host they need not exist yet."""
    specs = []
    for spec in module.params["packages"]:
        name = parse_pin(spec)[0]
        directory = sources.get(name)
        if directory is None:
            specs.append(spec)
        elif not os.path.isdir(directory):
            module.fail_json(msg=f"sources: {name}: {directory} is not a directory")
        else:
            specs.append(f"{name} @ file://{os.path.abspath(directory)}")
    return specs


def install_pins(module, path, env, result, specs):
    params = module.params
    argv = [params["uv"], "pip", "install", "--python", venv_python(path), "--index-url", params["index_url"]]
    rc, out, err = module.run_command(argv + specs, environ_update=env)
    if rc != 0:
        module.fail_json(msg=f"uv pip install failed (rc={rc}): {err.strip() or out.strip()}", **result)
    still_missing = pins_missing(path, params["packages"])
    if still_missing:
        module.fail_json(msg=f"after uv pip install these pins are still not satisfied: {still_missing}", **result)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "packages": {"type": "list", "elements": "str", "required": True},
            "python": {"type": "str", "default": "python3"},
            "uv": {"type": "path", "required": True},
            "index_url": {"type": "str", "default": "https://pypi.org/simple"},
            "ca_bundle": {"type": "path"},
            "sources": {"type": "dict", "default": {}},
            "relocatable": {"type": "bool", "default": False},
        },
        supports_check_mode=True,
    )
    path = module.params["path"]
    pins = parse_pins(module)
    sources = parse_sources(module, pins)
    usable = os.access(venv_python(path), os.X_OK)
    have = installed_distributions(path) if usable else {}
    before = {name: have.get(name) for name in pins}
    result = {"changed": False, "before": before, "after": dict(before), "created": False}
    if usable and not pins_missing(path, module.params["packages"]):
        module.exit_json(**result)

    if not usable:
        refuse_foreign_directory(module, path, result)
    result.update(changed=True, created=not usable, after=dict(pins))
    result["diff"] = {
        "before": "".join(f"{n}=={v}\n" for n, v in sorted(before.items()) if v),
        "after": "".join(f"{n}=={v}\n" for n, v in sorted(pins.items())),
    }
    if module.check_mode:
        module.exit_json(**result)

    if not os.access(module.params["uv"], os.X_OK):
        module.fail_json(msg=f"uv: {module.params['uv']} is not an executable", **result)
    env = uv_env(module.params["ca_bundle"])
    if not usable:
        create_venv(module, path, env, result)
    install_pins(module, path, env, result, requirements(module, sources))
    after = installed_distributions(path)
    result["after"] = {name: after.get(name) for name in pins}
    module.exit_json(**result)


if __name__ == "__main__":
    main()
