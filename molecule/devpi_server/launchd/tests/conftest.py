"""testinfra setup shared by every scenario: molecule/shared/devpi_testinfra.py (hosts from Molecule's inventory)."""

import sys
from pathlib import Path

sys.path.insert(0, str(next(p / "shared" for p in Path(__file__).parents if (p / "shared").is_dir())))

from devpi_testinfra import api, pytest_generate_tests  # noqa: F401 - pytest finds the fixture and hook here
