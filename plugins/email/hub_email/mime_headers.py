"""Reading a mail's headers without ever raising: text, addresses, Message-IDs, dates.

The standard library's ``policy.default`` parses a header when it is read and can raise
on a malformed one; every reader here falls back to the raw value and a looser parse.
Raw 8-bit header bytes (UTF-8 sent without RFC 2047, or a legacy charset) arrive as
surrogate escapes; ``clean`` turns them back into text so nothing unencodable reaches
the database or JSON.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from hub_email.mime_charset import decode_text

_MSG_ID = re.compile(r"<([^<>\s]+)>")
_SURROGATES = re.compile(r"[\udc80-\udcff]")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def clean(value: str) -> str:
    """Text safe to store: surrogate-escaped raw bytes decoded, control characters
    (CR, LF and the like, but not tab) made spaces."""
    if _SURROGATES.search(value):
        value = decode_text(value.encode("utf-8", "surrogateescape"), None)
    return _CONTROL.sub(" ", value)


def _raw_values(msg: Message, name: str) -> list[str]:
    """The raw (unparsed) values of header ``name``, in order."""
    wanted = name.lower()
    return [str(value) for key, value in msg.raw_items() if key.lower() == wanted]


def _decode_raw(value: str) -> str:
    """An RFC 2047 header decoded by the lenient legacy decoder, else as it is."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # a header this broken is shown as sent
        return value


def header_text(msg: Message, name: str) -> str | None:
    """The decoded, unfolded text of the first header ``name``, or ``None``."""
    try:
        value = msg.get(name)
        text = None if value is None else str(value)
    except Exception:  # the strict parser failed: fall back to the raw text
        raw = _raw_values(msg, name)
        text = _decode_raw(raw[0]) if raw else None
    if text is None:
        return None
    return " ".join(clean(text).split())


def addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """The (display name, lower-cased address) pairs of every header ``name``; entries
    without an ``@`` (groups, garbage) are left out."""
    found: list[tuple[str, str]] = []
    try:
        for header in msg.get_all(name) or []:
            for address in getattr(header, "addresses", ()):
                found.append((str(address.display_name), str(address.addr_spec)))
    except Exception:  # fall back to the lenient parser
        found = [(n, a) for n, a in getaddresses([_decode_raw(v) for v in _raw_values(msg, name)])]
    pairs: list[tuple[str, str]] = []
    for display, address in found:
        address = clean(address).strip().strip("<>").lower()
        if "@" in address and " " not in address:
            pairs.append((" ".join(clean(display).split()), address))
    return pairs


def formatted(display: str, address: str) -> str:
    """``Name <address>``, or the bare address when there is no name."""
    if not display:
        return address
    if any(c in display for c in ',;<>@"()[]:\\'):
        display = '"' + display.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return f"{display} <{address}>"


def message_ids(value: str | None) -> list[str]:
    """Every ``<id>`` in a header value, without the brackets; a bare id with an ``@``
    when nothing is bracketed (some clients forget them)."""
    if not value:
        return []
    found = _MSG_ID.findall(value)
    if not found:
        found = [token for token in value.split() if "@" in token]
    return [clean(found_id).strip() for found_id in found if found_id.strip()]


def message_id(msg: Message) -> str | None:
    """The mail's own Message-ID without angle brackets, or ``None``."""
    raw = _raw_values(msg, "Message-ID")
    ids = message_ids(raw[0]) if raw else []
    return ids[0] if ids else None


def date_of(msg: Message) -> datetime | None:
    """The Date header as an aware datetime (a zone-less date is taken as UTC)."""
    raw = _raw_values(msg, "Date")
    if not raw:
        return None
    try:
        parsed = parsedate_to_datetime(" ".join(raw[0].split()))
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
