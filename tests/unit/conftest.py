"""Shared fixtures for the unit tests.

The collection is made importable as ``ansible_collections.hostnative.devpi`` through a symlink in a temporary
collections tree, so the tests import and run exactly the files Ansible ships.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def _collections_root(base: Path) -> Path:
    tree = base / "ansible_collections" / "hostnative"
    tree.mkdir(parents=True, exist_ok=True)
    link = tree / "devpi"
    if not link.exists():
        link.symlink_to(REPO)
    return base


# Importable from the start, so test modules can import the collection's code at their top.
_ROOT = _collections_root(Path(tempfile.mkdtemp(prefix="hostnative-devpi-collections-")))
sys.path.insert(0, str(_ROOT))


@pytest.fixture(scope="session")
def collections_root():
    return _ROOT


@pytest.fixture
def run_module(collections_root, tmp_path):
    """Run a module of this collection as Ansible does on a host: a Python process reading its args file."""

    def run(name, args, env=None, check_mode=False):
        payload = dict(args)
        if check_mode:
            payload["_ansible_check_mode"] = True
        args_file = tmp_path / f"{name}-args.json"
        args_file.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": payload}))
        environ = {**os.environ, "PYTHONPATH": str(collections_root), **(env or {})}
        done = subprocess.run(  # noqa: S603 - the interpreter running the tests, a module of this repo
            [sys.executable, "-m", f"ansible_collections.hostnative.devpi.plugins.modules.{name}", str(args_file)],
            capture_output=True,
            text=True,
            env=environ,
            timeout=300,
            check=False,
        )
        try:
            result = json.loads(done.stdout)
        except ValueError as exc:
            raise AssertionError(f"{name} printed no JSON: rc={done.returncode} {done.stdout} {done.stderr}") from exc
        result.setdefault("rc_process", done.returncode)
        return result

    return run
