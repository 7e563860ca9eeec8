# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The invalid_networks filter; documentation in invalid_networks.yml beside this file."""

from __future__ import annotations

import ipaddress


def _is_network(value):
    if not isinstance(value, str) or "/" not in value:
        return False
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError:
        return False
    return True


def invalid_networks(networks):
    """The entries of a list that are not CIDR networks (address/prefix length), in the order given."""
    if isinstance(networks, str) or not isinstance(networks, (list, tuple)):
        return [networks]
    return [network for network in networks if not _is_network(network)]


class FilterModule:
    def filters(self):
        return {"invalid_networks": invalid_networks}
