# Copyright: contributors to hostnative.devpi
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Secret references (1Password's op:// syntax) and the error every backend raises.

Messages name the reference, the backend and the cause; they never contain a secret value or a token.
"""

from __future__ import annotations

import re
from typing import NamedTuple

REFERENCE_FORM = "op://<vault>/<item>/[<section>/]<field>[?<query>]"
_ID = re.compile(r"^[a-z0-9]{26}$")
# op read's query parameters (?attribute=otp, ?ssh-format=openssh, ...): name=value pairs joined by '&'.
_QUERY = re.compile(r"^[a-z][a-z-]*=[^&=\s]+(?:&[a-z][a-z-]*=[^&=\s]+)*$")


class SecretError(Exception):
    """A secret could not be read; the message is safe to show."""


class SecretRef(NamedTuple):
    text: str
    vault: str
    item: str
    section: str | None
    field: str
    query: str | None = None


def parse_reference(text):
    """Parse op://vault/item/[section/]field[?query]; names may contain spaces, never '/' (1Password's own rule)."""
    if not isinstance(text, str) or not text.startswith("op://"):
        raise SecretError(f"secret reference {text!r} is malformed: expected {REFERENCE_FORM}")
    path, mark, query = text[len("op://") :].partition("?")
    parts = path.split("/")
    if any(not part.strip() for part in parts) or (mark and not _QUERY.match(query)):
        raise SecretError(f"secret reference {text!r} is malformed: expected {REFERENCE_FORM}")
    if len(parts) == len(("vault", "item", "field")):
        return SecretRef(text, parts[0], parts[1], None, parts[2], query or None)
    if len(parts) == len(("vault", "item", "section", "field")):
        return SecretRef(text, *parts, query or None)
    raise SecretError(f"secret reference {text!r} is malformed: expected {REFERENCE_FORM}")


def looks_like_id(name):
    """1Password IDs are 26 lower-case letters and digits."""
    return bool(_ID.match(name))


def fail(ref, backend, cause):
    return SecretError(f"secret {ref.text} ({backend} backend): {cause}")


def one(matches, what, ref, backend):
    """Exactly one match, or an error saying how many matched."""
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise fail(ref, backend, f"{what} not found")
    raise fail(ref, backend, f"{what} is ambiguous ({len(matches)} match); use its ID to pick one")
