"""uv_install's download in process: the sha256 covers every byte of a wheel of several MiB, as it arrives in blocks."""

from __future__ import annotations

import hashlib
import io
import os

import pytest
from ansible_collections.hostnative.devpi.plugins.modules import uv_install


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (3 << 20) + 12345])
def test_download_hashes_and_writes_every_block(monkeypatch, tmp_path, size):
    body = os.urandom(size)
    monkeypatch.setattr(uv_install, "open_url", lambda url, timeout, ca_path: io.BytesIO(body))
    target = tmp_path / "uv.whl"
    digest = uv_install.download("https://pypi.example/files/uv.whl", 10, None, str(target))
    assert digest == hashlib.sha256(body).hexdigest()
    assert target.read_bytes() == body
