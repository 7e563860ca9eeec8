"""Makes this checkout importable as ``ansible_collections.hostnative.devpi`` for the test suites.

A symlink in a temporary collections tree, found through Ansible's own collection finder (as ansible-playbook loads
the collection), so tests import and run exactly the files Ansible ships.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from ansible.utils.collection_loader._collection_finder import _AnsibleCollectionFinder

REPO = Path(__file__).resolve().parents[2]


def install() -> Path:
    """Install the finder over a fresh collections tree holding this checkout; returns the tree's root."""
    root = Path(tempfile.mkdtemp(prefix="hostnative-devpi-collections-"))
    tree = root / "ansible_collections" / "hostnative"
    tree.mkdir(parents=True)
    (tree / "devpi").symlink_to(REPO)
    _AnsibleCollectionFinder(paths=[str(root)])._install()
    return root
