"""testinfra setup: the shared helpers in molecule/shared/devpi_testinfra.py, hosts from Molecule's inventory."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "shared"))

from devpi_testinfra import Api, use_molecule_hosts  # noqa: E402 - importable only after the path insert above


def pytest_generate_tests(metafunc):
    use_molecule_hosts(metafunc)


@pytest.fixture
def api(host):
    return Api(host)
