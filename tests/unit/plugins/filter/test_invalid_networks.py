"""invalid_networks: the entries that are not CIDR networks, in process."""

from __future__ import annotations

import pytest
from ansible_collections.hostnative.devpi.plugins.filter.invalid_networks import invalid_networks


@pytest.mark.parametrize(
    "network",
    ["10.0.0.0/8", "127.0.0.1/32", "0.0.0.0/0", "::1/128", "fd00::/8", "10.0.0.1/8", " 192.168.1.0/24 "],
)
def test_networks_pass(network):
    assert invalid_networks([network]) == []


@pytest.mark.parametrize(
    "network",
    ["10.0.0.0/33", "10.0.0.0", "::1/129", "300.0.0.0/8", "10.0.0.0/-1", "example.org/24", "", None, 10, "1.0.0.0/8/8"],
)
def test_non_networks_are_returned(network):
    assert invalid_networks(["10.0.0.0/8", network]) == [network]


def test_a_string_or_mapping_instead_of_a_list_is_invalid_whole():
    assert invalid_networks("10.0.0.0/8") == ["10.0.0.0/8"]
    assert invalid_networks({"a": 1}) == [{"a": 1}]
