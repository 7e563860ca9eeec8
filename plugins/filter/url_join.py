# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The url_join filter; documentation in url_join.yml beside this file."""

from __future__ import annotations

from urllib.parse import urljoin

from ansible.errors import AnsibleFilterError


def url_join(base, reference):
    """`reference` resolved against `base` as a browser or pip does (RFC 3986): absolute, /rooted or ../relative."""
    if not isinstance(base, str) or not isinstance(reference, str):
        raise AnsibleFilterError(f"url_join: base and reference must be strings, got {base!r} and {reference!r}")
    return urljoin(base, reference)


class FilterModule:
    def filters(self):
        return {"url_join": url_join}
