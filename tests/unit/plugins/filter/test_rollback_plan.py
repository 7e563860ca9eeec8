"""rollback_plan: from registered write results to what restores the files, in process."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.rollback_plan import rollback_plan


def test_nothing_changed_nothing_to_do():
    writes = [{"path": "/a", "result": {"changed": False}}, {"path": "/b", "result": {}}]
    assert rollback_plan(writes) == {"restore": [], "backups": []}


def test_the_first_change_of_a_path_holds_its_state_before_the_run():
    writes = [
        {"path": "/etc/caddy/sites/devpi.caddy", "result": {"changed": True}},  # new file: no backup
        {"path": "/etc/caddy/Caddyfile", "result": {"changed": True, "backup_file": "/etc/caddy/Caddyfile.1~"}},
        {"path": "/etc/caddy/Caddyfile", "result": {"changed": True, "backup": "/etc/caddy/Caddyfile.2~"}},
        {"path": "/etc/caddy/Caddyfile", "result": {"changed": False}},
    ]
    assert rollback_plan(writes) == {
        "restore": [
            {"path": "/etc/caddy/sites/devpi.caddy", "backup": ""},
            {"path": "/etc/caddy/Caddyfile", "backup": "/etc/caddy/Caddyfile.1~"},
        ],
        "backups": ["/etc/caddy/Caddyfile.1~", "/etc/caddy/Caddyfile.2~"],
    }


def test_lineinfile_without_a_backup_says_empty_string():
    writes = [{"path": "/f", "result": {"changed": True, "backup": ""}}]
    assert rollback_plan(writes) == {"restore": [{"path": "/f", "backup": ""}], "backups": []}


@pytest.mark.parametrize("writes", ["/f", [{"result": {}}], ["x"]])
def test_bad_input_is_an_error_naming_the_filter(writes):
    with pytest.raises(AnsibleFilterError, match="rollback_plan"):
        rollback_plan(writes)
