"""`ansible-galaxy collection build` ships the collection and nothing of the development tree."""

from __future__ import annotations

import subprocess
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
DEV_ONLY = (
    ".ci/",
    ".cache/",
    ".config/",
    ".git/",
    ".venv/",
    "benchmarks/",
    "build/",
    "molecule/",
    "tests/",
    "Makefile",
    "mise.toml",
    "inventories/",
    "pyproject.toml",
    "uv.lock",
    "changelogs/fragments/",
)


def test_artifact_holds_the_collection_and_no_dev_files(tmp_path):
    galaxy = Path(sys.executable).parent / "ansible-galaxy"
    subprocess.run(  # noqa: S603 - the project's own ansible-galaxy
        [galaxy, "collection", "build", "--output-path", str(tmp_path), str(REPO)], check=True, capture_output=True
    )
    (artifact,) = tmp_path.glob("hostnative-devpi-*.tar.gz")
    with tarfile.open(artifact) as tar:
        names = tar.getnames()
    assert "MANIFEST.json" in names
    assert "roles/devpi_server/tasks/main.yml" in names
    assert "plugins/modules/devpi_server_info.py" in names
    assert "meta/runtime.yml" in names
    leaked = sorted(n for n in names for dev in DEV_ONLY if n == dev.rstrip("/") or n.startswith(dev))
    assert leaked == []
