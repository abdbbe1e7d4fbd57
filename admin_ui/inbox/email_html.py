"""An email's HTML for the timeline: sanitized, its images resolved, and split into the
sender's own words, their signature and the quoted history of earlier messages (the
last two folded away by the template; ``email_split`` finds where they start).

nh3 (Ammonia) keeps an allow-list of tags and attributes: no script, no event handler,
no style, no ``javascript:`` link; links get ``rel="noopener noreferrer"`` and open in a
new tab.

Images, by where they come from:

* ``cid:`` — an inline image sent with the mail (``MediaPart.content_id``): shown from
  the message's stored file of that Content-ID, or a small placeholder while the file
  is on its way (or was never there).
* ``data:image/…`` — carried in the mail itself: kept.
* ``http(s):`` — a *remote* image. Privacy: loading it tells the sender (or any tracker
  in a newsletter) that the mail was opened, when, and from which IP address, so it is
  replaced by a placeholder. The agent may ask for them per message; they are then
  loaded in a sandboxed frame (``email_frame``) whose own CSP allows remote images and
  nothing else. The page's CSP (``img-src 'self' data:``) would block them anyway.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

import nh3
from markupsafe import Markup

from admin_ui.inbox.email_split import split_html

STATIC = "/static/inbox/"
# What an image shows instead of a remote picture, and instead of an inline one whose
# file is not stored (yet). Plain files of our own, so the page's CSP lets them through.
REMOTE_PLACEHOLDER = STATIC + "remote-image.svg"
CID_PLACEHOLDER = STATIC + "inline-image.svg"
# Email bodies carry cid: and data: images besides the usual link schemes.
URL_SCHEMES = frozenset(nh3.ALLOWED_URL_SCHEMES | {"cid", "data"})
_DATA_IMAGE = re.compile(r"^data:image/(png|gif|jpeg|webp);base64,[A-Za-z0-9+/=\s]*$", re.I)
_REMOTE = re.compile(r"^(https?:)?//", re.I)
_LOCAL_SCHEME = re.compile(r"^\s*(cid|data):", re.I)
_URL_ATTRIBUTES = frozenset({"href", "src", "cite", "longdesc"})
# HTML nested deeper than this in block elements is not shown (its plain text is): the
# HTML parser takes quadratic time over such nesting, and a mail of a few hundred KB of
# "<div>" would hold every page view, and the hub's event loop, for minutes.
MAX_DEPTH = 1000
# Nor HTML longer than this (2 MB of text: mail with pictures embedded as data: URLs, or
# made to be slow): it is cleaned in the request, on every view.
MAX_HTML_CHARS = 2_000_000
_BLOCK = re.compile(
    r"<(/?)(div|blockquote|ul|ol|dl|section|article|aside|center|details|fieldset|"
    r"figure|footer|header|main|nav|menu|dir|hgroup|address|dialog|summary)\b",
    re.IGNORECASE,
)
# An image whose source was dropped shows nothing but an empty box: dropped with it
# (nh3's output is normalized: attributes quoted, tags lower-case).
_SOURCELESS_IMAGE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")


@dataclass(frozen=True)
class Images:
    """How the HTML's images are resolved: ``by_cid`` maps a Content-ID (lower-cased,
    without <>) to the URL of its stored file, or None while there is none; ``remote``
    loads remote images as they are (only in the sandboxed frame)."""

    by_cid: Mapping[str, str | None] = field(default_factory=dict)
    remote: bool = False


@dataclass
class _Seen:
    """What one cleaning met: the remote images it blocked, the Content-IDs it showed."""

    remote: int = 0
    cids: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class EmailBody:
    """An email's sanitized HTML: the sender's words, their signature and the quoted
    history (each None when the mail has none), how many remote images were blocked,
    and the Content-IDs shown in place (their files need no second showing)."""

    html: Markup
    quoted: Markup | None
    signature: Markup | None = None
    remote_images: int = 0
    inline_cids: frozenset[str] = frozenset()


def normalize_cid(value: str) -> str:
    """A Content-ID as the mail's HTML and its part spell it alike: without ``cid:``
    or angle brackets, lower-cased (RFC 2392 compares them case-insensitively)."""
    value = value.strip()
    if value[:4].lower() == "cid:":
        value = value[4:]
    return value.strip().strip("<>").lower()


def _image_source(value: str, images: Images, seen: _Seen) -> str | None:
    """What an ``<img src>`` becomes (None drops it)."""
    if value[:4].lower() == "cid:":
        cid = normalize_cid(value)
        url = images.by_cid.get(cid)
        if url is None:
            return CID_PLACEHOLDER
        seen.cids.add(cid)
        return url
    if value[:5].lower() == "data:":
        return value if _DATA_IMAGE.match(value) else None
    if _REMOTE.match(value):
        if images.remote and value[:6].lower() == "https:":
            return value
        seen.remote += 1
        return REMOTE_PLACEHOLDER
    return None  # a relative path would reach the hub itself: never from a mail


def clean(html: str, images: Images | None = None, seen: _Seen | None = None) -> Markup:
    """``html`` with only harmless tags and attributes left, its images resolved."""
    wanted, met = images or Images(), seen if seen is not None else _Seen()

    def attribute(element: str, name: str, value: str) -> str | None:
        if element == "img" and name == "src":
            return _image_source(value, wanted, met)
        if name in _URL_ATTRIBUTES and _LOCAL_SCHEME.match(value):
            return None  # cid: and data: only as an image's source, never a link
        return value

    cleaned = _SOURCELESS_IMAGE.sub(
        "",
        nh3.clean(
            html,
            link_rel="noopener noreferrer",
            # A link in a mail opens a new tab, never in place of the inbox.
            set_tag_attribute_values={"a": {"target": "_blank"}},
            url_schemes=set(URL_SCHEMES),
            attribute_filter=attribute,
        ),
    )
    return Markup(cleaned)  # noqa: S704 - sanitized


def showable(html: str) -> bool:
    """Whether the HTML may be cleaned and shown: not over ``MAX_HTML_CHARS``, not
    nested deeper than ``MAX_DEPTH``. Otherwise the mail's plain text is shown."""
    return len(html) <= MAX_HTML_CHARS and not too_deep(html)


def too_deep(html: str) -> bool:
    """Whether the HTML nests block elements deeper than ``MAX_DEPTH`` (a linear scan,
    before the parser would take quadratic time over it)."""
    depth = 0
    for match in _BLOCK.finditer(html):
        depth = max(depth - 1, 0) if match.group(1) else depth + 1
        if depth > MAX_DEPTH:
            return True
    return False


def email_body(html: str, images: Images | None = None) -> EmailBody:
    """The email's HTML split into own words, signature and quoted history; each piece
    sanitized on its own, so a tag left open in one cannot swallow the next."""
    pieces = split_html(html)
    seen = _Seen()
    own = clean(pieces.own, images, seen)
    signature = clean(pieces.signature, images, seen) if pieces.signature else None
    quoted = clean(pieces.quoted, images, seen) if pieces.quoted else None
    return EmailBody(own, quoted, signature, seen.remote, frozenset(seen.cids))
