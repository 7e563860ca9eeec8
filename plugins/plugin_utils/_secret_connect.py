# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The `connect` backend: 1Password Connect through onepasswordconnectsdk (runs on the controller)."""

from __future__ import annotations

import json
from urllib.parse import quote

from ansible_collections.hostnative.devpi.plugins.plugin_utils._secret_common import (
    SecretError,
    fail,
    looks_like_id,
    one,
)

try:
    import httpx
    from onepasswordconnectsdk.client import new_client
    from onepasswordconnectsdk.config import ClientConfig
    from onepasswordconnectsdk.errors import OnePasswordConnectSDKError
except ImportError as exc:  # reported when the backend is used, not when the lookup is loaded
    IMPORT_ERROR = exc
else:
    IMPORT_ERROR = None

NAME = "connect"


class ConnectBackend:
    """Reads fields of 1Password items; each item is fetched once per lookup call, however many fields are read."""

    def __init__(self, host, token, ca_file=None, timeout=10.0, retries=2):
        if IMPORT_ERROR is not None:
            raise SecretError(
                "the connect backend needs onepasswordconnectsdk on the controller "
                f"(pip install 'onepasswordconnectsdk>=2.1.0,<2.2'): {IMPORT_ERROR}"
            )
        if not host:
            raise SecretError("the connect backend needs the Connect server URL: set OP_CONNECT_HOST")
        if not token:
            raise SecretError("the connect backend needs a Connect token: set OP_CONNECT_TOKEN")
        self.host = host
        self.timeout = timeout
        config = ClientConfig(ca_file=ca_file, transport=httpx.HTTPTransport(retries=retries), timeout=timeout)
        self.client = new_client(host, token, config=config)
        self.vaults = None
        self.items = {}

    def read(self, ref):
        try:
            vault = self._vault(ref)
            item = self._item(ref, vault)
        except SecretError:
            raise
        except httpx.TimeoutException as exc:
            raise fail(ref, NAME, f"no answer from {self.host} within {self.timeout:g} s") from exc
        except httpx.ConnectError as exc:
            raise fail(ref, NAME, f"cannot connect to {self.host}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise fail(ref, NAME, f"HTTP error talking to {self.host}: {type(exc).__name__}") from exc
        except json.JSONDecodeError as exc:
            raise fail(
                ref, NAME, f"{self.host} answered with something that is not JSON (a proxy error page?)"
            ) from exc
        except OnePasswordConnectSDKError as exc:
            raise fail(ref, NAME, _sdk_cause(exc)) from exc
        return self._field(ref, item)

    def _vault(self, ref):
        if self.vaults is None:
            self.vaults = self.client.get_vaults()
        wanted = ref.vault.casefold()
        matches = [v for v in self.vaults if v.id == ref.vault or (v.name or "").casefold() == wanted]
        if not matches:
            raise fail(
                ref,
                NAME,
                f"vault {ref.vault!r} not found among the {len(self.vaults)} vault(s) this Connect token can see "
                "(a token reads only the vaults it was granted: check the vault's name and the token's access)",
            )
        return one(matches, f"vault {ref.vault!r}", ref, NAME)

    def _item(self, ref, vault):
        key = (vault.id, ref.item)
        if key not in self.items:
            if looks_like_id(ref.item):
                item_id = ref.item
            else:
                # The SDK puts the filter into the URL as it is; quote it so '&', '+' and spaces survive.
                summaries = self.client.get_items(vault.id, filter_query=quote(f'title eq "{ref.item}"', safe=""))
                if not summaries:
                    # Connect's filter is exact; 1Password references are case-insensitive.
                    wanted = ref.item.casefold()
                    summaries = [s for s in self.client.get_items(vault.id) if (s.title or "").casefold() == wanted]
                item_id = one(summaries, f"item {ref.item!r} in vault {vault.name!r}", ref, NAME).id
            self.items[key] = self.client.get_item_by_id(item_id, vault.id)
        return self.items[key]

    def _field(self, ref, item):
        fields = item.fields or []
        if ref.section is not None:
            wanted = ref.section.casefold()
            sections = [s for s in item.sections or [] if s.id == ref.section or (s.label or "").casefold() == wanted]
            section = one(sections, f"section {ref.section!r}", ref, NAME)
            fields = [f for f in fields if f.section is not None and f.section.id == section.id]
        wanted = ref.field.casefold()
        matches = [f for f in fields if f.id == ref.field or (f.label or "").casefold() == wanted]
        return one(matches, f"field {ref.field!r}", ref, NAME).value


def _sdk_cause(exc):
    """The SDK's message names the URL path and the server's message (never the token or a value)."""
    text = " ".join(str(exc).split())
    status = getattr(exc, "status_code", None)
    return f"HTTP {status}: {text}" if status else text
