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
    """Install the finder over a collections tree holding this checkout; returns the tree's root.

    A checkout that already is .../ansible_collections/hostnative/devpi (the tree `make mutation` builds) is used
    where it is; otherwise a fresh tree links to it.
    """
    if REPO.parents[1].name == "ansible_collections" and REPO.parent.name == "hostnative" and REPO.name == "devpi":
        root = REPO.parents[2]
        _AnsibleCollectionFinder(paths=[str(root)])._install()
        return root
    root = Path(tempfile.mkdtemp(prefix="hostnative-devpi-collections-"))
    tree = root / "ansible_collections" / "hostnative"
    tree.mkdir(parents=True)
    (tree / "devpi").symlink_to(REPO)
    _AnsibleCollectionFinder(paths=[str(root)])._install()
    return root
