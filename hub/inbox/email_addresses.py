"""Email addresses an agent types (a reply's CC), checked before anything is stored, so
the outbox never meets an address it cannot put in a header.

Deliberately strict and simple: one bare address per entry (``name@example.com``), no
display name, no comments, no quoting, no whitespace — nothing that could smuggle a
second recipient or a header line into the mail. Internationalized domains are
accepted; the mail server has the last word on whether the address exists.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from hub.errors import Invalid

MAX_CC = 20
MAX_LENGTH = 254
_LOCAL = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
_LABEL = r"[^\W_]([^\W_]|-){0,61}"
_ADDRESS = re.compile(rf"{_LOCAL}@{_LABEL}(\.{_LABEL})+")


def is_address(text: str) -> bool:
    """Whether ``text`` is one bare email address."""
    local, _, _ = text.partition("@")
    return len(text) <= MAX_LENGTH and len(local) <= 64 and bool(_ADDRESS.fullmatch(text))


def check_cc(addresses: Sequence[str], field: str = "cc") -> list[str]:
    """The CC addresses as stored: stripped, each once (compared case-insensitively, the
    first spelling kept). 422 naming the entry (``cc.2``) that is not an address, or
    ``cc`` for more than ``MAX_CC``."""
    found: dict[str, str] = {}
    for index, raw in enumerate(addresses):
        address = raw.strip()
        if not is_address(address):
            raise Invalid(
                f"{field}.{index}",
                f"{raw[:100]!r} is not an email address: one address like name@example.com",
            )
        found.setdefault(address.lower(), address)
    if len(found) > MAX_CC:
        raise Invalid(field, f"at most {MAX_CC} addresses")
    return list(found.values())
