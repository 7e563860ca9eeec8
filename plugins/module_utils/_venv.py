# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers shared by the venv-related modules: read what a virtualenv holds without running its interpreter."""

from __future__ import annotations

import glob
import os
import re
import subprocess

_NAME_RE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)\s*==\s*([A-Za-z0-9][A-Za-z0-9.+!_-]*)$")
_UV_VERSION_RE = re.compile(r"^uv (\d+\.\d+\.\d+\S*)")


def normalize_name(name):
    """PEP 503 normalisation: 'Devpi_Server' and 'devpi-server' are the same project."""
    return re.sub(r"[-_.]+", "-", name).lower()


def parse_pin(spec):
    """Split 'name==version' into (normalized name, version); None when the spec is not an exact pin."""
    match = _NAME_RE.match(spec.strip())
    if not match:
        return None
    return normalize_name(match.group(1)), match.group(2)


def installed_distributions(venv):
    """Map normalized project name -> version for every distribution in the venv's site-packages.

    Reads the *.dist-info directory names (PEP 427/376: '<name>-<version>.dist-info'), which is what
    installers write; no interpreter is started, so this costs a directory listing.
    """
    found = {}
    pattern = os.path.join(venv, "lib", "python*", "site-packages", "*.dist-info")
    for path in glob.glob(pattern):
        stem = os.path.basename(path)[: -len(".dist-info")]
        name, sep, version = stem.rpartition("-")
        if sep:
            found[normalize_name(name)] = version
    return found


def pins_missing(venv, pins):
    """The pins (list of 'name==version') that the venv does not satisfy, in the order given."""
    have = installed_distributions(venv)
    missing = []
    for spec in pins:
        parsed = parse_pin(spec)
        if parsed is None or have.get(parsed[0]) != parsed[1]:
            missing.append(spec)
    return missing


def venv_python(venv):
    return os.path.join(venv, "bin", "python")


def uv_version(executable):
    """Version string of a uv executable, or None when it does not run."""
    try:
        out = subprocess.run(  # noqa: S603 - fixed argv, no shell; the path comes from the module's own options
            [executable, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    match = _UV_VERSION_RE.match(out.stdout.strip())
    return match.group(1) if out.returncode == 0 and match else None
