"""Walking a mail's MIME tree: the section numbers of its leaf parts, their bytes, names
and Content-IDs.

A **section** is the dotted path of a part, numbered from 1 like IMAP's body sections:
the children of a multipart are ``1``, ``2``…, their children ``2.1``, ``2.2``…; a mail
that is not multipart has one leaf, ``1``. A ``message/*`` part (a forwarded mail, a
delivery report) is a leaf: it is kept whole, not entered. The empty section ``""`` is
the whole raw mail. ``MediaPart.provider_media_id`` is ``"{uidvalidity}:{uid}:{section}"``
and ``extract_part`` finds the part again by the same walk, so the two always agree.
"""

from __future__ import annotations

import mimetypes
import re
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import Message
from functools import lru_cache

from hub_email.mime_headers import clean

_REGISTRY = HeaderRegistry()


_UNPARSED = type("_UnparsedHeader", (UnstructuredHeader, BaseHeader), {})


@lru_cache(maxsize=4096)
def _header(name: str, value: str) -> BaseHeader:
    """``policy.default``'s parsed header, memoized, and never raising.

    The library parses a header again on every read (``get_content_type`` alone reads
    Content-Type many times per part), which was most of the parse time; parsed headers
    are immutable, so sharing them is safe. Its structured parsers also raise on some
    malformed values (``Message-ID: <`` raises IndexError), which would make a whole
    mail unreadable for one bad header: such a header is kept as plain text instead.
    """
    try:
        header: BaseHeader = _REGISTRY(name, value)
    except Exception:  # a structured parser's bug: the value stays as unstructured text
        header = _UNPARSED(name, value)
    return header


MAIL_POLICY = policy.default.clone(header_factory=_header)
"""``policy.default`` (decoded headers, ``EmailMessage``) with memoized header parsing."""


def read_mail(raw: bytes) -> Message:
    """A raw mail parsed with ``MAIL_POLICY``."""
    return message_from_bytes(raw, policy=MAIL_POLICY)


# Names for nameless parts whose type the mimetypes table does not know.
_NAMES = {
    "application/ms-tnef": "winmail.dat",
    "message/rfc822": "message-{section}.eml",
    "message/delivery-status": "delivery-status-{section}.txt",
    "message/disposition-notification": "disposition-{section}.txt",
    "text/rfc822-headers": "headers-{section}.txt",
}


def is_container(part: Message) -> bool:
    """A multipart whose children were parsed (a multipart without its boundary is a
    leaf holding the unparsed text)."""
    return part.get_content_maintype() == "multipart" and isinstance(part.get_payload(), list)


def leaves(msg: Message) -> Iterator[tuple[str, Message]]:
    """Every leaf part with its section, depth first, in the order of the mail."""
    if not is_container(msg):
        yield "1", msg
        return
    yield from _children(msg, "")


def _children(part: Message, prefix: str) -> Iterator[tuple[str, Message]]:
    payload = part.get_payload()
    assert isinstance(payload, list)
    for index, child in enumerate(payload, start=1):
        section = f"{prefix}{index}"
        if isinstance(child, Message) and is_container(child):
            yield from _children(child, section + ".")
        elif isinstance(child, Message):
            yield section, child


def find_part(msg: Message, section: str) -> Message:
    """The leaf part at ``section``; ``KeyError`` when the mail has none there."""
    for found, part in leaves(msg):
        if found == section:
            return part
    raise KeyError(f"the mail has no part {section!r}")


def part_bytes(part: Message) -> bytes:
    """The decoded bytes of a leaf part (a ``message/*`` part: the enclosed mail)."""
    payload = part.get_payload()
    if part.get_content_maintype() == "message" and isinstance(payload, list):
        return b"\n".join(inner.as_bytes() for inner in payload if isinstance(inner, Message))
    decoded = part.get_payload(decode=True)
    return decoded if isinstance(decoded, bytes) else b""


def content_id_of(part: Message) -> str | None:
    """The part's Content-ID without angle brackets (as ``cid:`` URLs name it)."""
    raw = [str(v) for k, v in part.raw_items() if k.lower() == "content-id"]
    if not raw:
        return None
    value = clean(raw[0]).strip().strip("<>").strip()
    return value or None


def _decoded_words(value: str) -> str:
    """RFC 2047 encoded words decoded (some clients put them in ``name=``)."""
    try:
        return str(make_header(decode_header(value)))
    except Exception:  # not really encoded words: keep the name as sent
        return value


def filename_of(part: Message) -> str | None:
    """The part's file name: RFC 2231 (``filename*=``) and RFC 2047 (``=?…?=`` in
    ``name=``) decoded, any folder path dropped."""
    try:
        name = part.get_filename() or part.get_param("name")
    except Exception:  # a broken parameter means no usable name
        return None
    if isinstance(name, tuple):  # an RFC 2231 value the policy left undecoded
        name = name[2]
    if not isinstance(name, str):
        return None
    if "=?" in name:
        name = _decoded_words(name)
    name = re.split(r"[\\/]", clean(name))[-1].strip()
    return name or None


def _forwarded_subject(part: Message) -> str | None:
    """The subject of an attached mail, made safe for a file name."""
    payload = part.get_payload()
    if not (isinstance(payload, list) and payload and isinstance(payload[0], Message)):
        return None
    raw = [str(v) for k, v in payload[0].raw_items() if k.lower() == "subject"]
    if not raw:
        return None
    name = re.sub(r'[\\/:*?"<>|]+', " ", clean(_decoded_words(raw[0])))
    return " ".join(name.split()) or None


def fallback_filename(part: Message, section: str) -> str:
    """A name for a part that has none, from its type (``part-2.1.pdf``)."""
    content_type = part.get_content_type()
    if content_type == "message/rfc822":
        subject = _forwarded_subject(part)
        if subject:
            return f"{subject[:100]}.eml"
    if content_type in _NAMES:
        return _NAMES[content_type].format(section=section)
    extension = mimetypes.guess_extension(content_type) or ".bin"
    return f"part-{section}{extension}"
