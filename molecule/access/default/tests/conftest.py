"""testinfra setup shared by every scenario: molecule/shared/devpi_testinfra.py (hosts from Molecule's inventory)."""

import sys
from pathlib import Path

sys.path.insert(0, str(next(p / "shared" for p in Path(__file__).parents if (p / "shared").is_dir())))

import devpi_testinfra

# pytest looks for its hook and fixtures in conftest.py itself.
pytest_generate_tests = devpi_testinfra.pytest_generate_tests
api = devpi_testinfra.api
