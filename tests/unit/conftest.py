"""The unit tests run in process: they import the collection's modules, filters and plugin code and call them - no
subprocess, no network, no ansible-playbook, no devpi-server (those are in tests/integration)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "harness"))

import collection_finder  # from tests/harness, on the path just above

collection_finder.install()
