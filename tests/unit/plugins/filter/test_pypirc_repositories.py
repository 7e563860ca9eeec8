"""The pypirc_repositories filter: runbook-style names and defaults; each bad item fails naming its position."""

from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError
from ansible_collections.hostnative.devpi.plugins.filter.pypirc_repositories import pypirc_repositories

BASE = "https://devpi.example.org:4040/"


def test_runbook_names_and_defaults():
    got = pypirc_repositories(
        [{"name": "packages/stable"}, {"name": "packages/staging"}, {"name": "eblume/dev", "repository": "mine"}],
        BASE,
    )
    assert got["names"] == ["devpi-stable", "devpi-staging", "mine"]
    assert got["settings"]["distutils"] == {"index-servers": ["devpi-stable", "devpi-staging", "mine"]}
    assert got["settings"]["devpi-stable"] == {
        "repository": "https://devpi.example.org:4040/packages/stable/",
        "username": "packages",
    }
    assert got["settings"]["mine"]["username"] == "eblume"


def test_username_and_ca_bundle():
    got = pypirc_repositories([{"name": "packages/dev", "username": "ci"}], BASE, "/etc/devpi-client/ca-bundle.pem")
    assert got["settings"]["devpi-dev"]["username"] == "ci"
    assert got["settings"]["devpi-dev"]["ca_cert"] == "/etc/devpi-client/ca-bundle.pem"


def test_empty_list_gives_nothing():
    assert pypirc_repositories([], BASE) == {"names": [], "settings": {}}


@pytest.mark.parametrize(
    ("items", "message"),
    [
        ([{"name": "stable"}], "devpi_client_upload_indexes[0]: name 'stable' must be an index name"),
        ([{}], "devpi_client_upload_indexes[0]: name '' must be"),
        ([{"name": "a/dev"}, {"name": "b/dev"}], "devpi_client_upload_indexes[1]: repository 'devpi-dev' (b/dev)"),
        ([{"name": "a/x", "repository": "distutils"}], "repository 'distutils' must be a .pypirc section"),
        ([{"name": "a/x", "repository": "has space"}], "repository 'has space' must be"),
        (["packages/stable"], "devpi_client_upload_indexes[0]: must be a mapping"),
    ],
)
def test_bad_items_fail_naming_the_position(items, message):
    with pytest.raises(AnsibleFilterError) as caught:
        pypirc_repositories(items, BASE)
    assert message in str(caught.value)


def test_password_is_never_part_of_the_result():
    got = pypirc_repositories([{"name": "a/x", "password": "unit-Secret-1"}], BASE)
    assert "unit-Secret-1" not in repr(got)
