"""devpi_server on launchd: devpi's log goes to a file devpi rotates itself. The role's logging configuration
(`_devpi_server_logging` in vars/main.yml, as written to logging.json) given to a real devpi-server through
--logger-cfg, with a tiny size: requests fill the log, it is rotated, and no more than the configured files stay.
(launchd itself cannot run here; molecule/devpi_server/launchd checks the file is written and named in the config.)
"""

from __future__ import annotations

import json

import yaml
from conftest import REPO, api, start_devpi, stop_devpi

VARS = yaml.safe_load((REPO / "roles/devpi_server/vars/main.yml").read_text())


def test_devpi_rotates_its_own_log_with_the_roles_configuration(tmp_path):
    config = VARS["_devpi_server_logging"]
    handler = config["handlers"]["file"]
    assert handler["maxBytes"].startswith("{{ (devpi_server_launchd_log_max_mb | int) * 1048576")
    log = tmp_path / "logs" / "org.devpi.server.log"
    log.parent.mkdir()
    handler.update(filename=str(log), maxBytes=2000, backupCount=2)
    (tmp_path / "logging.json").write_text(json.dumps(config))
    url, proc = start_devpi(tmp_path / "server", extra_args=["--logger-cfg", str(tmp_path / "logging.json")])
    try:
        for _request in range(60):
            assert api(url + "/+api")[0] == 200
    finally:
        stop_devpi(proc)
    files = sorted(path.name for path in log.parent.iterdir())
    assert files == ["org.devpi.server.log", "org.devpi.server.log.1", "org.devpi.server.log.2"]
    assert all(path.stat().st_size <= 2000 + 500 for path in log.parent.iterdir())
    assert "GET /+api" in (log.parent / "org.devpi.server.log.1").read_text()
    # devpi logged to the file only: nothing of the requests went to its stdout.
    assert "GET /+api" not in (tmp_path / "server.log").read_text()
