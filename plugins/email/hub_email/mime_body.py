"""The body of a mail (its plain text and HTML) and its other parts (files, inline
images), read part by part so that one broken part never loses the rest.

The body is chosen by structure, as mail clients do: in ``multipart/alternative`` the
first plain part and the last HTML part (parts run from least to most preferred); in
``multipart/related`` its start part (RFC 2387: the ``start`` parameter, else the first
child); in ``multipart/mixed`` and other multiparts, the first child that has a body. A
part with ``Content-Disposition: attachment`` is never the body. Every other leaf is a
file (``MediaPart``), except an unnamed inline text part after the body (Apple Mail's
text around an inline image), which is added to the text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import Message

from hub.contract import MediaPart, UnsupportedPart, media_kind_of

from hub_email.mime_charset import decode_text
from hub_email.mime_html import html_to_text
from hub_email.mime_walk import (
    content_id_of,
    fallback_filename,
    filename_of,
    is_container,
    leaves,
    part_bytes,
)


@dataclass
class Body:
    """What a mail says and carries, ready to become content parts."""

    text: str = ""
    html: str | None = None
    files: list[MediaPart | UnsupportedPart] = field(default_factory=list)


def _is_attachment(part: Message) -> bool:
    try:
        return part.get_content_disposition() == "attachment"
    except Exception:  # an unreadable disposition is taken as inline
        return False


def _body_candidates(part: Message) -> tuple[Message | None, Message | None]:
    """The (plain, html) body parts under ``part``, by the rules in the module doc."""
    if _is_attachment(part):
        return None, None
    content_type = part.get_content_type()
    if content_type == "text/plain":
        return part, None
    if content_type == "text/html":
        return None, part
    if not is_container(part):
        return None, None
    children = [child for child in part.get_payload() if isinstance(child, Message)]
    if content_type == "multipart/alternative":
        plain: Message | None = None
        html: Message | None = None
        for child in children:
            child_plain, child_html = _body_candidates(child)
            plain = plain or child_plain
            html = child_html or html
        return plain, html
    if content_type == "multipart/related" and children:
        start = str(part.get_param("start") or "").strip().strip("<>")
        root = next((c for c in children if start and content_id_of(c) == start), children[0])
        return _body_candidates(root)
    for child in children:
        found = _body_candidates(child)
        if found != (None, None):
            return found
    return None, None


def text_of(part: Message) -> str:
    """The decoded text of a text part, whatever its declared charset."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    return decode_text(data, part.get_content_charset())


def _file_part(part: Message, section: str, media_id_prefix: str) -> MediaPart:
    """A leaf that is not the body, as a file to fetch later by its section."""
    content_type = part.get_content_type()
    if part.get_content_maintype() == "multipart":
        content_type = "text/plain"  # a multipart without its boundary: its raw text
    return MediaPart(
        media_kind=media_kind_of(content_type),
        provider_media_id=f"{media_id_prefix}{section}",
        mime_type=content_type,
        filename=filename_of(part) or fallback_filename(part, section),
        size=len(part_bytes(part)),
        content_id=content_id_of(part),
    )


def read_body(msg: Message, media_id_prefix: str) -> Body:
    """The body and files of ``msg``; a part that cannot be read becomes an
    ``UnsupportedPart`` saying why, and the others are still read."""
    body = Body()
    try:
        plain, html = _body_candidates(msg)
    except Exception:  # no body found: every leaf is then a file
        plain, html = None, None
    if (
        plain is None
        and html is None
        and msg.get_content_maintype() in ("text", "multipart")
        and not is_container(msg)
        and not _is_attachment(msg)
    ):
        plain = msg  # a multipart without its boundary, text/enriched…: its text
    extra_texts: list[str] = []
    for section, part in leaves(msg):
        try:
            if part is plain:
                body.text = text_of(part)
            elif part is html:
                body.html = text_of(part)
            elif (
                part.get_content_type() == "text/plain"
                and not _is_attachment(part)
                and filename_of(part) is None
                and (plain is not None or html is not None)
            ):
                extra_texts.append(text_of(part))
            else:
                body.files.append(_file_part(part, section, media_id_prefix))
        except Exception as error:  # one broken part must not lose the rest
            body.files.append(
                UnsupportedPart(
                    raw_type=part.get_content_type(),
                    description=f"Part {section} could not be read: {error}",
                )
            )
    if plain is None and body.html is not None:
        try:
            body.text = html_to_text(body.html)
        except Exception:  # the HTML is still kept beside an empty text
            body.text = ""
    body.text = "\n\n".join(t for t in [body.text, *extra_texts] if t.strip())
    return body
